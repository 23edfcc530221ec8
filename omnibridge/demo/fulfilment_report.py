"""What the fulfilment act says about each scene, in the human output (the JSON carries every figure)."""

from __future__ import annotations

from typing import Any

from omnibridge.demo.script import EventRecord

__all__ = ["act_ok", "describe"]

INDENT = " " * 25


def _candidates(detail: dict[str, Any], limit: int = 4) -> str:
    shown = []
    for c in detail.get("candidates", [])[:limit]:
        distance = f" {c['distance_km']} km" if c.get("distance_km") is not None else ""
        shown.append(f"{c['location']}{distance} ({c['kind']}: {c['rule']})")
    return ", ".join(shown)


def _position(p: dict[str, int]) -> str:
    return f"on hand {p['on_hand']}, committed {p['committed']}"


def describe(record: EventRecord) -> str:
    """The scene's outcome and its key figures, on a few lines."""
    d = record.detail
    ms = f" in {record.ms_until_all_channels:.0f} ms" if record.ms_until_all_channels is not None else ""
    lines = [f"{record.outcome}{ms}"]
    if record.kind in ("nearest_store", "split") and d.get("candidates"):
        lines.append(f"candidates: {_candidates(d)}")
        lines.append(f"Shopify fulfillment orders now at: {d.get('shopify_fulfillment_orders')}")
    elif record.kind == "dropship" and "purchase_order" in d:
        lines.append(
            f"supplier stock from its feed: {d['supplier_stock_from_feed']}; purchase order {d['purchase_order']}; "
            f"acknowledged and shipped, tracking {d['tracking_number']}"
        )
        pos = d["supplier_position"]
        lines.append(f"at the supplier: {_position(pos['before'])} -> {_position(pos['after'])}")
    elif record.kind == "three_pl" and "reference_id" in d:
        lines.append(
            f"ShipBob order {d['shipbob_order']} (reference_id {d['reference_id']}), tracking {d['tracking_number']}"
        )
        pos = d["shipbob_position"]
        lines.append(f"at ShipBob: {_position(pos['before'])} -> {_position(pos['after'])}")
    elif record.kind == "store_reject" and "positions" in d:
        before, after = d["positions"]["before"], d["positions"]["after"]
        for location in before:
            lines.append(f"{location:<7} {_position(before[location])} -> {_position(after[location])}")
    elif record.kind == "labels":
        for channel in ("web", "amazon"):
            row = d.get(channel) or {}
            if "tracking_number" in row:
                lines.append(
                    f"{channel:<7} from {row['from']}: {row['carrier']} {row['service']} {row['tracking_number']}, "
                    f"confirmed {row['confirmed']} ({row['channel_ref']})"
                )
        if "amazon_order_status" in d:
            lines.append(f"Amazon order status {d['amazon_order_status']}")
    return f"\n{INDENT}".join(lines)


def act_ok(section: dict[str, Any]) -> bool:
    """Every scene did what it should, every request conformed, and the act's ledger is consistent."""
    traffic = section.get("traffic", {})
    return (
        bool(section.get("events"))
        and all(event.get("ok") for event in section["events"])
        and not traffic.get("problems")
        and traffic.get("refused_by_validation", 0) == 0
        and not section.get("inconsistencies")
    )
