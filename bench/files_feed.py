"""A large ERP count file through the file feed: memory and throughput of the pull and of the read-back.

A CSV of N rows (``--quick``: 100,000; full: 1,000,000, about 40 MB) is generated from a fixed pattern, then:

* ``pull, streamed``: the connector's ``pull_events`` with the limits raised to fit the file (``max_rows`` = N),
  the file hashed and parsed as a stream, every row an event;
* ``read-back, folded``: a fresh connector's read-back once the file was processed on three days (three copies
  in ``processed/``): the latest count per position is kept (``retained_mb``);
* ``pull at default limits``: the same file with the default ``max_rows``/``max_file_bytes``: when over a limit,
  it goes to ``failed/`` with its report;
* the baselines, same run and file: main's whole-file read (bytes, decoded text, every CSV line and every record
  held at once, then rows and events; reconstructed here from main's ``parse_csv``) and main's read-back cache
  (every row of every processed file kept, with its time).

``peak_mb`` is tracemalloc's peak over the operation (Python allocations; the process RSS is higher), and
``retained_mb`` what is still allocated after it (the events a pull returns are counted as retained: the engine
holds them until applied). ``rows_per_s`` comes from a second, untraced run. Tests never assert on time.
"""

from __future__ import annotations

import asyncio
import csv
import gc
import hashlib
import io
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._logs import quiet_logs
from connectors.files.client import FilesConnector, file_ref
from connectors.files.parsing import CountRow, parse_counts
from connectors.files.settings import FilesSettings
from omnibridge.sdk import decode_spreadsheet
from omnibridge.sdk.channel import StockChangeEvent, StockChangeKind

QUICK_ROWS = 100_000
FULL_ROWS = 1_000_000
MB = 1024 * 1024
T0 = 1_790_000_000.0
READ_BACK_FILES = 3


def write_file(path: Path, rows: int) -> int:
    """A count file of ``rows`` rows (SKUs x 4 locations, with ``counted_at``); returns its size in bytes."""
    with open(path, "w", newline="") as handle:
        handle.write("sku,location,quantity,counted_at\n")
        for n in range(rows):
            handle.write(f"SKU-{n // 4:07d},LOC{n % 4},{n % 97},2026-11-30T09:00:00Z\n")
    return path.stat().st_size


def measure(rows: int) -> dict[str, Any]:
    """Every mode on one generated file of ``rows`` rows; the report's figures and table rows."""
    with tempfile.TemporaryDirectory(prefix="bench-files-") as folder, quiet_logs():
        root = Path(folder)
        inbox, processed = root / "inbox", root / "inbox" / "processed"
        processed.mkdir(parents=True)
        source = root / "counts.csv"
        size = write_file(source, rows)
        raised = {"max_rows": rows, "max_file_bytes": size}

        def streamed() -> Any:
            _copy(source, inbox / "counts.csv")
            return _pull(_connector(inbox, **raised))

        def whole() -> Any:
            _copy(source, inbox / "counts.csv")
            return _whole_file_pull(inbox / "counts.csv")

        def at_defaults() -> Any:
            _copy(source, inbox / "counts.csv")
            return _pull(_connector(inbox))

        table = [
            _row("pull, streamed", rows, size, streamed),
            _row("pull, whole file (baseline: main)", rows, size, whole),
        ]
        for leftover in inbox.glob("*.csv"):
            leftover.unlink()
        for day in range(1, READ_BACK_FILES + 1):  # the ERP's daily full count, processed on each of these days
            _copy(source, processed / f"counts-day{day}.csv")
        table.append(
            _row("read-back, folded", rows * READ_BACK_FILES, size, lambda: _read_back(_connector(inbox, **raised)))
        )
        table.append(
            _row(
                "read-back, every row kept (baseline: main)",
                rows * READ_BACK_FILES,
                size,
                lambda: _whole_read_back(processed),
            )
        )
        for path in processed.glob("*.csv"):
            path.unlink()
        table.append(_row("pull at default limits", rows, size, at_defaults))
    defaults = FilesSettings(inbox=Path("inbox"))
    return {
        "rows_in_file": rows,
        "file_mb": round(size / MB, 1),
        "default_max_rows": defaults.max_rows,
        "default_max_file_bytes": defaults.max_file_bytes,
        "pull_peak_mb": table[0]["peak_mb"],
        "pull_peak_mb_baseline": table[1]["peak_mb"],
        "read_back_retained_mb": table[2]["retained_mb"],
        "read_back_retained_mb_baseline": table[3]["retained_mb"],
        "default_limits_outcome": table[4]["outcome"],
        "table": table,
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    result = measure(QUICK_ROWS if quick else FULL_ROWS)
    table = result.pop("table")
    return {
        "title": f"file feed: one {result['rows_in_file']:,}-row count file ({result['file_mb']} MB)",
        "rows": table,
        **result,
        "notes": [
            "peak_mb: tracemalloc peak during the operation; retained_mb: still allocated after it (a pull's events "
            "are held by the engine until applied). rows_per_s from a second, untraced run.",
            "Baselines reconstruct main's read path on the same file: the whole file as bytes and text, every CSV "
            "line and record at once, then rows and events; main's read-back cache kept every row of every "
            "processed file. On main, a 1,000,000-row file cost 928 MB (issue 15).",
        ],
    }


def _row(mode: str, rows: int, size: int, operation: Callable[[], Any]) -> dict[str, Any]:
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = operation()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    outcome = _outcome(kept)
    del kept
    gc.collect()
    started = time.perf_counter()
    again = operation()
    seconds = time.perf_counter() - started
    del again
    return {
        "mode": mode,
        "rows": rows,
        "outcome": outcome,
        "peak_mb": round((peak - base) / MB, 1),
        "retained_mb": round((current - base) / MB, 1),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds) if seconds > 0 else 0,
        "file_mb": round(size / MB, 1),
    }


