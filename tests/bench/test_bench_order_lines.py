"""The order-lines benchmark: its rows carry both measurements for every history size (figures, not timings,
are asserted: a test never judges wall time)."""

from __future__ import annotations

from bench import order_lines


def test_each_history_size_reports_the_line_and_the_scan_baseline() -> None:
    row = order_lines.measure(200)
    assert row["history_movements"] == 200
    assert row["line_ms"] > 0
    assert row["scan_ms_baseline"] > 0
    assert row["scan_vs_line"] == round(row["scan_ms_baseline"] / row["line_ms"], 1)
