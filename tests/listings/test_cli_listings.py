"""``omnibridge listings push``: exit codes, messages, the table and --json, against both emulators over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.store import open_store

from .support import LAMP, POS_STOVE, STOVE, TENT, served_channels

runner = CliRunner()


def push(profile: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["listings", "push", "--profile", str(profile), *args])
    return result.exit_code, result.stdout, result.stderr


def offline_profile(workdir: Path) -> Path:
    """The two-channel profile pointing at ports nothing listens on (for input errors found before any call)."""
    url = "http://127.0.0.1:9"
    return world.write_profile(
        workdir, shopify_url=url, square_url=url, receiver_url=url, settings=world.DemoSettings()
    )


def test_one_sku_to_both_channels_prints_a_table_and_records_listings(tmp_path: Path) -> None:
    with served_channels(tmp_path) as served:
        code, out, err = push(served.profile, "--sku", TENT, "--title", "Trail tent 2P", "--price", "189.50")
        assert (code, err) == (0, ""), out
        lines = out.splitlines()
        assert lines[0].split() == ["channel", "connector", "sku", "status", "title", "price", "message"]
        assert lines[1].split() == ["web", "shopify", TENT, "applied", "Trail", "tent", "2P", "189.50", "USD"]
        assert lines[2].split() == ["pos", "square", TENT, "applied", "Trail", "tent", "2P", "189.50", "USD"]
        assert lines[-1] == "done: every channel shows the changes"
        assert served.shopify.listing(TENT) == served.square.listing(TENT) == ("Trail tent 2P", "189.50")
    with open_store(load_profile(served.profile).store_url) as store:
        assert [(listing.channel, listing.title) for listing in store.listings_for(TENT)] == [
            ("pos", "Trail tent 2P"),
            ("web", "Trail tent 2P"),
        ]


def test_a_csv_file_with_json_output_and_one_channel(tmp_path: Path) -> None:
    changes = tmp_path / "changes.csv"
    changes.write_text(f"sku,title,price\n{TENT},,150\n{STOVE},Camp stove XL,\n", encoding="utf-8")
    with served_channels(tmp_path) as served:
        code, out, _ = push(served.profile, "--file", str(changes), "--channel", "pos", "--json")
        assert code == 0, out
        report = json.loads(out)
        assert (report["ok"], report["currency"], [c["channel"] for c in report["channels"]]) == (True, "USD", ["pos"])
        assert [(s["sku"], s["channel_sku"], s["status"]) for s in report["channels"][0]["skus"]] == [
            (TENT, TENT, "applied"),
            (STOVE, POS_STOVE, "applied"),
        ]
        assert served.square.listing(POS_STOVE) == ("Camp stove XL", "49.50")
        assert served.shopify.listing(STOVE) == ("Camp stove", "49.50")  # not selected: untouched


def test_failures_exit_1_and_say_what_happened(tmp_path: Path) -> None:
    with served_channels(tmp_path, shopify_token="shpat_another") as served:
        code, out, _ = push(served.profile, "--sku", "NOPE-1", "--title", "Ghost")
        assert code == 1
        rows = [line.split(maxsplit=4) for line in out.splitlines()[1:3]]
        assert rows[0][:4] == ["web", "shopify", "-", "failed"]
        assert "HTTP 401" in rows[0][4]
        assert rows[1][:4] == ["pos", "square", "NOPE-1", "unknown_sku"]
        assert "not on any channel: NOPE-1 (no channel sells it, or every channel failed)" in out
        assert out.splitlines()[-1] == "partial failure: 2 of 2 row(s) not applied (1 unknown_sku, 1 failed); see above"


def test_bad_input_gets_a_clear_error_and_sends_nothing(tmp_path: Path) -> None:
    profile = offline_profile(tmp_path)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("sku,title,price,colour\nA,,\nB,x,1.2.3\n", encoding="utf-8")
    cases = [
        ((), "error: --sku: nothing to push (expected --sku SKU with --title and/or --price, or --file)"),
        (("--sku", TENT), f"error: --sku: SKU '{TENT}': nothing to change (expected --title TITLE and/or --price)"),
        (("--sku", TENT, "--price", "12,50"), "error: --price: invalid price '12,50' (expected a decimal amount"),
        (("--sku", TENT, "--price", "1.999"), "error: SKU 'TENT-2P': price 1.999 has more decimals than USD allows"),
        (("--sku", TENT, "--title", "  "), "error: --title: SKU 'TENT-2P': the title is empty"),
        (("--file", str(bad_csv), "--sku", TENT), "error: --file: --file cannot be combined with --sku"),
        (
            ("--file", str(tmp_path / "none.csv")),
            f"error: {tmp_path / 'none.csv'}: cannot read the changes file: No such",
        ),
        (("--sku", TENT, "--title", "T", "--channel", "amazon"), "error: the profile has no channel 'amazon'"),
    ]
    for args, message in cases:
        code, out, err = push(profile, *args)
        assert (code, out) == (1, ""), args
        assert err.startswith(message), (args, err)
    code, _, err = push(profile, "--file", str(bad_csv))
    assert code == 1
    assert err.splitlines() == [
        f"error: {bad_csv}:1: colour: unknown column 'colour' (expected sku,title,price)",
        f"error: {bad_csv}:2: row: SKU 'A': nothing to change: give a title, a price or both",
        f"error: {bad_csv}:3: price: invalid price '1.2.3': expected a decimal amount such as 19.99",
    ]


def test_a_sku_one_channel_lacks_is_a_partial_failure_not_done(tmp_path: Path) -> None:
    with served_channels(tmp_path) as served:  # only the web store sells LAMP-RED
        code, out, _ = push(served.profile, "--sku", LAMP, "--title", "Red lamp")
        assert code == 1, out
        rows = [line.split(maxsplit=4) for line in out.splitlines()[1:3]]
        assert [row[:4] for row in rows] == [
            ["web", "shopify", LAMP, "applied"],
            ["pos", "square", LAMP, "unknown_sku"],
        ]
        assert out.splitlines()[-1] == "partial failure: 1 of 2 row(s) not applied (1 unknown_sku); see above"
        assert "every channel shows the changes" not in out
        code, out, _ = push(served.profile, "--sku", LAMP, "--title", "Red lamp", "--json")
        report = json.loads(out)
        assert (code, report["ok"], report["not_applied"]) == (1, False, 1)