def _outcome(kept: Any) -> str:
    if isinstance(kept, str):
        return kept
    if isinstance(kept, FilesConnector):
        return f"{kept._read_back.positions:,} positions kept"
    if isinstance(kept, list):
        return f"{len(kept):,} events"
    return f"{sum(len(rows) for rows in kept.values()):,} rows kept"


def _connector(inbox: Path, **limits: int) -> FilesConnector:
    settings = FilesSettings.model_validate({"inbox": inbox, "stable_seconds": 0, **limits})
    return FilesConnector(settings)


def _copy(source: Path, target: Path) -> None:
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(MB):
            writer.write(chunk)


def _pull(connector: FilesConnector) -> Any:
    result = asyncio.run(connector.pull_events(None))
    for path in connector.settings.failed_dir.glob("*") if connector.settings.failed_dir.is_dir() else []:
        path.unlink()
    if result.messages:
        return "failed/ (over a limit)"
    (connector.settings.inbox / "counts.csv").unlink()
    return result.events


def _read_back(connector: FilesConnector) -> FilesConnector:
    asyncio.run(connector.list_locations())  # folds processed/; the connector keeps what the read-back needs
    return connector


def _whole_file_pull(path: Path) -> list[StockChangeEvent]:
    """main's pull of one CSV: bytes, text and every line and record at once, then rows and events."""
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    text = decode_spreadsheet(content)
    lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    header = [cell.strip().lower() for cell in lines[0]]
    records = [(number, dict(zip(header, cells, strict=True))) for number, cells in enumerate(lines[1:], start=2)]
    parsed = parse_counts(path.name, content, zone=UTC)
    read_at = datetime.fromtimestamp(T0, UTC)
    events = [
        StockChangeEvent(
            file_ref(digest, row.row),
            StockChangeKind.COUNT,
            row.sku,
            row.location,
            row.quantity,
            row.counted_at or read_at,
        )
        for row in parsed.rows
    ]
    del content, text, lines, records, parsed
    path.unlink()
    return events


def _whole_read_back(folder: Path) -> dict[str, list[tuple[datetime, CountRow]]]:
    """main's read-back cache: every processed file parsed whole and every row kept with its time."""
    cache: dict[str, list[tuple[datetime, CountRow]]] = {}
    for path in sorted(folder.glob("*.csv")):
        parsed = parse_counts(path.name, path.read_bytes(), zone=UTC)
        cache[path.name] = [(row.counted_at or datetime.fromtimestamp(T0, UTC), row) for row in parsed.rows]
    return cache
