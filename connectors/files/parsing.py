"""Stock-count files (CSV or JSON) into count rows, or a list of problems naming row, field and what was expected.

Pure: bytes in, data out; no I/O. A file is all-or-nothing: a caller applies :attr:`ParsedFile.rows` only when
:attr:`ParsedFile.problems` is empty.

CSV: a header row naming the columns (``sku``, ``location``, ``quantity``, optional ``counted_at``; the names are
configurable), then one count per row. Row numbers are the file's line numbers as a spreadsheet shows them (the
header is row 1, the first count row 2). JSON: ``{"counts": [{"sku", "location", "quantity", "counted_at"?}, ...]}``
or the bare list; row numbers are the 1-based positions in the list.

``quantity`` is the absolute count: a whole number >= 0. ``counted_at`` is ISO 8601; without an offset it is read
in the configured time zone; a row without it is dated by the connector when it first reads the file
(:mod:`connectors.files.read_times`). Each SKU may be counted once per location per file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from connectors.files.settings import CsvColumns
from omnibridge.sdk import TextEncodingError, decode_spreadsheet

_WHOLE = re.compile(r"\d+")
REPORTED_PROBLEMS = 1000
"""A report lists at most this many problems (a file with a million bad rows gets a readable report)."""


@dataclass(frozen=True, slots=True)
class CountRow:
    """One count: ``quantity`` units of ``sku`` at ``location`` (the ERP's codes), at ``counted_at`` if given."""

    row: int
    sku: str
    location: str
    quantity: int
    counted_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong, where: ``row`` None is the whole file; ``field`` None the whole row."""

    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = [
            part
            for part in (
                f"row {self.row}" if self.row is not None else None,
                f"field {self.field!r}" if self.field else None,
            )
            if part
        ]
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass
class ParsedFile:
    rows: list[CountRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_counts(
    name: str,
    content: bytes,
    *,
    zone: tzinfo,
    columns: CsvColumns | None = None,
    delimiter: str = ",",
    encoding: str = "auto",
    max_rows: int | None = None,
) -> ParsedFile:
    """Parse a count file; the format follows the name's extension (``.json``, anything else is CSV). A file with
    more than ``max_rows`` count rows fails (reading stops at the first row over the limit)."""
    if not content.strip():
        return ParsedFile(problems=[Problem(_empty_message(name, columns or CsvColumns()))])
    if name.lower().endswith(".json"):
        return parse_json(content, zone=zone, max_rows=max_rows)
    return parse_csv(
        content, zone=zone, columns=columns or CsvColumns(), delimiter=delimiter, encoding=encoding, max_rows=max_rows
    )


def parse_csv(
    content: bytes,
    *,
    zone: tzinfo,
    columns: CsvColumns,
    delimiter: str = ",",
    encoding: str = "auto",
    max_rows: int | None = None,
) -> ParsedFile:
    try:
        text = decode_spreadsheet(content, encoding)
    except TextEncodingError as exc:
        return ParsedFile(problems=[Problem(str(exc))])
    return parse_csv_lines(
        io.StringIO(text, newline=""), zone=zone, columns=columns, delimiter=delimiter, max_rows=max_rows
    )


def parse_csv_lines(
    text: Iterable[str], *, zone: tzinfo, columns: CsvColumns, delimiter: str = ",", max_rows: int | None = None
) -> ParsedFile:
    """Parse CSV text given as lines (a text file opened with ``newline=""`` streams it: rows are read one at a
    time, never the whole file at once). A :class:`UnicodeDecodeError` of the underlying file propagates."""
    result = ParsedFile()
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    try:
        _csv_rows(reader, zone, columns, max_rows, result)
    except csv.Error as exc:
        result.problems.append(Problem(f"row {reader.line_num}: the CSV is malformed ({exc})"))
    return result


def _csv_rows(
    reader: Iterator[list[str]], zone: tzinfo, columns: CsvColumns, max_rows: int | None, result: ParsedFile
) -> None:
    first = next(reader, None)
    if first is None:
        result.problems.append(Problem(_empty_message("csv", columns)))
        return
    wanted = {
        columns.sku.strip().lower(): "sku",
        columns.location.strip().lower(): "location",
        columns.quantity.strip().lower(): "quantity",
        columns.counted_at.strip().lower(): "counted_at",
    }
    header = [cell.strip().lower() for cell in first]
    if not set(header) & set(wanted):
        got = ", ".join(repr(cell) for cell in first)
        result.problems.append(
            Problem(f"no header row: expected the first row to name the columns ({_column_list(columns)}), got {got}")
        )
        return
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        if cell not in wanted:
            result.problems.append(
                Problem(
                    f"unknown column {first[position]!r}; expected only {_column_list(columns)}",
                    row=1,
                    field=first[position] or f"column {position + 1}",
                )
            )
        elif wanted[cell] in index:
            result.problems.append(Problem(f"column {first[position]!r} appears twice", row=1))
        else:
            index[wanted[cell]] = position
    missing = [header_name for header_name, key in wanted.items() if key != "counted_at" and key not in index]
    if missing:
        result.problems.append(
            Problem(
                f"missing column(s) {', '.join(repr(m) for m in missing)}: the first row must be the header "
                f"({_column_list(columns)}), got {', '.join(repr(c) for c in first)}",
                row=1,
            )
        )
    if result.problems:
        return
    headers = {
        "sku": columns.sku,
        "location": columns.location,
        "quantity": columns.quantity,
        "counted_at": columns.counted_at,
    }
    rows = _Rows(zone, headers, result)
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line (often the last one) is not a count
        if not rows.counted(max_rows):
            return
        if len(cells) != len(header):
            result.problems.append(
                Problem(f"expected {len(header)} cells like the header, got {len(cells)}", row=number)
            )
            continue
        rows.add(number, {key: cells[position] for key, position in index.items()})
    rows.finish()


def parse_json(content: bytes, *, zone: tzinfo, max_rows: int | None = None) -> ParsedFile:
    result = ParsedFile()
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        result.problems.append(Problem(f"the file is not UTF-8 text ({exc}); expected JSON in UTF-8"))
        return result
    except json.JSONDecodeError as exc:
        result.problems.append(Problem(f"not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"))
        return result
    shape = '{"counts": [{"sku": ..., "location": ..., "quantity": ..., "counted_at"?: ...}, ...]} or the list'
    if isinstance(document, dict):
        extra = sorted(set(document) - {"counts"})
        if "counts" not in document or extra:
            got = ", ".join(repr(key) for key in document) or "an empty object"
            result.problems.append(Problem(f"expected {shape}; got an object with {got}"))
            return result
        document = document["counts"]
    if not isinstance(document, list):
        result.problems.append(Problem(f"expected {shape}; 'counts' is a {_json_type(document)}"))
        return result
    if not document:
        result.problems.append(Problem("the file has no counts; expected at least one"))
        return result
    if max_rows is not None and len(document) > max_rows:
        result.problems.append(Problem(too_many_rows(max_rows)))
        return result
    allowed = {"sku", "location", "quantity", "counted_at"}
    records: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(document, start=1):
        if not isinstance(item, dict):
            result.problems.append(
                Problem(f"expected an object with sku, location, quantity; got a {_json_type(item)}", row=number)
            )
            continue
        for key in sorted(set(item) - allowed):
            result.problems.append(
                Problem("unknown field; expected only sku, location, quantity, counted_at", row=number, field=key)
            )
        records.append((number, item))
    rows = _Rows(zone, {key: key for key in allowed}, result)
    for number, item in records:
        rows.counted(None)
        rows.add(number, item)
    rows.finish()
    return result


class _Rows:
    """Turns records into :class:`CountRow` one at a time (checking each field and duplicates) into ``result``."""

    def __init__(self, zone: tzinfo, headers: dict[str, str], result: ParsedFile) -> None:
        self.zone, self.headers, self.result = zone, headers, result
        self.seen: dict[tuple[str, str], int] = {}
        self.records = 0

    def counted(self, max_rows: int | None) -> bool:
        """Count one more record; False (with the problem recorded) when that is more than ``max_rows``."""
        self.records += 1
        if max_rows is None or self.records <= max_rows:
            return True
        self.result.problems.append(Problem(too_many_rows(max_rows)))
        return False

    def add(self, number: int, record: dict[str, Any]) -> None:
        result, headers = self.result, self.headers
        before = len(result.problems)
        sku = _text(record.get("sku"), number, headers["sku"], "a SKU", result)
        location = _text(record.get("location"), number, headers["location"], "a location code", result)
        quantity = _quantity(record.get("quantity"), number, headers["quantity"], result)
        counted_at = _timestamp(record.get("counted_at"), number, headers["counted_at"], self.zone, result)
        if len(result.problems) > before or sku is None or location is None or quantity is None:
            return
        first = self.seen.setdefault((sku, location), number)
        if first != number:
            result.problems.append(
                Problem(
                    f"SKU {sku!r} at {location!r} is already counted on row {first}; expected each SKU once per "
                    "location in a file",
                    row=number,
                )
            )
            return
        result.rows.append(CountRow(number, sku, location, quantity, counted_at))

    def finish(self) -> None:
        if not self.records and not self.result.problems:
            self.result.problems.append(Problem("the file has a header but no counts; expected at least one count row"))


def too_many_rows(max_rows: int) -> str:
    """The problem of a file with more count rows than ``max_rows`` (the ``max_rows`` setting)."""
    return (
        f"the file has more than {max_rows:,} count rows, the limit (max_rows); nothing was read beyond row "
        f"{max_rows:,}: split the file, or raise max_rows in the connector profile"
    )


def _text(value: Any, row: int, name: str, what: str, result: ParsedFile) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    result.problems.append(Problem(f"expected {what}, got {_shown(value)}", row=row, field=name))
    return None


def _quantity(value: Any, row: int, name: str, result: ParsedFile) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        return int(value.strip())
    result.problems.append(Problem(f"expected a whole number >= 0, got {_shown(value)}", row=row, field=name))
    return None


def _timestamp(value: Any, row: int, name: str, zone: tzinfo, result: ParsedFile) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
    result.problems.append(
        Problem(
            f"expected an ISO 8601 date and time such as 2026-11-30T14:05:00+01:00, got {_shown(value)}",
            row=row,
            field=name,
        )
    )
    return None


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return repr(value) if value.strip() else "an empty value"
    return json.dumps(value)


def _json_type(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def _column_list(columns: CsvColumns) -> str:
    return f"{columns.sku}, {columns.location}, {columns.quantity} and optionally {columns.counted_at}"


def _empty_message(name: str, columns: CsvColumns) -> str:
    if name.lower().endswith(".json"):
        return 'the file is empty; expected {"counts": [...]} with at least one count'
    return f"the file is empty; expected a header row ({_column_list(columns)}) and at least one count row"


def render_problems(name: str, problems: list[Problem]) -> str:
    """The error report written next to a failed file: one problem per line, then what happens next."""
    lines = [f"{name}: {len(problems)} problem(s); nothing in this file was applied.", ""]
    lines += [f"- {problem}" for problem in problems[:REPORTED_PROBLEMS]]
    if len(problems) > REPORTED_PROBLEMS:
        lines.append(f"- ... and {len(problems) - REPORTED_PROBLEMS:,} more problem(s) like these, not listed")
    lines += ["", "Fix the file and drop it into the inbox again (under a temporary name, then renamed)."]
    return "\n".join(lines) + "\n"
