"""Carry a routing decision out on Shopify: move (or reroute) an order's fulfillment orders (fulfilment-contracts A1).

:func:`assign_lines` implements :class:`~omnibridge.sdk.fulfilment.LineAssigner` for
:class:`~connectors.shopify.client.ShopifyClient`:

1. read the order's fulfillment orders; plan the moves that make the assignments true
   (:func:`~connectors.shopify.fulfilment_plan.plan_moves`); nothing to move → ``duplicate=True``;
2. refuse, changing nothing, when a source fulfillment order does not offer ``MOVE`` (a fulfillment service has it:
   ``requestStatus`` SUBMITTED or ACCEPTED...);
3. hold each source fulfillment order with handle ``omnibridge-routing`` (reason OTHER; from 2025-01, where holds
   stack) so staff do not pick what is about to move; a hold left by an interrupted run is reused;
4. ask ``locationsForMove`` whether each destination can take the lines; any "not movable" → refused with
   Shopify's message, holds released, nothing moved;
5. ``fulfillmentOrderMove`` with ``fulfillmentOrderLineItems`` (a partial move: several moves split a line);
6. release the holds, whatever happened.

With ``exclude_refs``, Shopify re-ranks by its own routing settings instead: ``fulfillmentOrdersReroute`` of the
fulfillment orders at those locations (API 2025-10+; older versions → refused with the reason).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connectors.shopify import fulfilment_queries as fq
from connectors.shopify.fulfilment_plan import FoView, Move, parse_fulfillment_orders, plan_moves
from omnibridge.sdk import ConnectorError
from omnibridge.sdk.fulfilment import AssignmentResult, LineAssignment

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["HOLD_HANDLE", "assign_lines", "read_fulfillment_orders", "user_errors"]

HOLD_HANDLE = "omnibridge-routing"
"""The handle of omnibridge's hold while it moves fulfillment orders (unique per app and fulfillment order)."""
_ORDER_GID = "gid://shopify/Order/"
_MAX_ROUNDS = 3


def user_errors(payload: object) -> str:
    """``userErrors`` of a mutation payload as one line ('' when none)."""
    errors = payload.get("userErrors") if isinstance(payload, Mapping) else None
    return "; ".join(
        f"{e['code']}: {e.get('message')}" if e.get("code") else str(e.get("message"))
        for e in errors or ()
        if isinstance(e, Mapping)
    )


async def read_fulfillment_orders(client: ShopifyClient, order_ref: str, op: str) -> tuple[list[FoView], str]:
    """The order's fulfillment orders, or a problem ('' when none) saying why they cannot be used."""
    if not order_ref.startswith(_ORDER_GID) or not order_ref[len(_ORDER_GID) :].isdigit():
        return [], f"{order_ref!r} is not a Shopify order id: expected {_ORDER_GID}<number>"
    data = await client.graphql(op, fq.fulfillment_orders_query(client.settings.api_version), {"id": order_ref})
    order = data.get("order")
    if not isinstance(order, Mapping):
        return [], f"Shopify has no order {order_ref}"
    return parse_fulfillment_orders(order)


def _refuse_all(assignments: Sequence[LineAssignment], reason: str) -> AssignmentResult:
    return AssignmentResult(
        False, refused=tuple((a.line_ref, a.location_ref, reason) for a in assignments), message=reason
    )


async def assign_lines(
    client: ShopifyClient,
    order_ref: str,
    assignments: Sequence[LineAssignment],
    *,
    exclude_refs: Sequence[str] = (),
) -> AssignmentResult:
    """See the module docstring; infrastructure errors raise (the caller repeats the same request)."""
    if exclude_refs:
        return await _reroute(client, order_ref, assignments, exclude_refs)
    op = "assign_lines"
    fos, problem = await read_fulfillment_orders(client, order_ref, op)
    if problem:
        return _refuse_all(assignments, problem)
    plan = plan_moves(fos, assignments)
    if plan.refused:
        return AssignmentResult(False, refused=plan.refused, message="nothing was changed: " + plan.refused[0][2])
    held = {fo.id: hold for fo in fos if fo.open and (hold := fo.hold_id(HOLD_HANDLE))}
    if not plan.moves:
        await _release(client, held, set())
        return AssignmentResult(True, duplicate=True, message="every assignment already stands on Shopify")
    blocked = _blocked(plan.moves)
    if blocked:
        return AssignmentResult(False, refused=blocked, message="nothing was changed: " + blocked[0][2])
    closed: set[str] = set()
    try:
        result = await _carry_out(client, order_ref, assignments, plan.moves, held, closed)
    except BaseException:
        with contextlib.suppress(ConnectorError):
            await _release(client, held, closed)
        raise
    problems = await _release(client, held, closed)
    if problems and result.accepted:
        return AssignmentResult(True, message=f"moved; releasing omnibridge's hold: {problems}")
    return result


