from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from omnibridge.sdk import RetryPolicy, parse_retry_after

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("header", "expected"), [("2", 2.0), ("2.0", 2.0), (" 0.25 ", 0.25), ("-3", 0.0)])
def test_retry_after_in_seconds(header: str, expected: float) -> None:
    assert parse_retry_after(header, now=NOW) == expected


def test_retry_after_as_http_date() -> None:
    header = format_datetime(datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC), usegmt=True)
    assert header == "Sun, 01 Mar 2026 12:00:07 GMT"
    assert parse_retry_after(header, now=NOW) == 7.0


def test_retry_after_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Sun, 01 Mar 2026 11:59:00 GMT", now=NOW) == 0.0


@pytest.mark.parametrize("header", [None, "", "soon", "Sun, 01 Mar 2026"])
def test_unusable_retry_after_is_none(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_backoff=1.0, multiplier=2.0, max_backoff=5.0, jitter=0.5, rng=lambda: 0.0)
    assert [policy.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 2.5, 2.5]
    full = RetryPolicy(initial_backoff=1.0, multiplier=2.0, max_backoff=5.0, jitter=0.5, rng=lambda: 0.999999)
    assert full.backoff(3) == pytest.approx(4.0, abs=1e-5)


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="jitter"):
        RetryPolicy(jitter=1.5)
    assert RetryPolicy.no_retry().max_attempts == 1
