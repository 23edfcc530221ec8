"""The pickup benchmark, quick and small: counts and figures are asserted, never times (a test never judges wall
time)."""

from __future__ import annotations

import random

from bench import pickup
from omnibridge.pickup.options import FALLBACKS


def test_a_small_run_answers_every_request_and_counts_the_fallbacks() -> None:
    result = pickup.measure(10, 200, seconds=1, rate=40)
    assert (result["rate"], result["requests"], result["errors"]) == (40, 40, 0)
    assert sum(result[name] for name in FALLBACKS) == 40
    assert result["fallbacks"] == {name: result[name] for name in FALLBACKS}
    assert 0 < result["p50_ms"] <= result["p99_ms"]
    assert [row["measured"] for row in result["rows"]] == [
        "GET /api/pickup-options (HTTP, uvicorn)",
        "PickupDesk.options() direct (reads + decision)",
        "decide() alone (stock read before)",
    ]
    assert isinstance(result["goal_met"], bool)


def test_the_world_is_seeded() -> None:
    first = pickup.profile_text("sqlite:///x.db", 5, random.Random(1)), pickup.queries(5, 100, random.Random(1))
    again = pickup.profile_text("sqlite:///x.db", 5, random.Random(1)), pickup.queries(5, 100, random.Random(1))
    assert first == again
