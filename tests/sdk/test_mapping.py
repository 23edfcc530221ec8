from __future__ import annotations

import pytest

from omnibridge.sdk import MapLevel, MapMessage, MapResult, collect, ok, skip, warning


def parse_quantity(raw: object) -> MapResult[int]:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return ok(raw)
    if isinstance(raw, str) and raw.isdigit():
        return ok(int(raw), warning("quantity sent as text", field_path="qty"))
    return skip(f"{raw!r} is not a quantity", field_path="qty", record_id=str(raw))


def test_ok_carries_the_value_and_warnings() -> None:
    result = parse_quantity("7")
    assert result.ok
    assert not result.skipped
    assert result.value == 7
    assert result.messages == [MapMessage(MapLevel.WARNING, "qty", "quantity sent as text")]


def test_skip_carries_no_value_and_an_error() -> None:
    result = parse_quantity(None)
    assert result.skipped
    assert not result.ok
    assert result.value is None
    assert result.messages == [MapMessage(MapLevel.ERROR, "qty", "None is not a quantity", "None")]


def test_zero_is_a_value_not_a_skip() -> None:
    assert parse_quantity(0).ok


def test_ok_refuses_none() -> None:
    with pytest.raises(ValueError, match="skip"):
        ok(None)


def test_one_bad_record_does_not_fail_the_batch() -> None:
    values, messages = collect(parse_quantity(raw) for raw in [1, "x", "3", 4])
    assert values == [1, 3, 4]
    assert [(m.level, m.message) for m in messages] == [
        (MapLevel.ERROR, "'x' is not a quantity"),
        (MapLevel.WARNING, "quantity sent as text"),
    ]
