"""Amazon's returns report ``GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE`` to :class:`ReturnEvent`. Pure: no I/O.

The document is tab-separated text with a header row (Amazon's "returns reports attributes" page; the columns are
:data:`COLUMNS`, found by name, in any order, case and surrounding blanks ignored). One row is one SKU of one
return request; rows of one request share ``Order ID`` and ``Amazon RMA ID`` and become one :class:`ReturnEvent`:

* ``ref`` = ``<Order ID>:<Amazon RMA ID>`` (a row without an RMA id: ``<Order ID>:row-<12 hex of the row>``), so
  every report that shows the request names it the same way; ``order_ref`` = ``Order ID``.
* ``state`` from ``Return request status`` (:data:`STATES`; an approved request with a ``Return delivery date``
  is RECEIVED). ``occurred_at`` = ``Return request date``.
* each line: ``sku`` = ``Merchant SKU``, ``quantity`` = ``Return quantity``, ``reason`` = ``Return Reason``,
  ``return_line_ref`` = ``<ref>:<Merchant SKU>``; ``line_ref`` None (the report names no order item).
  Merchant-fulfilled returns come back to the seller, and the report records no disposition, so ``disposition``
  is None: the units are restocked, or not, when omnibridge receives them (``omnibridge returns receive``).
* ``tracking_number``/``carrier`` from ``Tracking ID``/``Return carrier``; ``refund``/``currency`` from
  ``Refunded Amount``/``Currency code``.

A row missing the order id, the request date, the SKU or a positive whole quantity, or with a status not in
:data:`STATES`, is skipped with one ERROR message naming its line and what was expected; the others still map.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from omnibridge.sdk import MapMessage
from omnibridge.sdk.mapping import MapLevel
from omnibridge.sdk.returns import ReturnEvent, ReturnLineEvent, ReturnState

__all__ = [
    "COLUMNS",
    "REPORT_TYPE",
    "STATES",
    "ReturnRow",
    "parse_document",
    "parse_lines",
    "return_events",
    "row_key",
]

REPORT_TYPE = "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"
COLUMNS = (
    "Order ID",
    "Order date",
    "Return request date",
    "Return request status",
    "Amazon RMA ID",
    "Merchant RMA ID",
    "Label type",
    "Label cost",
    "Currency code",
    "Return carrier",
    "Tracking ID",
    "Label to be paid by",
    "A-to-Z Claim",
    "Is prime",
    "ASIN",
    "Merchant SKU",
    "Item Name",
    "Return quantity",
    "Return Reason",
    "In policy",
    "Return type",
    "Resolution",
    "Invoice number",
    "Return delivery date",
    "Order Amount",
    "Order quantity",
    "SafeT action reason",
    "SafeT claim id",
    "SafeT claim state",
    "SafeT claim creation time",
    "SafeT claim reimbursement amount",
    "Refunded Amount",
)
"""The report's columns, in Amazon's order (the emulator writes them so; the parser finds them by name)."""

STATES: Mapping[str, ReturnState] = {
    "pending": ReturnState.REQUESTED,
    "requested": ReturnState.REQUESTED,
    "approved": ReturnState.OPEN,
    "authorized": ReturnState.OPEN,
    "closed": ReturnState.CLOSED,
    "completed": ReturnState.CLOSED,
    "rejected": ReturnState.DECLINED,
    "declined": ReturnState.DECLINED,
    "cancelled": ReturnState.CANCELLED,
    "canceled": ReturnState.CANCELLED,
}
"""``Return request status`` (casefolded) → omnibridge's state."""
_REQUIRED = ("Order ID", "Return request date", "Merchant SKU", "Return quantity", "Return request status")


@dataclass(frozen=True, slots=True)
class ReturnRow:
    """One well-formed row: its ``line`` number in the document (the header is line 1) and values by column."""

    line: int
    values: Mapping[str, str]
    requested_at: datetime
    state: ReturnState
    quantity: int

    def get(self, column: str) -> str:
        return self.values.get(column.casefold(), "")


def _time(raw: str) -> datetime | None:
    text = raw.strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_document(text: str) -> tuple[list[ReturnRow], list[MapMessage]]:
    """The well-formed rows of a returns report and one ERROR message per row skipped (blank lines ignored)."""
    rows, skipped = parse_lines(text)
    return rows, [message for _, message in skipped]


