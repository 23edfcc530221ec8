"""The D'Hondt split: the fast computation equals handing out units one at a time, and one more unit never takes a
unit away from anyone."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from omnibridge.policy.split import split


def one_at_a_time(units: int, weights: list[int], caps: list[int]) -> list[int]:
    """The definition: each unit to the highest weight / (given + 1), ties to the first listed."""
    shares = [0] * len(weights)
    for _ in range(units):
        best = -1
        for i, weight in enumerate(weights):
            if shares[i] >= caps[i]:
                continue
            if best < 0 or weight * (shares[best] + 1) > weights[best] * (shares[i] + 1):
                best = i
        if best < 0:
            break
        shares[best] += 1
    return shares


channels = st.lists(st.tuples(st.integers(0, 12), st.integers(0, 40)), min_size=1, max_size=6)


@given(units=st.integers(0, 120), table=channels)
def test_equals_the_unit_by_unit_definition(units: int, table: list[tuple[int, int]]) -> None:
    weights = [weight for weight, _ in table]
    caps = [cap for _, cap in table]
    assert split(units, weights, caps) == one_at_a_time(units, weights, caps)


@given(units=st.integers(0, 120), table=channels)
def test_one_more_unit_takes_nothing_away(units: int, table: list[tuple[int, int]]) -> None:
    weights = [weight for weight, _ in table]
    caps = [cap for _, cap in table]
    before, after = split(units, weights, caps), split(units + 1, weights, caps)
    assert all(b <= a for b, a in zip(before, after, strict=True))
    assert sum(after) == min(units + 1, sum(caps))


def test_large_pools_are_split_in_proportion() -> None:
    assert split(1_000_000, [1, 3], [1 << 62, 1 << 62]) == [250_000, 750_000]


def test_ties_go_to_the_first_listed() -> None:
    assert split(1, [1, 1, 1], [9, 9, 9]) == [1, 0, 0]
    assert split(2, [1, 1, 1], [9, 9, 9]) == [1, 1, 0]


def test_weight_zero_takes_only_what_the_others_cannot() -> None:
    assert split(10, [1, 0, 0], [4, 3, 9]) == [4, 3, 3]
