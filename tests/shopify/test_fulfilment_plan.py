"""The pure planning of Shopify moves and the carrier names sent with tracking."""

from __future__ import annotations

from connectors.shopify.fulfilment_plan import FoLine, FoView, parse_fulfillment_orders, plan_moves, shopify_carrier
from omnibridge.sdk.fulfilment import LineAssignment

A, B, C = "gid://shopify/Location/1", "gid://shopify/Location/2", "gid://shopify/Location/3"
TENT, STOVE = "gid://shopify/LineItem/10", "gid://shopify/LineItem/20"


def _fo(fo_id: str, location: str, *lines: tuple[str, str, int], status: str = "OPEN") -> FoView:
    return FoView(fo_id, status, "UNSUBMITTED", frozenset({"MOVE"}), location, (), tuple(FoLine(*x) for x in lines))


def test_units_already_where_assigned_stay_and_the_rest_moves_in_one_move_per_target() -> None:
    fos = [_fo("X", A, ("x1", TENT, 3), ("x2", STOVE, 1))]
    plan = plan_moves(
        fos,
        [
            LineAssignment(TENT, 1, A),
            LineAssignment(TENT, 2, B),
            LineAssignment(STOVE, 1, B),
        ],
    )
    assert plan.refused == ()
    assert [(m.fo.id, m.target, m.items, m.refs) for m in plan.moves] == [
        ("X", B, (("x1", 2), ("x2", 1)), (TENT, STOVE)),
    ]


def test_a_split_line_ref_takes_only_the_units_at_its_location() -> None:
    fos = [_fo("X", A, ("x1", TENT, 1)), _fo("Y", B, ("y1", TENT, 2))]
    plan = plan_moves(fos, [LineAssignment(f"{TENT}@{B}", 2, C)])
    assert [(m.fo.id, m.target, m.items) for m in plan.moves] == [("Y", C, (("y1", 2),))]
    assert plan_moves(fos, [LineAssignment(f"{TENT}@{B}", 2, B)]).moves == ()


def test_closed_fulfillment_orders_and_over_asks() -> None:
    fos = [_fo("X", A, ("x1", TENT, 2), status="CLOSED"), _fo("Y", B, ("y1", TENT, 1))]
    plan = plan_moves(fos, [LineAssignment(TENT, 2, C)])
    assert plan.moves == ()
    assert plan.refused == ((TENT, C, "2 units asked but Shopify has 1 unfulfilled"),)


def test_parse_refuses_half_read_orders() -> None:
    order = {"fulfillmentOrders": {"nodes": [], "pageInfo": {"hasNextPage": True}}}
    assert parse_fulfillment_orders(order) == ([], "the order has more fulfillment orders than one page holds")


def test_carrier_names_map_to_shopify_companies() -> None:
    assert [shopify_carrier(x) for x in ("ups", "FedEx", "usps", "dhl_express", "DHL Express", "Acme Freight")] == [
        "UPS",
        "FedEx",
        "USPS",
        "DHL Express",
        "DHL Express",
        "Acme Freight",
    ]
    assert shopify_carrier(None) is None
