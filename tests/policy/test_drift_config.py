"""``drift: channel`` is refused where the channel's availability policy changes the ledger's number (issue 12)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import LoadedProfile, ProfileErrors, load_profile
from omnibridge.errors import ConfigError

from .profiles import sales_registry, write_profile


def written(write: WriteFile, tmp_path: Path, availability: str) -> Path:
    """The profile of profiles.py, the POS (``channels[1]``, line 14, shows wh and shop) set to ``drift: channel``."""
    write_profile(write, textwrap.dedent(availability))
    path = tmp_path / "omnibridge.yaml"
    path.write_text(path.read_text().replace("priority: 20, drift: alert", "priority: 20, drift: channel"))
    return path


def load(path: Path) -> LoadedProfile:
    return load_profile(path, registry=sales_registry(), env={})


def refused(path: Path) -> ConfigError:
    with pytest.raises(ProfileErrors) as caught:
        load(path)
    [error] = caught.value.errors
    assert "\n" not in error.render()
    return error


def test_a_buffer_on_a_channel_that_may_win_is_refused(write: WriteFile, tmp_path: Path) -> None:
    path = written(write, tmp_path, "availability:\n  channels:\n    pos: {buffer: 2}\n")
    error = refused(path)
    assert error.render() == (
        f"{path}:14: channels[1].drift: channel 'pos' may win drift only if it shows the ledger's available "
        "unchanged, but its availability changes it: buffer 2 (availability.channels.pos.buffer, line 19) "
        "(expected drift: ledger or drift: alert, or none of these rules for channel 'pos')"
    )


def test_every_rule_that_changes_its_number_is_named_with_its_line(write: WriteFile, tmp_path: Path) -> None:
    section = """
    availability:
      mode: strict
      sku_groups: {clearance: ["CLR-*"]}
      safety_stock: [{location: shop, quantity: 1}]
      ring_fence: {units: 1, channels: [web]}
      low_stock: {threshold: 3, min_priority: 25}
      channels:
        pos:
          share: 0.5
          groups: {clearance: {cap: 4, minimum: 2}}
    """
    error = refused(written(write, tmp_path, section))
    assert (error.line, error.field) == (14, "channels[1].drift")
    assert error.message.endswith(
        "its availability changes it: share 0.5 (availability.channels.pos.share, line 26); "
        "cap 4 (availability.channels.pos.groups.clearance.cap, line 27); "
        "minimum 2 (availability.channels.pos.groups.clearance.minimum, line 27); "
        "safety stock 1 at 'shop' (availability.safety_stock[0], line 21); "
        "a ring fence of 1 at 'wh' that it is outside of (availability.ring_fence, line 22); "
        "a low-stock rule (its priority 20 is below 25) (availability.low_stock, line 23); "
        "a strict split with 'web' at 'wh' (availability.mode, line 19)"
    )


def test_rules_that_leave_its_number_unchanged_are_accepted(write: WriteFile, tmp_path: Path) -> None:
    # web's own rules, a safety stock where the POS does not sell, a fence the POS is inside of, a low-stock rule
    # below its priority and a share of 1 all leave the ledger's number as the POS shows it
    section = """
    availability:
      safety_stock: [{location: wh, quantity: 3}]
      ring_fence: {units: 1, channels: [pos]}
      low_stock: {threshold: 3, min_priority: 15}
      channels:
        web: {buffer: 2, share: 0.5, cap: 10}
        pos: {locations: [shop], share: 1, groups: {default: {cap: null}}}
    """
    profile = load(written(write, tmp_path, section))
    assert profile.channel("pos") is not None
    assert [channel.drift for channel in profile.channels] == ["ledger", "channel", "ledger", "ledger"]


def test_strict_mode_is_refused_only_where_another_channel_shares_its_location(
    write: WriteFile, tmp_path: Path
) -> None:
    alone = "availability:\n  mode: strict\n  channels:\n    pos: {locations: [shop]}\n"
    load(written(write, tmp_path, alone))  # web shows only wh (its location_map): the POS is alone at the shop

    shared = "availability:\n  mode: strict\n"
    error = refused(written(write, tmp_path, shared))
    assert "a strict split with 'web' at 'wh' (availability.mode, line 18)" in error.message


def test_validate_prints_the_problem_and_exits_1(
    write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("omnibridge.sdk.registry.discover_connectors", sales_registry)
    path = written(write, tmp_path, "availability:\n  channels:\n    pos: {cap: 3}\n")
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:14: channels[1].drift: channel 'pos' may win drift only if" in result.output
    assert "cap 3 (availability.channels.pos.cap, line 19)" in result.output
