"""Count files into rows, or problems naming row, field and what was expected (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from connectors.files.parsing import CountRow, parse_counts, render_problems
from connectors.files.settings import CsvColumns

BERLIN = ZoneInfo("Europe/Berlin")


def problems(name: str, content: bytes) -> list[str]:
    parsed = parse_counts(name, content, zone=UTC)
    assert not parsed.rows or parsed.problems
    return [str(problem) for problem in parsed.problems]


def test_a_csv_becomes_rows_numbered_like_a_spreadsheet() -> None:
    parsed = parse_counts(
        "stock.csv",
        b"\xef\xbb\xbfSKU , Location,quantity,counted_at\r\nA,wh,5,2026-11-30T08:00:00\r\nB,wh,0,\r\n\r\n",
        zone=BERLIN,
    )
    assert parsed.problems == []
    assert parsed.rows == [
        CountRow(2, "A", "wh", 5, datetime(2026, 11, 30, 8, tzinfo=BERLIN)),
        CountRow(3, "B", "wh", 0, None),
    ]


def test_csv_columns_and_delimiter_are_configurable() -> None:
    columns = CsvColumns(sku="Artikel", location="Lager", quantity="Bestand", counted_at="Zeit")
    parsed = parse_counts("b.csv", b"Artikel;Lager;Bestand\nA;L1;7\n", zone=UTC, columns=columns, delimiter=";")
    assert parsed.rows == [CountRow(2, "A", "L1", 7, None)]


def test_json_in_both_shapes() -> None:
    wrapped = parse_counts(
        "c.json",
        b'{"counts": [{"sku": "A", "location": "wh", "quantity": 3, "counted_at": "2026-11-30T08:00Z"}]}',
        zone=UTC,
    )
    assert wrapped.rows == [CountRow(1, "A", "wh", 3, datetime(2026, 11, 30, 8, tzinfo=UTC))]
    bare = parse_counts("c.json", b'[{"sku": "A", "location": "wh", "quantity": "4"}]', zone=UTC)
    assert bare.rows == [CountRow(1, "A", "wh", 4, None)]


def test_every_bad_row_is_named_with_its_field_and_what_was_expected() -> None:
    content = b"sku,location,quantity,counted_at\nA,wh,5,\nB,wh,ten,\n,wh,1,\nC,wh,-2,\nD,wh,1,yesterday\nA,wh,9,\n"
    assert problems("s.csv", content) == [
        "row 3, field 'quantity': expected a whole number >= 0, got 'ten'",
        "row 4, field 'sku': expected a SKU, got an empty value",
        "row 5, field 'quantity': expected a whole number >= 0, got '-2'",
        "row 6, field 'counted_at': expected an ISO 8601 date and time such as 2026-11-30T14:05:00+01:00, "
        "got 'yesterday'",
        "row 7: SKU 'A' at 'wh' is already counted on row 2; expected each SKU once per location in a file",
    ]


def test_file_level_problems_say_what_was_expected() -> None:
    assert problems("e.csv", b"  \n") == [
        "the file is empty; expected a header row (sku, location, quantity and optionally counted_at) and at least "
        "one count row"
    ]
    assert problems("h.csv", b"sku,location,quantity\n") == [
        "the file has a header but no counts; expected at least one count row"
    ]
    assert problems("u.csv", b"sku,location,quantity,colour\nA,wh,1,red\n") == [
        "row 1, field 'colour': unknown column 'colour'; expected only sku, location, quantity and optionally "
        "counted_at"
    ]
    assert problems("m.csv", b"A,wh,1\nB,wh,2\n") == [
        "no header row: expected the first row to name the columns (sku, location, quantity and optionally "
        "counted_at), got 'A', 'wh', '1'"
    ]
    assert problems("m.csv", b"sku,qty\nA,1\n") == [
        "row 1, field 'qty': unknown column 'qty'; expected only sku, location, quantity and optionally counted_at",
        "row 1: missing column(s) 'location', 'quantity': the first row must be the header (sku, location, quantity "
        "and optionally counted_at), got 'sku', 'qty'",
    ]
    assert problems("r.csv", b"sku,location,quantity\nA,wh\n") == ["row 2: expected 3 cells like the header, got 2"]


def test_json_shape_problems() -> None:
    assert problems("j.json", b'{"counts": [') == ["not valid JSON: line 1, column 13: Expecting value"]
    [shape] = problems("j.json", b'{"items": []}')
    assert shape.startswith('expected {"counts": [{"sku": ..., "location": ..., "quantity": ..., "counted_at"?')
    assert shape.endswith("got an object with 'items'")
    assert problems("j.json", b'{"counts": []}') == ["the file has no counts; expected at least one"]
    assert problems("j.json", b'[{"sku": "A", "location": "wh", "quantity": 1.5, "bin": 3}, 7]') == [
        "row 1, field 'bin': unknown field; expected only sku, location, quantity, counted_at",
        "row 2: expected an object with sku, location, quantity; got a number",
        "row 1, field 'quantity': expected a whole number >= 0, got 1.5",
    ]


def test_the_report_lists_every_problem() -> None:
    parsed = parse_counts("s.csv", b"sku,location,quantity\nA,wh,ten\n", zone=UTC)
    report = render_problems("s.csv", parsed.problems)
    assert "s.csv: 1 problem(s); nothing in this file was applied." in report
    assert "- row 2, field 'quantity': expected a whole number >= 0, got 'ten'" in report
