"""Stage 3: allocate the order's lines to the ranked locations under the split policy.

Granularity: a whole line ships from one location (an order line record has one location), so an order splits
across lines, never inside one; a line no single location holds whole stays unallocated. Two lines of the same SKU
share the location's stock. Within a set of locations a line goes to the best-ranked one that still holds it; lines
of one SKU competing for the same stock are shared out so that the most units ship.

* ``never``: the best-ranked location that ships every line, or nothing.
* ``fewest_packages``: single locations first, then pairs, triples... up to ``max_splits + 1`` locations
  (Salesforce's ``findRoutesWithFewestSplits``); among sets of the same size, the one whose summed ranking numbers
  are lowest rule by rule (so with ``distance`` last, the shortest total distance). At most
  ``combination_budget`` sets are tried. When no set ships every line that some location holds, the set that
  ships the most units.
* ``value_threshold``: one location for everything when one can; otherwise split off the lines a location holds
  only when both that part and the rest are worth at least ``value_threshold`` (HotWax), up to ``max_splits``
  times. A line without a unit value is worth 0.
* ``greedy``: each line from the best-ranked location that holds it.

A pickup or curbside order is never split, whatever the policy: the customer collects in one place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from omnibridge.models import FulfilmentMethod
from omnibridge.routing.model import Allocation, RouteLine, RouteRequest
from omnibridge.routing.ranking import Ranked
from omnibridge.routing.rules import RoutingRules, SplitPolicy

_COLLECTED = frozenset({FulfilmentMethod.PICKUP_IN_STORE, FulfilmentMethod.CURBSIDE})
"""A customer collects in one place: these orders are never split, whatever the policy."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What allocation decided: ``allocations`` and the line ids left (``unallocated``, id -> units), with a
    ``reason`` when anything is left."""

    allocations: tuple[Allocation, ...]
    unallocated: dict[str, int] = field(default_factory=dict)
    reason: str = ""


def allocate(ranked: Sequence[Ranked], request: RouteRequest, rules: RoutingRules) -> Plan:
    """Allocate ``request``'s lines over ``ranked`` (best first) under ``rules.split``."""
    lines = request.lines
    if rules.split is SplitPolicy.NEVER or request.method in _COLLECTED:
        return _never(ranked, lines)
    if rules.split is SplitPolicy.GREEDY:
        return _plan(lines, _assign(lines, ranked), "no eligible location holds it whole")
    if rules.split is SplitPolicy.VALUE_THRESHOLD:
        return _value_threshold(ranked, lines, rules)
    return _fewest_packages(ranked, lines, rules)


def _assign(lines: Sequence[RouteLine], group: Sequence[Ranked]) -> dict[str, Ranked]:
    """line id -> the member of ``group`` that ships it, sharing each location's stock: each line to the
    best-ranked member that holds it; where lines of one SKU compete for the same stock, the way of sharing it out
    that ships the most units (the first such in rank order)."""
    by_sku: dict[str, list[RouteLine]] = {}
    for line in lines:
        by_sku.setdefault(line.sku, []).append(line)
    chosen: dict[str, Ranked] = {}
    for sku, same in by_sku.items():
        holders = [m for m in group if any(line.line_id in m.candidate.lines for line in same)]
        left = [m.candidate.stock[sku] for m in holders]
        if len(same) == 1 or len(holders) <= 1:
            for line in same:
                for position, member in enumerate(holders):
                    if line.line_id in member.candidate.lines and left[position] >= line.quantity:
                        left[position] -= line.quantity
                        chosen[line.line_id] = member
                        break
        else:
            chosen.update(_share(same, holders, left))
    return chosen


def _share(same: list[RouteLine], holders: list[Ranked], left: list[int]) -> dict[str, Ranked]:
    """Lines of one SKU over the locations holding it: depth first in rank order, keeping the assignment that
    ships the most units; at most ``_SHARE_STEPS`` steps (then the best found)."""
    best: tuple[int, dict[str, Ranked]] = (-1, {})
    current: dict[str, Ranked] = {}
    steps = 0
    total = sum(line.quantity for line in same)

    def visit(index: int, units: int) -> None:
        nonlocal best, steps
        steps += 1
        if index == len(same) or steps > _SHARE_STEPS:
            if units > best[0]:
                best = (units, dict(current))
            return
        line = same[index]
        for position, member in enumerate(holders):
            if line.line_id in member.candidate.lines and left[position] >= line.quantity:
                left[position] -= line.quantity
                current[line.line_id] = member
                visit(index + 1, units + line.quantity)
                del current[line.line_id]
                left[position] += line.quantity
                if best[0] == total:
                    return
        visit(index + 1, units)

    visit(0, 0)
    return best[1]


_SHARE_STEPS = 2_000


def _plan(lines: Sequence[RouteLine], chosen: dict[str, Ranked], why_left: str) -> Plan:
    allocations = tuple(
        Allocation(line.line_id, line.sku, chosen[line.line_id].candidate.id, line.quantity)
        for line in lines
        if line.line_id in chosen
    )
    unallocated = {line.line_id: line.quantity for line in lines if line.line_id not in chosen}
    return Plan(allocations, unallocated, why_left if unallocated else "")


def _never(ranked: Sequence[Ranked], lines: Sequence[RouteLine]) -> Plan:
    for member in ranked:
        chosen = _assign(lines, (member,))
        if len(chosen) == len(lines):
            return _plan(lines, chosen, "")
    return _plan(lines, {}, "no single eligible location ships every line (split policy: never)")


