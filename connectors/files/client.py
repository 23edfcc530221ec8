"""The file-feed connector: stock counts an ERP/WMS drops into a folder become COUNT events; order and shipment
exports are written to an outbox folder. With ``purchase_orders`` set the feed is a dropship supplier's: it writes
purchase orders (:mod:`connectors.files.purchase_orders`) and reads the supplier's acknowledgements and ship
confirmations from the inbox (:mod:`connectors.files.supplier_files`), with the same once-only handling as counts.

Crash safety (nothing read is lost, nothing is applied twice). The engine stores a pull's bookmark only after
applying its events, so a file is never moved on the pull that reads it. Each pull returns, in its bookmark,
the files it read (name and sha256); the *next* pull receives that bookmark only if those events were applied,
and only then moves those files to ``processed/``. A crash anywhere before that leaves the file in the inbox and
it is read again; its events' refs (``<sha256[:16]>:<row>``) are the same, so the engine's idempotency keys make
the repeat a no-op. The same holds for a file dropped again with identical content. A file with any bad row is
applied not at all: it moves to ``failed/`` at once, next to ``<name>.errors.txt`` naming every row and field.

A row is dated by its ``counted_at``; a row without one, when omnibridge first read that content (recorded in
``processed/.read-times``, so a file read again is dated the same, see :mod:`connectors.files.read_times`), never
by the file's modification time.

A file is read only when complete: names starting with '.' or ending with ``.tmp``, ``.part`` or ``.partial``
are skipped (the ERP writes under such a name and renames), and a file must have been unchanged for
``stable_seconds`` (by its modification time, checked against the connector's clock) and must not change while
it is read (size and modification time compared before and after).

Limits (:mod:`connectors.files.reading`): a file over ``max_file_bytes`` or ``max_rows``, or one that fails to be
read for any other reason (out of memory included), moves to ``failed/`` once with its report, instead of failing
every pull. Only regular files are read: a symbolic link, named pipe, socket or device in the inbox is renamed
into ``failed/`` unopened, with a report. The read-back keeps the latest count per position
(:mod:`connectors.files.read_back`), not the processed files' rows.
"""

from __future__ import annotations

import asyncio
import errno
import fnmatch
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from connectors.files.exports import render_export
from connectors.files.folders import check_folders
from connectors.files.parsing import CountRow, ParsedFile, Problem, parse_counts, render_problems, too_many_rows
from connectors.files.purchase_orders import (
    SENT_FOLDER,
    po_file_name,
    render_purchase_order,
    request_problem,
    write_once,
)
from connectors.files.read_back import FileVersion, LatestCounts
from connectors.files.read_times import first_read_at, recorded_read_at
from connectors.files.reading import (
    FileTooBig,
    read_bounded,
    read_count_file,
    sha256_of,
    special_kind,
    too_big,
)
from connectors.files.settings import TEMP_SUFFIXES, FilesSettings
from connectors.files.supplier_files import SupplierFileKind, parse_supplier_file, supplier_events, supplier_file_kind
from omnibridge.sdk import (
    FatalConnectorError,
    MapLevel,
    MapMessage,
    RetriableConnectorError,
    WebhookDelivery,
    WebhookError,
    get_logger,
)
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockChangeEvent,
    StockChangeKind,
    StockLevel,
    StockTarget,
)
from omnibridge.sdk.fulfilment import FulfilmentRequest, Submission

