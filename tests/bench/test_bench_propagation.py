"""The propagation benchmark in the every-vendor world: its JSON shape, every sale counted once, figures
consistent (never a check on how long anything took)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench import propagation
from bench._worlds import WORLDS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return propagation.run(quick=True)


def test_one_run_per_rate_with_the_issues_keys(report: dict[str, Any]) -> None:
    runs = report["runs"]
    assert [run["rate"] for run in runs] == list(propagation.RATES)
    for run in runs:
        assert run["error"] is None
        assert {"rate", "made", "seen", "refusals", "channels"} <= set(run)
        assert set(run["channels"]) == set(WORLDS["every"])
        for figures in run["channels"].values():
            assert {"p50_ms", "p99_ms", "max_ms", "floor_p99_ms"} <= set(figures)
            assert figures["floor_formula"].endswith(f"= {figures['floor_p99_ms']:.0f} ms")


def test_the_engine_ran_as_a_daemon_of_its_own_that_is_gone_after(report: dict[str, Any]) -> None:
    assert report["engine"] == "daemon"
    for run in report["runs"]:
        assert run["engine"] == "daemon"
        assert run["cpu_cores"]["engine_process"] > 0
        # read from the daemon's /metrics: it stored and applied the run's deliveries in its SQLite store
        assert 0 < run["cpu_cores"]["engine_store_writing_in_sales"] <= 1
        assert 0 < run["cpu_cores"]["engine_store_writing"] <= 1
    assert not _daemons_of_removed_workdirs()


def _daemons_of_removed_workdirs() -> list[str]:
    """Command lines of ``omnibridge run`` processes whose profile's directory is gone (a run left its daemon)."""
    left = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if "run" in words and "--profile" in words and "omnibridge" in words:
            profile = Path(words[words.index("--profile") + 1])
            if "omnibridge-bench-" in str(profile) and not profile.parent.exists():
                left.append(" ".join(words))
    return left


def test_the_inline_engine_still_runs_a_world() -> None:
    run = propagation.measure_in_child(20, 1.0, wait_s=10.0, world="two", engine="inline")
    assert run["error"] is None
    assert run["engine"] == "inline"
    assert run["cpu_cores"]["engine_process"] is None
    assert run["cpu_cores"]["engine_store_writing"] is None
    assert run["made"] == 20
    assert set(run["channels"]) == set(WORLDS["two"])


def test_every_sale_is_counted_once(report: dict[str, Any]) -> None:
    for run in report["runs"]:
        assert run["made"] == int(run["rate"] * propagation.QUICK_SECONDS)
        assert 0 <= run["seen"] <= run["made"]
        assert sum(f["sales"] for f in run["pairs"].values()) == sum(f["sales"] for f in run["channels"].values())
        assert run["refusals"] == sum(run["refusals_by_channel"].values()) >= 0


def test_the_figures_are_consistent(report: dict[str, Any]) -> None:
    for run in report["runs"]:
        for figures in [*run["channels"].values(), *run["pairs"].values(), run["all"]]:
            if figures["p50_ms"] is None:
                assert figures["p99_ms"] is figures["max_ms"] is None
            else:
                assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
    assert any("floor" in note for note in report["notes"])
    assert any("0 refusals" in note for note in report["notes"])
