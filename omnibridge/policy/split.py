"""Split whole units between channels by weight (the D'Hondt method), with a cap per channel.

Units go one at a time to the channel with the highest ``weight / (units so far + 1)``; ties go to the channel
listed first (the planner lists channels by priority, highest first, then by id). A channel at its cap takes no
more. Because every split of ``n + 1`` units is the split of ``n`` units plus one, one more unit to split never
takes a unit away from any channel. :func:`split` computes the same result in a few steps instead of one per unit.
"""

from __future__ import annotations

from collections.abc import Sequence


def split(units: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """``units`` split between channels with integer ``weights`` (>= 0) and ``caps`` (>= 0), in list order.

    The result never exceeds a cap and sums to ``min(units, sum(caps))``.
    """
    count = len(weights)
    shares = [0] * count
    if units <= 0 or count == 0:
        return shares
    if count == 1:
        shares[0] = min(units, caps[0])
        return shares
    left = units
    open_ = [i for i in range(count) if caps[i] > 0]
    # Proportional floors, fixing channels whose floor reaches their cap and re-splitting what is left: every unit
    # handed out here is one the unit-by-unit method hands out too (its quotient is above the final divisor).
    while open_ and left > 0:
        total = sum(weights[i] for i in open_)
        if total == 0:
            break
        capped = [i for i in open_ if weights[i] * left // total >= caps[i]]
        if not capped:
            given = 0
            for i in open_:
                shares[i] = weights[i] * left // total
                given += shares[i]
            left -= given
            break
        for i in capped:
            shares[i] = caps[i]
            left -= caps[i]
        open_ = [i for i in open_ if shares[i] < caps[i]]
    # The rest (fewer units than open channels, unless only weight-0 channels are left) one at a time.
    while left > 0:
        best = -1
        for i in range(count):
            if shares[i] >= caps[i]:
                continue
            if best < 0 or weights[i] * (shares[best] + 1) > weights[best] * (shares[i] + 1):
                best = i
        if best < 0:
            break
        take = 1 if weights[best] else min(left, caps[best] - shares[best])
        shares[best] += take
        left -= take
    return shares