def parse_lines(text: str) -> tuple[list[ReturnRow], list[tuple[str, MapMessage]]]:
    """Like :func:`parse_document`, each skipped row with a key of its text (the same line read again in a later
    report has the same key, so it is counted once)."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        return [], []
    header = [name.strip().casefold() for name in lines[0].split("\t")]
    missing = [name for name in _REQUIRED if name.casefold() not in header]
    if missing:
        reason = f"returns report header lacks {', '.join(missing)} (expected Amazon's columns: {', '.join(COLUMNS)})"
        return [], [(_digest(lines[0]), MapMessage(MapLevel.ERROR, "header", reason))]
    rows: list[ReturnRow] = []
    skipped: list[tuple[str, MapMessage]] = []
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        cells = raw.split("\t")
        values = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        order_id = values.get("order id", "")
        problem = _problem(values)
        if problem is not None:
            skipped.append((_digest(raw), MapMessage(MapLevel.ERROR, f"line {number}", problem, order_id or None)))
            continue
        requested = _time(values["return request date"]) or datetime.min.replace(tzinfo=UTC)  # checked above
        state = STATES[values["return request status"].casefold()]
        if state is ReturnState.OPEN and _time(values.get("return delivery date", "")) is not None:
            state = ReturnState.RECEIVED
        rows.append(ReturnRow(number, values, requested, state, int(values["return quantity"])))
    return rows, skipped


def _digest(text: str) -> str:
    return "bad:" + hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:20]


def _problem(values: Mapping[str, str]) -> str | None:
    if not values.get("order id"):
        return "row without Order ID"
    if not values.get("merchant sku"):
        return "row without Merchant SKU"
    if _time(values.get("return request date", "")) is None:
        return f"Return request date {values.get('return request date')!r} is not an ISO 8601 date"
    quantity = values.get("return quantity", "")
    if not quantity.isdigit() or int(quantity) < 1:
        return f"Return quantity {quantity!r} is not a positive whole number"
    status = values.get("return request status", "")
    if status.casefold() not in STATES:
        return f"Return request status {status!r} is not one of {', '.join(sorted(STATES))}"
    return None


def row_key(row: ReturnRow) -> str:
    """What identifies this row's content across reports: the same request, SKU, status and delivery date read
    again is the same key; a later status of the request is a new one."""
    parts = [row.get("Order ID"), row.get("Amazon RMA ID"), row.get("Merchant SKU"), row.state.value]
    parts += [row.get("Return delivery date"), str(row.quantity), row.get("Return request date")]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def _ref(row: ReturnRow) -> str:
    rma = row.get("Amazon RMA ID")
    if rma:
        return f"{row.get('Order ID')}:{rma}"
    identity = "\x1f".join((row.get("Order ID"), row.get("Return request date"), row.get("Merchant SKU")))
    return f"{row.get('Order ID')}:row-{hashlib.sha256(identity.encode('utf-8')).hexdigest()[:12]}"


def _amount(raw: str) -> str | None:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return str(value) if value.is_finite() else None


def return_events(rows: Sequence[ReturnRow]) -> list[ReturnEvent]:
    """One :class:`ReturnEvent` per return request among ``rows`` (in order of first appearance)."""
    grouped: dict[str, list[ReturnRow]] = {}
    for row in rows:
        grouped.setdefault(_ref(row), []).append(row)
    events = []
    for ref, group in grouped.items():
        first = group[0]
        lines = []
        seen: dict[str, int] = {}
        for row in group:
            sku = row.get("Merchant SKU")
            seen[sku] = seen.get(sku, 0) + 1
            suffix = "" if seen[sku] == 1 else f"#{seen[sku]}"
            lines.append(
                ReturnLineEvent(f"{ref}:{sku}{suffix}", None, sku, row.quantity, reason=row.get("Return Reason"))
            )
        events.append(
            ReturnEvent(
                ref=ref,
                order_ref=first.get("Order ID"),
                state=max((row.state for row in group), key=_rank),
                occurred_at=max(row.requested_at for row in group),
                lines=tuple(lines),
                tracking_number=first.get("Tracking ID") or None,
                carrier=first.get("Return carrier") or None,
                refund=_amount(first.get("Refunded Amount")),
                currency=first.get("Currency code") or None,
            )
        )
    return events


_ORDER = (ReturnState.REQUESTED, ReturnState.OPEN, ReturnState.RECEIVED, ReturnState.CLOSED)


def _rank(state: ReturnState) -> int:
    return _ORDER.index(state) if state in _ORDER else len(_ORDER)