CONNECTOR = "files"
PUSH_REFUSED = "file feeds are a stock source; omnibridge never writes stock to them"
BOOKMARK_VERSION = 1
TRANSIENT_ERRNOS = frozenset({errno.EIO, errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.ETIMEDOUT, errno.ESTALE})
"""Errors a network share gives while it hiccups: retried a few times before the operation is reported retriable."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Snapshot:
    size: int
    mtime_ns: int


def is_temporary(name: str) -> bool:
    """A name an ERP uses while still writing (never read): '.name', '*.tmp', '*.part', '*.partial'."""
    return name.startswith(".") or name.lower().endswith(TEMP_SUFFIXES)


def drop_file(inbox: Path, name: str, content: bytes) -> Path:
    """Put a file into ``inbox`` the way an ERP must: written under a temporary name, then renamed, so the
    connector never sees it half-written. Returns its path (for scripts, demos and tests)."""
    temporary = inbox / f".{name}.part"
    temporary.write_bytes(content)
    os.replace(temporary, inbox / name)
    return inbox / name


def file_ref(sha256: str, row: int) -> str:
    """The stable ref of one count row: the same content gives the same ref however often it is dropped."""
    return f"{sha256[:16]}:{row}"


class FilesConnector:
    """A folder-based ERP/WMS feed behind the channel contract (a stock source: read, never written).

    ``clock`` returns seconds since the epoch (like :func:`time.time`) and decides when a file is stable.

    Folder errors are classified like a vendor's: permission denied is a :class:`FatalConnectorError` (a person
    must fix the folder's rights); a transient I/O error (a network share hiccuping) is retried ``io_retries``
    times, then — like any other folder error — raised as :class:`RetriableConnectorError`. Nothing was applied
    when a pull fails, so the next pull simply starts over. ``before_io`` is called with the operation's name
    before each attempt (a fault-injection seam for the conformance harness; None in production).
    """

    def __init__(self, settings: FilesSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.operations = 0
        """Folder operations performed (pulls, reads, exports): what the conformance kit counts as requests."""
        self._seen_locations: set[str] = set()
        self._read_back = LatestCounts(skip=lambda name: is_temporary(name) or name.endswith(".errors.txt"))
        self._cache_lock = threading.Lock()
        self._left_special: set[tuple[str, int]] = set()
        self.before_io: Callable[[str], None] | None = None
        self._known_sku: Callable[[str], bool] | None = None
        self._known_location: Callable[[str], bool] | None = None

    # -- the channel contract ----------------------------------------------------------------------------

    def use_catalog(self, known_sku: Callable[[str], bool], known_location: Callable[[str], bool]) -> None:
        """The engine's catalog (:class:`~omnibridge.sdk.channel.CatalogAware`): a file naming a SKU or a location
        code omnibridge does not know fails whole, like any other bad row."""
        self._known_sku, self._known_location = known_sku, known_location

    async def list_locations(self) -> list[ChannelLocation]:
        """The configured ``locations``, then every location code seen in processed or pulled files."""
        codes = dict.fromkeys(self.settings.locations)
        codes.update(dict.fromkeys(sorted(self._seen_locations)))
        counts = await asyncio.to_thread(self._guarded, "list_locations", self._processed_counts)
        codes.update(dict.fromkeys(sorted({location for _, location in counts})))
        return [ChannelLocation(code, code) for code in codes]

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """The latest count of each SKU per location among the processed files (what the ERP last reported)."""
        wanted = set(skus)
        counts = await asyncio.to_thread(self._guarded, "read_levels", self._processed_counts)
        return [
            StockLevel(sku, location, quantity, at)
            for (sku, location), (at, quantity) in sorted(counts.items())
            if sku in wanted
        ]

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Refuses every target: omnibridge never writes stock to a file feed (the engine never calls this)."""
        return [PushResult(target, PushStatus.FAILED, message=PUSH_REFUSED) for target in targets]

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """COUNT events from every complete file in the inbox (see the module docstring for crash safety)."""
        return await asyncio.to_thread(self._guarded, "pull_events", lambda: self._pull(bookmark))

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        raise WebhookError("files: a file feed has no webhooks; files are picked up from the inbox folder")

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        return []

    async def aclose(self) -> None:
        return None

    async def check(self) -> str:
        """``omnibridge check``: the folders exist (or can be created) and are writable; reads no file."""
        return await asyncio.to_thread(check_folders, self.settings, CONNECTOR)

    # -- exports -----------------------------------------------------------------------------------------

    def write_export(self, kind: str, records: Sequence[Mapping[str, Any]], stamp: datetime, sequence: int) -> str:
        """Write ``records`` (``kind`` "orders" or "shipments") to the outbox atomically; returns the file's path.

        The file appears under its final name complete (written as ``.<name>.tmp``, flushed, then renamed), named
        ``<kind>-<UTC stamp>-<sequence>.<csv|json>`` so names sort in the order they were written.
        """
        self.operations += 1
        fmt = self.settings.export_format
        name = f"{kind}-{stamp.astimezone(UTC):%Y%m%dT%H%M%SZ}-{sequence:06d}.{fmt}"
        folder = self.settings.outbox_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomic(folder / name, render_export(kind, records, fmt, self.settings.csv_delimiter))
        return str(folder / name)

    # -- dropship purchase orders -----------------------------------------------------------------------

    async def submit_fulfilment(self, request: FulfilmentRequest) -> Submission:
        """Write ``request`` as a purchase-order file (see :mod:`connectors.files.purchase_orders`) into the
        purchase-order folder, once: a repeat answers ``duplicate=True`` and rewrites nothing, even after the
        supplier took the file away. A request that cannot be a purchase order (no lines, another location) is
        ``accepted=False`` with the reason; folder errors raise like a pull's (the caller retries the same
        request). Raises :class:`FatalConnectorError` when the profile has no ``purchase_orders``."""
        orders = self.settings.purchase_orders
        if orders is None:
            raise FatalConnectorError(
                "this file feed takes no purchase orders; add purchase_orders (format, folder, location) to its "
                "connector profile to make it a dropship supplier",
                connector=CONNECTOR,
                op="submit_fulfilment",
            )
        problem = request_problem(request, self.settings.supplier_location)
        if problem is not None:
            return Submission(request.reference, accepted=False, message=problem)
        name = po_file_name(request.reference, orders.format)
        content = render_purchase_order(request, orders.format, self.settings.csv_delimiter)
        folder, sent = self.settings.purchase_order_dir, self.settings.processed_dir / SENT_FOLDER

        def write() -> bool:
            self.operations += 1
            return write_once(folder, sent, name, content)

        written = await asyncio.to_thread(self._guarded, "submit_fulfilment", write)
        get_logger("connectors.files").info("files.purchase_order", file=name, duplicate=not written)
        return Submission(request.reference, accepted=True, provider_ref=name, duplicate=not written)

    # -- pulling -----------------------------------------------------------------------------------------

    def _guarded(self, op: str, work: Callable[[], T]) -> T:
        """``work()`` with folder errors retried and classified (see the class docstring)."""
        attempts = self.settings.io_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                if self.before_io is not None:
                    self.before_io(op)
                return work()
            except PermissionError as exc:
                raise FatalConnectorError(
                    f"permission denied ({exc}); omnibridge needs read and write access to the feed's folders",
                    connector=CONNECTOR,
                    op=op,
                ) from exc
            except OSError as exc:
                if exc.errno in TRANSIENT_ERRNOS and attempt < attempts:
                    time.sleep(self.settings.io_retry_seconds * attempt)
                    continue
                raise RetriableConnectorError(
                    f"folder error ({exc}); nothing was applied, the next attempt starts over",
                    connector=CONNECTOR,
                    op=op,
                ) from exc
        raise AssertionError("unreachable")  # the loop returns or raises

    def _pull(self, bookmark: str | None) -> PullResult:
        self.operations += 1
        inbox = self.settings.inbox
        if not inbox.is_dir():
            raise RetriableConnectorError(
                f"the inbox folder {inbox} does not exist or is not a folder (is the share mounted?)",
                connector=CONNECTOR,
                op="pull_events",
            )
        for name, digest in _applied(bookmark).items():  # applied by the engine: now they may leave the inbox
            path = inbox / name
            if path.is_file() and not path.is_symlink() and _sha256(path) == digest:
                _move(path, self.settings.processed_dir, digest)
        events: list[ChannelEvent] = []
        messages: list[MapMessage] = []
        read: dict[str, str] = {}
        files, special = self._inbox_entries()
        for path, kind in special:
            if (message := self._quarantine(path, kind)) is not None:
                messages.append(message)
        for path in files[: self.settings.max_files_per_pull]:
            if len(events) >= self.settings.max_rows:
                break  # this pull holds enough rows: the other files wait for the next pull
            taken = self._take(path)
            if taken is None:
                continue
            if isinstance(taken, MapMessage):
                messages.append(taken)
                continue
            read[path.name], file_events = taken
            events.extend(file_events)
        get_logger("connectors.files").info("files.pulled", files=len(read), events=len(events), failed=len(messages))
        return PullResult(events, json.dumps({"v": BOOKMARK_VERSION, "applied": read}, sort_keys=True), messages)

    def _take(self, path: Path) -> tuple[str, list[ChannelEvent]] | MapMessage | None:
        """One inbox file: its sha256 and events, or the message of its move to ``failed/`` (over a limit, a bad
        row, or any failure reading it: a file fails once, it is never retried forever), or None when it
        vanished or changed while read (the next pull looks again)."""
        try:
            before = _snapshot(path)
        except FileNotFoundError:
            return None
        if before.size > self.settings.max_file_bytes:
            return self._reject_one(path, before, too_big(before.size, self.settings.max_file_bytes))
        try:
            digest, parsed = self._parse(path)
            after = _snapshot(path)
        except (FileNotFoundError, FileTooBig):
            return None  # gone, or grown past the limit while read: changed, so looked at again next pull
        except PermissionError as exc:
            problem = f"omnibridge may not read this file ({exc.strerror}); expected a file readable by its user"
            return self._reject_one(path, before, problem)
        except MemoryError:
            problem = (
                f"omnibridge ran out of memory reading this file ({before.size:,} bytes); nothing was applied: split "
                "the file, or lower max_rows and max_file_bytes in the connector profile"
            )
            return self._reject_one(path, before, problem)
        except OSError:
            raise  # a folder error: classified (retried, retriable or fatal) by _guarded
        except Exception as exc:
            problem = f"the file could not be read ({type(exc).__name__}: {exc}); nothing was applied"
            return self._reject_one(path, before, problem)
        if before != after:
            return None
        if isinstance(parsed, list):
            return digest, parsed
        self._check_locations(parsed)
        self._check_catalog(parsed)
        if not parsed.ok:
            return self._reject(path, digest, parsed)
        events: list[ChannelEvent] = []
        for row, counted_at in zip(parsed.rows, self._count_times(digest, parsed.rows), strict=True):
            self._seen_locations.add(row.location)
            ref = file_ref(digest, row.row)
            events.append(StockChangeEvent(ref, StockChangeKind.COUNT, row.sku, row.location, row.quantity, counted_at))
        return digest, events

    def _parse(self, path: Path) -> tuple[str, ParsedFile | list[ChannelEvent]]:
        """The file's sha256 and its parsed counts, or a supplier file's events (within the limits)."""
        settings = self.settings
        if settings.supplier_location is None:
            return sha256_of(path, settings.max_file_bytes), read_count_file(path, settings)
        content = read_bounded(path, settings.max_file_bytes)
        digest = hashlib.sha256(content).hexdigest()
        supplier = self._supplier_file(path, content, digest)
        if supplier is not None:
            return digest, supplier
        parsed = parse_counts(
            path.name,
            content,
            zone=settings.zone,
            columns=settings.columns,
            delimiter=settings.csv_delimiter,
            encoding=settings.csv_encoding,
            max_rows=settings.max_rows,
        )
        return digest, parsed

    def _supplier_file(self, path: Path, content: bytes, digest: str) -> list[ChannelEvent] | ParsedFile | None:
        """A supplier's acknowledgement or ship-confirmation file (only when purchase orders are enabled): its
        events, or its problems; None for a count file."""
        location = self.settings.supplier_location
        if location is None:
            return None
        delimiter, encoding = self.settings.csv_delimiter, self.settings.csv_encoding
        kind: SupplierFileKind | None = supplier_file_kind(path.name, content, delimiter, encoding)
        if kind is None:
            return None
        parsed = parse_supplier_file(
            path.name, content, kind, zone=self.settings.zone, delimiter=delimiter, encoding=encoding
        )
        if not parsed.ok:
            return ParsedFile(problems=parsed.problems)
        if len(parsed.acks) + len(parsed.shipments) > self.settings.max_rows:
            return ParsedFile(problems=[Problem(too_many_rows(self.settings.max_rows))])
        read_at: list[datetime] = []

        def first_read() -> datetime:
            if not read_at:
                now = datetime.fromtimestamp(self.clock(), UTC)
                read_at.append(first_read_at(self.settings.processed_dir, digest, now))
            return read_at[0]

        return supplier_events(parsed, lambda row: file_ref(digest, row), location, first_read)

    def _check_locations(self, parsed: ParsedFile) -> None:
        """With ``locations`` configured, a row at any other location code is a bad row (a typo would otherwise
        be skipped by the engine as unmapped while the rest of the file applied)."""
        known = self.settings.locations
        if not known:
            return
        header = self.settings.columns.location
        for row in parsed.rows:
            if row.location not in known:
                expected = ", ".join(known)
                message = f"expected one of the configured locations ({expected}), got {row.location!r}"
                parsed.problems.append(Problem(message, row=row.row, field=header))

    def _check_catalog(self, parsed: ParsedFile) -> None:
        """With the engine's catalog (:meth:`use_catalog`), a row naming a SKU outside it, or a location code the
        channel's ``location_map`` does not map, is a bad row: the whole file fails instead of that row being
        skipped while the rest applies."""
        columns = self.settings.columns
        flagged = {problem.row for problem in parsed.problems}
        for row in parsed.rows:
            if self._known_sku is not None and not self._known_sku(row.sku):
                message = (
                    f"SKU {row.sku!r} is not in the omnibridge catalog; expected a catalog SKU (see 'omnibridge "
                    "catalog list') or an alias of one in the channel's mappings.sku_aliases"
                )
                parsed.problems.append(Problem(message, row=row.row, field=columns.sku))
            if row.row in flagged or self._known_location is None or self._known_location(row.location):
                continue
            message = f"location {row.location!r} is not mapped; expected a code listed in the channel's location_map"
            parsed.problems.append(Problem(message, row=row.row, field=columns.location))

    def _inbox_entries(self) -> tuple[list[Path], list[tuple[Path, str]]]:
        """Inbox files matching the patterns, not temporary and unchanged for ``stable_seconds`` (oldest first);
        and every entry that is neither a regular file nor a folder (symbolic links, named pipes, sockets, devices)
        with what it is. Nothing is opened: a named pipe never blocks the pull."""
        now = self.clock()
        found: list[tuple[int, str, Path]] = []
        special: list[tuple[Path, str]] = []
        for entry in os.scandir(self.settings.inbox):
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed since listed
            kind = special_kind(info.st_mode)
            if kind is not None:
                special.append((Path(entry.path), kind))
                continue
            if not entry.is_file(follow_symlinks=False) or is_temporary(entry.name):
                continue
            if not any(fnmatch.fnmatch(entry.name.lower(), pattern.lower()) for pattern in self.settings.patterns):
                continue
            if now - info.st_mtime < self.settings.stable_seconds:
                continue  # still being written (or just renamed into place): wait for the next pull
            found.append((info.st_mtime_ns, entry.name, Path(entry.path)))
        return [path for _, _, path in sorted(found)], sorted(special)

    def _count_times(self, digest: str, rows: Sequence[CountRow]) -> list[datetime]:
        """Each row's count time: its ``counted_at``, else when omnibridge first read the content ``digest`` (never
        the file's modification time, see :mod:`connectors.files.read_times`)."""
        read_at: datetime | None = None
        times: list[datetime] = []
        for row in rows:
            if row.counted_at is not None:
                times.append(row.counted_at)
                continue
            if read_at is None:
                now = datetime.fromtimestamp(self.clock(), UTC)
                read_at = first_read_at(self.settings.processed_dir, digest, now)
            times.append(read_at)
        return times

    def _reject(self, path: Path, digest: str, parsed: ParsedFile) -> MapMessage:
        """Move a bad file to ``failed/`` with its error report (report first: a crash leaves the file to redo)."""
        folder = self.settings.failed_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = _destination(folder, path.name, digest)
        _write_atomic(folder / f"{target.name}.errors.txt", render_problems(path.name, parsed.problems).encode())
        _move(path, folder, digest)
        first = parsed.problems[0]
        get_logger("connectors.files").warning("files.failed", file=path.name, problems=len(parsed.problems))
        return MapMessage(
            MapLevel.ERROR,
            "",
            f"moved to {folder.name}/ with {len(parsed.problems)} problem(s), nothing applied; first: {first} "
            f"(see {target.name}.errors.txt)",
            path.name,
        )

    def _reject_one(self, path: Path, version: _Snapshot, problem: str) -> MapMessage:
        """Move a file that could not be read (or must not be) to ``failed/`` with ``problem`` as its report."""
        token = hashlib.sha256(f"{path.name}:{version.size}:{version.mtime_ns}".encode()).hexdigest()
        return self._reject(path, token, ParsedFile(problems=[Problem(problem)]))

    def _quarantine(self, path: Path, kind: str) -> MapMessage | None:
        """Move a non-regular inbox entry (``kind``: a symbolic link, a named pipe...) to ``failed/`` by renaming it,
        never opening or following it, next to a report. One that cannot be moved (``failed/`` on another file
        system) is reported once and left. Returns the message, or None when it was reported before."""
        why = " (a link could point at any file on this machine)" if kind == "a symbolic link" else ""
        problem = (
            f"not read: it is {kind}; omnibridge reads only regular files dropped into the inbox{why}. Put the file "
            "itself in the inbox"
        )
        folder = self.settings.failed_dir
        folder.mkdir(parents=True, exist_ok=True)
        info = path.lstat()
        target = folder / path.name
        if os.path.lexists(target) or os.path.lexists(folder / f"{path.name}.errors.txt"):
            stem, suffix = Path(path.name).stem, Path(path.name).suffix
            target = folder / f"{stem}-{info.st_ino:x}-{info.st_mtime_ns:x}{suffix}"
        log = get_logger("connectors.files")
        try:
            os.rename(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            if (path.name, info.st_ino) in self._left_special:
                return None
            self._left_special.add((path.name, info.st_ino))
            log.warning("files.not_regular", file=path.name, kind=kind, moved=False)
            return MapMessage(
                MapLevel.ERROR,
                "",
                f"{problem}; it could not be moved to {folder.name}/ (another file system): remove it",
                path.name,
            )
        _write_atomic(folder / f"{target.name}.errors.txt", render_problems(path.name, [Problem(problem)]).encode())
        log.warning("files.not_regular", file=path.name, kind=kind, moved=True)
        return MapMessage(
            MapLevel.ERROR, "", f"moved to {folder.name}/: {problem} (see {target.name}.errors.txt)", path.name
        )

    # -- read-back ---------------------------------------------------------------------------------------

    def _processed_counts(self) -> dict[tuple[str, str], tuple[datetime, int]]:
        """The latest count per (SKU, location) among the processed files (see :mod:`connectors.files.read_back`)."""
        with self._cache_lock:
            self.operations += 1
            return self._read_back.refresh(self.settings.processed_dir, self._processed_rows)

    def _processed_rows(self, path: Path, version: FileVersion) -> list[tuple[datetime, str, str, int]]:
        """The rows of one processed file, dated; none for a file that is no count file, or over the limits."""
        try:
            digest = sha256_of(path, self.settings.max_file_bytes)
            parsed = read_count_file(path, self.settings)
        except (FileNotFoundError, FileTooBig):
            return []
        except (MemoryError, ValueError) as exc:
            get_logger("connectors.files").warning("files.read_back_skipped", file=path.name, error=type(exc).__name__)
            return []
        if not parsed.ok:
            if any("(max_rows)" in str(problem) for problem in parsed.problems):
                get_logger("connectors.files").warning("files.read_back_skipped", file=path.name, error="max_rows")
            return []
        read_at = recorded_read_at(self.settings.processed_dir, digest)
        # a file processed before first reads were recorded: its modification time is all there is
        undated_at = read_at or datetime.fromtimestamp(version.mtime_ns / 1e9, UTC)
        return [(row.counted_at or undated_at, row.sku, row.location, row.quantity) for row in parsed.rows]


def _applied(bookmark: str | None) -> dict[str, str]:
    """The files the previous pull read (name -> sha256); an unreadable bookmark names none."""
    if not bookmark:
        return {}
    try:
        value = json.loads(bookmark)
    except ValueError:
        return {}
    applied = value.get("applied") if isinstance(value, dict) else None
    if not isinstance(applied, dict):
        return {}
    return {str(name): str(digest) for name, digest in applied.items()}


def _snapshot(path: Path) -> _Snapshot:
    stat = path.stat()
    return _Snapshot(stat.st_size, stat.st_mtime_ns)


def _sha256(path: Path) -> str:
    try:
        return sha256_of(path)
    except FileNotFoundError:
        return ""


def _destination(folder: Path, name: str, digest: str) -> Path:
    """Where ``name`` goes in ``folder``: its own name, unless a different file already has it (then the name
    gets the content's hash: ``stock-<sha8>.csv``); the same content under the same name is simply replaced."""
    target = folder / name
    if not target.exists() or _sha256(target) == digest:
        return target
    path = Path(name)
    return folder / f"{path.stem}-{digest[:8]}{path.suffix}"


def _move(path: Path, folder: Path, digest: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _destination(folder, path.name, digest)
    try:
        os.replace(path, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.move(path, target)  # another file system: copy, then remove
    return target


def _write_atomic(path: Path, content: bytes) -> None:
    """Write ``path`` so that it only ever appears complete: a hidden temporary file, fsync, then rename. The file
    is owner-only (0600): exports hold order data."""
    temporary = path.with_name(f".{path.name}.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
