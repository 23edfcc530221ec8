"""Files saved from spreadsheets: UTF-8, UTF-8 with BOM and Windows-1252 read; anything else is a clear error."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.files.parsing import parse_counts
from omnibridge.catalog import read_catalog_csv
from omnibridge.cli.app import app
from omnibridge.errors import ConfigError
from omnibridge.listings.changes import read_changes_csv
from omnibridge.sdk import TextEncodingError, decode_spreadsheet

DASH = "\u2013"  # an en dash: Windows-1252 has it at 0x96, Latin-1 does not
TEXT = f"sku,title\nCAFÉ-1,Crème brûlée {DASH} 250 g\n"
SAVED_AS = {
    "utf-8": TEXT.encode("utf-8"),
    "utf-8 with BOM": b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
    "windows-1252": TEXT.encode("cp1252"),
}
NOT_TEXT = b"sku,title\nA,\x81\x8d\xff\xfe\n"  # bytes Windows-1252 leaves undefined


@pytest.mark.parametrize("saved_as", SAVED_AS)
def test_every_spreadsheet_encoding_decodes(saved_as: str) -> None:
    assert decode_spreadsheet(SAVED_AS[saved_as]) == TEXT


def test_undecodable_bytes_name_the_encoding_and_the_fix() -> None:
    with pytest.raises(TextEncodingError, match=r"neither UTF-8 nor Windows-1252 .*save it .* as 'CSV UTF-8"):
        decode_spreadsheet(NOT_TEXT)
    with pytest.raises(TextEncodingError, match=r"not utf-8 text \(byte 0xc9 at offset 13\)"):
        decode_spreadsheet(SAVED_AS["windows-1252"], "utf-8")


@pytest.mark.parametrize("saved_as", SAVED_AS)
def test_catalog_and_listing_changes_read_every_encoding(saved_as: str, tmp_path: Path) -> None:
    path = tmp_path / "file.csv"
    path.write_bytes(SAVED_AS[saved_as])
    [product] = read_catalog_csv(path)
    assert (product.variants[0].sku, product.variants[0].title) == ("CAFÉ-1", f"Crème brûlée {DASH} 250 g")
    [change] = read_changes_csv(path)
    assert (change.master_sku, change.title) == ("CAFÉ-1", f"Crème brûlée {DASH} 250 g")


def test_an_undecodable_catalog_is_one_error_line_not_an_internal_error(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(NOT_TEXT)
    with pytest.raises(ConfigError, match="neither UTF-8 nor Windows-1252"):
        read_catalog_csv(path)
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(
        "version: 1\nmerchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: wh, name: W, type: warehouse}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["catalog", "import", str(path), "--profile", str(profile)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}: the file is neither UTF-8 nor Windows-1252 text")
    assert "internal error" not in result.stderr


@pytest.mark.parametrize("saved_as", SAVED_AS)
def test_erp_count_files_read_every_encoding(saved_as: str) -> None:
    content = "sku,location,quantity,counted_at\nCAFÉ-1,Dépôt,4,2026-01-05T10:00:00Z\n"
    encoded = {"utf-8": content.encode(), "utf-8 with BOM": b"\xef\xbb\xbf" + content.encode()}.get(
        saved_as, content.encode("cp1252")
    )
    parsed = parse_counts("counts.csv", encoded, zone=UTC)
    assert not parsed.problems
    assert [(row.sku, row.location, row.quantity) for row in parsed.rows] == [("CAFÉ-1", "Dépôt", 4)]