def _fewest_packages(ranked: Sequence[Ranked], lines: Sequence[RouteLine], rules: RoutingRules) -> Plan:
    index = {line.line_id: bit for bit, line in enumerate(lines)}
    masks = [sum(1 << index[line_id] for line_id in member.candidate.lines) for member in ranked]
    target = 0
    for mask in masks:
        target |= mask
    if not target:
        return _plan(lines, {}, "no eligible location holds any line whole")
    best = _search(ranked, lines, rules, masks, target)
    if best is not None:
        return _plan(lines, best, "no eligible location holds it whole")
    partial = _search(ranked, lines, rules, masks, None)
    return _plan(lines, partial or {}, f"not every line fits in {rules.max_splits + 1} packages (max_splits)")


def _search(
    ranked: Sequence[Ranked], lines: Sequence[RouteLine], rules: RoutingRules, masks: list[int], target: int | None
) -> dict[str, Ranked] | None:
    """The best set of locations shipping every line of ``target`` (a bit mask of line positions), smallest sets
    first; with ``target`` None, the set shipping the most units."""
    skip = rules.ranking.index("fewest_packages") if "fewest_packages" in rules.ranking else None
    largest = min(rules.max_splits + 1, len(ranked))
    pool = _undominated(masks, largest)
    quantities = [line.quantity for line in lines]

    def units(mask: int) -> int:
        return sum(quantity for bit, quantity in enumerate(quantities) if mask >> bit & 1)

    budget = rules.combination_budget
    best: tuple[tuple[float, ...], dict[str, Ranked]] | None = None
    most = 0
    wanted = bin(target).count("1") if target is not None else 0
    for size in range(1, min(largest, len(pool)) + 1):
        for picked in combinations(pool, size):
            if budget <= 0:
                return best[1] if best is not None else None
            budget -= 1
            union = 0
            for i in picked:
                union |= masks[i]
            if union != target if target is not None else units(union) < most:
                continue
            chosen = _assign(lines, [ranked[i] for i in picked])
            if len({member.candidate.id for member in chosen.values()}) < size:
                continue
            if target is None or len(chosen) == wanted:
                best = _better(best, _score(lines, chosen, skip, partial=target is None))
                most = max(most, -int(best[0][0])) if target is None else most
        if best is not None and target is not None:
            break
    return best[1] if best is not None else None


def _undominated(masks: list[int], keep: int) -> list[int]:
    """Positions of the candidates worth combining: the ``keep`` best-ranked of each set of lines held. A worse-
    ranked location holding the same lines never makes a better set (its ranking numbers are no lower); keeping a
    few still lets lines of one SKU spread over several locations that hold the same lines."""
    seen: dict[int, int] = {}
    pool: list[int] = []
    for position, mask in enumerate(masks):
        if seen.get(mask, 0) < keep:
            seen[mask] = seen.get(mask, 0) + 1
            pool.append(position)
    return pool


def _score(
    lines: Sequence[RouteLine], chosen: dict[str, Ranked], skip: int | None, *, partial: bool
) -> tuple[tuple[float, ...], dict[str, Ranked]]:
    used = {member.candidate.id: member for member in chosen.values()}
    sums: list[float] = []
    for members in zip(*(member.keys for member in used.values()), strict=True):
        sums.append(math.fsum(members) if not any(math.isinf(v) for v in members) else sum(members))
    if skip is not None and sums:
        sums.pop(skip)
    ranks = tuple(float(member.rank) for member in sorted(used.values(), key=lambda m: m.rank))
    units = sum(line.quantity for line in lines if line.line_id in chosen)
    head: tuple[float, ...] = (-float(units), float(len(used))) if partial else (float(len(used)),)
    return head + tuple(sums) + ranks, chosen


def _better(
    current: tuple[tuple[float, ...], dict[str, Ranked]] | None, new: tuple[tuple[float, ...], dict[str, Ranked]]
) -> tuple[tuple[float, ...], dict[str, Ranked]]:
    return new if current is None or new[0] < current[0] else current


def _value(lines: Sequence[RouteLine]) -> Decimal:
    return sum((line.unit_value or Decimal(0)) * line.quantity for line in lines) or Decimal(0)


def _value_threshold(ranked: Sequence[Ranked], lines: Sequence[RouteLine], rules: RoutingRules) -> Plan:
    threshold = rules.value_threshold
    remaining = list(lines)
    pool = list(ranked)
    chosen: dict[str, Ranked] = {}
    reason = ""
    for package in range(rules.max_splits + 1):
        whole = next((m for m in pool if len(_assign(remaining, (m,))) == len(remaining)), None)
        if whole is not None:
            chosen.update(_assign(remaining, (whole,)))
            remaining = []
            break
        if package == rules.max_splits:
            reason = f"not every line fits in {rules.max_splits + 1} packages (max_splits)"
            break
        options = []
        for member in pool:
            part = _assign(remaining, (member,))
            shipped = [line for line in remaining if line.line_id in part]
            rest = [line for line in remaining if line.line_id not in part]
            if shipped and _value(shipped) >= threshold and _value(rest) >= threshold:
                options.append((-_value(shipped), member.rank, member, part))
        if not options:
            reason = f"splitting would leave a part worth less than the value threshold {threshold}"
            break
        _, _, member, part = min(options, key=lambda option: (option[0], option[1]))
        chosen.update(part)
        remaining = [line for line in remaining if line.line_id not in part]
        pool.remove(member)
    held = {line_id for member in pool for line_id in member.candidate.lines}
    if remaining and not any(line.line_id in held for line in remaining):
        reason = "no eligible location holds it whole"
    plan = _plan(lines, chosen, reason)
    return Plan(plan.allocations, plan.unallocated, reason if plan.unallocated else "")
