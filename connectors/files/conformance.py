"""The files connector under the conformance kit. Its "emulator" is the folder itself: the control drops files
into the inbox the way an ERP does (under a temporary name, then renamed) and reports where each one ended up.

A folder has no HTTP status codes, rate limits or lost responses: ``refused_requests`` is always 0 and
``fail_next`` makes folder operations fail as a file server would (permission denied, I/O errors);
``lose_next_response`` is not supported (a file feed is never written to: ``NotImplementedError``).
"""

from __future__ import annotations

import errno
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.files import connector as files_spec
from connectors.files.client import FilesConnector, drop_file
from connectors.files.parsing import CountRow, parse_counts
from connectors.files.settings import FilesSettings
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, FileOutcome, MapperFixture

LOCATION = "MAIN"
UTC_ZONE = UTC


class FolderControl(EmulatorControl):
    """The back door of a file feed: the inbox, ``processed/`` and ``failed/`` folders."""

    def __init__(self, settings: FilesSettings, connector: FilesConnector) -> None:
        self.settings = settings
        self.connector = connector
        self._seeds = itertools.count(1)

    def refused_requests(self) -> int:
        return 0

    def api_requests(self) -> int:
        return self.connector.operations

    def fail_next(self, status: int, *, count: int = 1) -> None:
        """The next ``count`` folder operations fail as a file server would: 401/403 as permission denied,
        429 and 5xx as a transient I/O error (a share hiccuping), anything else as an invalid request."""
        error: OSError
        if status in (401, 403):
            error = PermissionError(errno.EACCES, f"Permission denied (injected {status})")
        elif status == 429 or status >= 500:
            error = OSError(errno.EIO, f"Input/output error (injected {status})")
        else:
            error = OSError(errno.EINVAL, f"Invalid argument (injected {status})")
        remaining = [count]

        def fail(op: str) -> None:
            if remaining[0] > 0:
                remaining[0] -= 1
                raise error

        self.connector.before_io = fail

    def drop_file(self, name: str, content: bytes) -> None:
        """Write ``name`` into the inbox under a temporary name, then rename it: it appears complete."""
        drop_file(self.settings.inbox, name, content)

    def file_outcome(self, name: str) -> FileOutcome:
        """``processed``/``failed`` (with the report) once moved there, else ``pending``."""
        failed = _find(self.settings.failed_dir, name)
        if failed is not None:
            report = self.settings.failed_dir / f"{failed.name}.errors.txt"
            return FileOutcome("failed", report.read_text(encoding="utf-8") if report.exists() else "")
        if _find(self.settings.processed_dir, name) is not None:
            return FileOutcome("processed")
        return FileOutcome("pending")

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        """Make ``sku`` show ``quantity`` at ``location_ref``: a count file the ERP sent and omnibridge processed,
        counted later than anything seeded before."""
        number = next(self._seeds)
        counted = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
        folder = self.settings.processed_dir
        folder.mkdir(parents=True, exist_ok=True)
        temporary = folder / f".seed-{number}.csv.tmp"
        temporary.write_text(
            f"sku,location,quantity,counted_at\n{sku},{location_ref},{quantity},{counted.isoformat()}\n",
            encoding="utf-8",
        )
        os.replace(temporary, folder / f"seed-{number:04d}.csv")

    def sample_file(self, *, valid: bool = True) -> tuple[str, bytes]:
        """A count file the connector accepts (``valid``) or one with a bad row that it must reject."""
        if valid:
            return "counts-good.csv", f"sku,location,quantity\nCONF-SKU-1,{LOCATION},4\n".encode()
        return "counts-bad.csv", f"sku,location,quantity\nCONF-SKU-1,{LOCATION},ten\n".encode()


def _find(folder: Path, name: str) -> Path | None:
    """``name`` in ``folder``, or the renamed copy the connector made when the name was taken (``stem-<sha8>``)."""
    if (folder / name).is_file():
        return folder / name
    path = Path(name)
    matches = sorted(folder.glob(f"{path.stem}-????????{path.suffix}")) if folder.is_dir() else []
    return matches[-1] if matches else None


class FilesHarness(ConformanceHarness):
    """Each session gets fresh folders in a temporary directory and a connector built by the spec's factory."""

    spec = files_spec
    rate_probe_requests = 5

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        with tempfile.TemporaryDirectory(prefix="omnibridge-files-") as root:
            inbox = Path(root) / "inbox"
            inbox.mkdir()
            settings = FilesSettings(
                inbox=inbox,
                outbox=Path(root) / "outbox",
                stable_seconds=0,
                locations=[LOCATION],
                io_retry_seconds=0.01,
            )
            assert files_spec.factory is not None
            connector = files_spec.factory(settings)
            assert isinstance(connector, FilesConnector)
            try:
                yield ConformanceSession(
                    connector, settings, FolderControl(settings, connector), "CONF-SKU-1", LOCATION
                )
            finally:
                await connector.aclose()

    async def process_files(self, session: ConformanceSession) -> None:
        """Two pulls, as the engine makes them: the first reads (and rejects bad files), the second, given the
        first one's bookmark (the engine stores it once the events are applied), moves what was read."""
        connector: FilesConnector = session.connector
        first = await connector.pull_events(None)
        await connector.pull_events(first.bookmark)

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        def parse_csv(payload: bytes) -> list[CountRow]:
            return parse_counts("counts.csv", payload, zone=UTC_ZONE).rows

        def parse_json(payload: bytes) -> list[CountRow]:
            return parse_counts("counts.json", payload, zone=UTC_ZONE).rows

        at = datetime(2026, 11, 30, 14, 5, tzinfo=UTC)
        return (
            MapperFixture(
                "csv-counts",
                b"sku,location,quantity,counted_at\nTENT-1,WH1,12,2026-11-30T14:05:00Z\nLAMP-2,WH1,0,\n",
                parse_csv,
                [CountRow(2, "TENT-1", "WH1", 12, at), CountRow(3, "LAMP-2", "WH1", 0, None)],
            ),
            MapperFixture(
                "json-counts",
                b'{"counts": [{"sku": "TENT-1", "location": "WH1", "quantity": 12,'
                b' "counted_at": "2026-11-30T14:05:00Z"}]}',
                parse_json,
                [CountRow(1, "TENT-1", "WH1", 12, at)],
            ),
        )