def _blocked(moves: Sequence[Move]) -> tuple[tuple[str, str, str], ...]:
    return tuple(
        (
            ref,
            move.target,
            f"fulfillment order {move.fo.id} cannot be moved (status {move.fo.status}, request status "
            f"{move.fo.request_status}: a fulfillment service must accept a cancellation first)",
        )
        for move in moves
        if "MOVE" not in move.fo.actions
        for ref in move.refs
    )


async def _carry_out(
    client: ShopifyClient,
    order_ref: str,
    assignments: Sequence[LineAssignment],
    moves: Sequence[Move],
    held: dict[str, str],
    closed: set[str],
) -> AssignmentResult:
    done = 0
    for _ in range(_MAX_ROUNDS):
        # Empty a location before moving units into it: a move into a location that has a fulfillment order of
        # the order closes that one (Shopify merges), which a later move out of it would then name.
        destinations = {move.target for move in moves}
        moves = sorted(moves, key=lambda move: move.fo.location not in destinations)
        refusal = await _hold(client, moves, held)
        if refusal is None:
            refusal = await _feasibility(client, moves)
        if refusal is not None:
            suffix = "nothing was moved" if done == 0 else f"{done} move(s) were made before"
            return AssignmentResult(False, refused=refusal, message=f"{refusal[0][2]} ({suffix})")
        targets: set[str] = set()
        deferred = False
        for move in moves:
            # Moving into a location whose fulfillment order was just merged away would name a closed one:
            # such moves wait for a fresh read.
            if move.fo.location in targets:
                deferred = True
                continue
            problem = await _move(client, move, closed)
            if problem:
                refused = tuple((ref, move.target, problem) for ref in move.refs)
                return AssignmentResult(False, refused=refused, message=f"{problem} ({done} move(s) were made before)")
            done += 1
            targets.add(move.target)
        if not deferred:
            return AssignmentResult(True, message=f"{done} fulfillment order move(s) made")
        fos, problem = await read_fulfillment_orders(client, order_ref, "assign_lines")
        plan = plan_moves(fos, assignments) if not problem else None
        if plan is None or plan.refused or _blocked(plan.moves):
            reason = problem or "Shopify's fulfillment orders changed while moving"
            return _refuse_all(assignments, f"{reason} ({done} move(s) were made)")
        moves = plan.moves
        if not moves:
            return AssignmentResult(True, message=f"{done} fulfillment order move(s) made")
    return _refuse_all(assignments, f"the moves did not settle after {_MAX_ROUNDS} rounds ({done} made)")


async def _hold(
    client: ShopifyClient, moves: Sequence[Move], held: dict[str, str]
) -> tuple[tuple[str, str, str], ...] | None:
    if not fq.supports_hold_handles(client.settings.api_version):
        return None  # before 2025-01 holds do not stack and carry no handle: move without one
    for move in moves:
        if move.fo.id in held:
            continue
        hold = {"reason": "OTHER", "handle": HOLD_HANDLE, "reasonNotes": "omnibridge is routing this order"}
        data = await client.graphql("assign_lines", fq.HOLD_MUTATION, {"id": move.fo.id, "fulfillmentHold": hold})
        payload = data.get("fulfillmentOrderHold")
        problem = user_errors(payload)
        created = payload.get("fulfillmentHold") if isinstance(payload, Mapping) else None
        if problem or not isinstance(created, Mapping):
            reason = f"Shopify would not hold fulfillment order {move.fo.id}: {problem or 'no hold returned'}"
            return tuple((ref, move.target, reason) for ref in move.refs)
        held[move.fo.id] = str(created["id"])
    return None


