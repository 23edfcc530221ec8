"""Why a channel shows what it shows: the planner's arithmetic for one location, told as one sentence per channel.

This is the slow twin of :meth:`omnibridge.policy.AvailabilityPlanner.quantities` (it formats text); it walks the
same compiled plan and the same split, so the quantities always agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.policy.plan import NO_CAP, LocationPlan, Seat, Variant, strict_split
from omnibridge.policy.split import split


@dataclass(frozen=True, slots=True)
class Allocation:
    """The quantity ``channel`` should show at ``location_id`` and why.

    ``rule`` is a short code for the rule that decided the number: ``pool`` (the location's available as is),
    ``safety_stock``, ``ring_fence``, ``buffer``, ``share``, ``cap``, ``minimum``, ``low_stock``, ``split`` (strict
    mode: the channel's part of the pool) or ``not_fed`` (the location does not feed this channel).
    ``explanation`` is one line for a person, with the numbers.
    """

    channel: str
    location_id: str
    quantity: int
    rule: str
    explanation: str


def explain_location(plan: LocationPlan, here: int, policy: AvailabilityPolicy) -> list[Allocation]:
    """An :class:`Allocation` for every channel fed at ``plan``'s location, given ``here`` available there."""
    low = here < plan.threshold
    found: list[Allocation] = []
    for seat in plan.seats:
        if low and seat.low_excluded:
            found.append(_low_stock(plan, seat, here, policy))
    variant = plan.low if low else plan.normal
    if policy.mode == "strict":
        found.extend(_strict(plan, variant, here))
    else:
        found.extend(_shared(plan, seat, here) for seat in variant.seats)
    return found


def _low_stock(plan: LocationPlan, seat: Seat, here: int, policy: AvailabilityPolicy) -> Allocation:
    minimum = policy.low_stock.min_priority if policy.low_stock is not None else 0
    text = (
        f"available {here} at {plan.location} is below the low-stock threshold {plan.threshold} and "
        f"{seat.channel}'s priority {seat.priority} is below {minimum}: shows 0"
    )
    return Allocation(seat.channel, plan.location, 0, "low_stock", text)


def _pool_text(plan: LocationPlan, here: int) -> tuple[str, int, str]:
    text = f"available {here} at {plan.location}"
    if plan.safety:
        return f"{text} - safety {plan.safety}", here - plan.safety, "safety_stock"
    return text, here, "pool"


def _shared(plan: LocationPlan, seat: Seat, here: int) -> Allocation:
    text, value, rule = _pool_text(plan, here)
    fence = seat.reduce - seat.rules.buffer
    if fence:
        text, value, rule = f"{text} - ring fence {fence}", value - fence, "ring_fence"
    if seat.rules.buffer:
        text, value, rule = f"{text} - buffer {seat.rules.buffer}", value - seat.rules.buffer, "buffer"
    if value != here:
        text += f" = {value}"
    if value <= 0:
        return Allocation(seat.channel, plan.location, 0, rule, f"{text}: nothing to show")
    if seat.share_num != seat.share_den:
        shared = value * seat.share_num // seat.share_den
        text += f", share {float(seat.rules.share or 1):g} of it = {shared}"
        value, rule = shared, "share"
    if value > seat.cap:
        text, value, rule = f"{text}, capped at {seat.cap}", seat.cap, "cap"
    if 0 < value < seat.minimum:
        text, value, rule = f"{text}, below the minimum {seat.minimum}: shows 0", 0, "minimum"
    return Allocation(seat.channel, plan.location, value, rule, text)


def _strict(plan: LocationPlan, variant: Variant, here: int) -> list[Allocation]:
    seats, weights = variant.seats, variant.weights
    head, pool, pool_rule = _pool_text(plan, here)
    if plan.safety:
        head += f" = {pool}"
    if pool <= 0:
        return [Allocation(s.channel, plan.location, 0, pool_rule, f"{head}: nothing to show") for s in seats]
    shares = strict_split(plan, variant, pool)
    fence = min(plan.fence, pool)
    if fence:
        fenced = ", ".join(seats[position].channel for position in variant.fenced) or "no channel shown now"
        head += f"; the last {fence} kept for {fenced}"
    total = sum(weights)
    names = ", ".join(
        f"{s.channel} {100 * w / total:.0f}%" if total else s.channel for s, w in zip(seats, weights, strict=True)
    )
    fenced_shares = dict.fromkeys(variant.fenced, 0)
    if fence and variant.fenced:
        fenced_shares.update(
            zip(variant.fenced, split(fence, variant.fenced_weights, variant.fenced_caps), strict=True)
        )
    found: list[Allocation] = []
    for position, seat in enumerate(seats):
        value = shares[position]
        general = value - fenced_shares.get(position, 0)
        if len(seats) > 1:
            text, rule = f"{head}; {pool - fence} split by weight ({names}): {general}", "split"
        else:
            text, rule = f"{head}; {seat.channel} alone: {general}", pool_rule
        if position in fenced_shares and fence:
            text += f" + {fenced_shares[position]} ring-fenced = {value}"
            rule = "ring_fence" if general == 0 else rule
        if seat.cap != NO_CAP and value == seat.cap:
            text, rule = f"{text}, capped at {seat.cap}", "cap"
        limit = pool - seat.reduce
        if value > limit:
            held = f"{pool}" + (f" - ring fence {seat.reduce - seat.rules.buffer}" if not seat.fenced and fence else "")
            held += f" - buffer {seat.rules.buffer}" if seat.rules.buffer else ""
            value = max(0, limit)
            text += f", held to {held} = {value}"
            rule = "buffer" if seat.rules.buffer else "ring_fence"
        if 0 < value < seat.minimum:
            text, value, rule = f"{text}, below the minimum {seat.minimum}: shows 0", 0, "minimum"
        found.append(Allocation(seat.channel, plan.location, value, rule, text))
    return found