async def _feasibility(client: ShopifyClient, moves: Sequence[Move]) -> tuple[tuple[str, str, str], ...] | None:
    refused: list[tuple[str, str, str]] = []
    for move in moves:
        variables = {"id": move.fo.id, "lineItemIds": [i for i, _ in move.items], "locationIds": [move.target]}
        data = await client.graphql("assign_lines", fq.LOCATIONS_FOR_MOVE_QUERY, variables)
        fo = data.get("fulfillmentOrder")
        connection = fo.get("locationsForMove") if isinstance(fo, Mapping) else None
        nodes: list[Any] = connection.get("nodes") or [] if isinstance(connection, Mapping) else []
        node = next(
            (n for n in nodes if isinstance(n, Mapping) and (n.get("location") or {}).get("id") == move.target), None
        )
        if node is None:
            reason = f"Shopify does not offer {move.target} as a location for fulfillment order {move.fo.id}"
        elif node.get("movable") is not True:
            reason = str(node.get("message") or f"Shopify cannot move these lines to {move.target}")
        else:
            continue
        refused.extend((ref, move.target, reason) for ref in move.refs)
    return tuple(refused) or None


async def _move(client: ShopifyClient, move: Move, closed: set[str]) -> str:
    variables = {
        "id": move.fo.id,
        "newLocationId": move.target,
        "fulfillmentOrderLineItems": [{"id": line_id, "quantity": units} for line_id, units in move.items],
    }
    data = await client.graphql("assign_lines", fq.MOVE_MUTATION, variables)
    payload = data.get("fulfillmentOrderMove")
    problem = user_errors(payload)
    if problem:
        return f"Shopify refused to move fulfillment order {move.fo.id} to {move.target}: {problem}"
    original = payload.get("originalFulfillmentOrder") if isinstance(payload, Mapping) else None
    if isinstance(original, Mapping) and original.get("status") in ("CLOSED", "CANCELLED"):
        closed.add(move.fo.id)
    return ""


async def _release(client: ShopifyClient, held: dict[str, str], closed: set[str]) -> str:
    """Release omnibridge's holds (not on fulfillment orders a move closed); problems as one line."""
    problems: list[str] = []
    for fo_id, hold_id in list(held.items()):
        if fo_id not in closed:
            data = await client.graphql(
                "assign_lines", fq.RELEASE_HOLD_MUTATION, {"id": fo_id, "holdIds": [hold_id]}, idempotent=True
            )
            problem = user_errors(data.get("fulfillmentOrderReleaseHold"))
            if problem:
                problems.append(f"{fo_id}: {problem}")
                continue
        del held[fo_id]
    return "; ".join(problems)


async def _reroute(
    client: ShopifyClient, order_ref: str, assignments: Sequence[LineAssignment], exclude_refs: Sequence[str]
) -> AssignmentResult:
    version = client.settings.api_version
    if not fq.supports_reroute(version):
        return _refuse_all(
            assignments,
            f"letting Shopify re-route needs API version {fq.REROUTE_SINCE} or later (fulfillmentOrdersReroute); "
            f"the Shopify profile sets api_version {version}",
        )
    fos, problem = await read_fulfillment_orders(client, order_ref, "assign_lines")
    if problem:
        return _refuse_all(assignments, problem)
    excluded = set(exclude_refs)
    groups: dict[str, list[FoView]] = {}
    for fo in fos:
        if fo.open and fo.location in excluded and any(line.remaining for line in fo.lines):
            groups.setdefault(str(fo.location), []).append(fo)
    if not groups:
        return AssignmentResult(True, duplicate=True, message="no open fulfillment order is at an excluded location")
    refused: list[tuple[str, str, str]] = []
    for location, group in groups.items():
        blocked = [fo for fo in group if "MOVE" not in fo.actions]
        reason = (
            f"fulfillment order {blocked[0].id} cannot be re-routed (request status {blocked[0].request_status})"
            if blocked
            else ""
        )
        if not reason:
            variables = {"fulfillmentOrderIds": [fo.id for fo in group], "excludedLocationIds": list(exclude_refs)}
            data = await client.graphql("assign_lines", fq.REROUTE_MUTATION, variables)
            problem = user_errors(data.get("fulfillmentOrdersReroute"))
            reason = f"Shopify could not re-route from {location}: {problem}" if problem else ""
        if reason:
            refs = dict.fromkeys(line.line_id for fo in group for line in fo.lines if line.remaining)
            refused.extend((ref, location, reason) for ref in refs)
    if refused:
        return AssignmentResult(False, refused=tuple(refused), message=refused[0][2])
    return AssignmentResult(True, message=f"Shopify re-routed the fulfillment orders at {len(groups)} location(s)")
