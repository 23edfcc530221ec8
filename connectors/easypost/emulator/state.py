"""In-memory account state of the EasyPost emulator: shipments with rates, once-only labels, trackers.

Response bodies start from the official example bodies in ``connectors/easypost/specs`` (deep copies), so every
key EasyPost documents is present; the emulator then fills in its own values.

Tracking follows EasyPost's test-mode codes: ``EZ1000000001`` … ``EZ7000000007`` answer ``pre_transit``,
``in_transit``, ``out_for_delivery``, ``delivered``, ``return_to_sender``, ``failure`` and ``unknown`` (with the
history that leads there). A parcel moves along its path one step per :meth:`EasyPostState.advance`; a label
bought here starts ``unknown`` with no events and then goes ``pre_transit`` → ``in_transit`` →
``out_for_delivery`` → ``delivered``.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "SPECS_DIR",
    "TEST_CODES",
    "ApiError",
    "EasyPostState",
    "TrackerPlan",
    "example",
    "format_time",
    "invalid",
]

SPECS_DIR = Path(__file__).resolve().parent.parent / "specs"
_STANDARD = ("pre_transit", "in_transit", "out_for_delivery", "delivered")
TEST_CODES: dict[str, tuple[tuple[str, ...], int]] = {
    "EZ1000000001": (_STANDARD, 0),
    "EZ2000000002": (_STANDARD, 1),
    "EZ3000000003": (_STANDARD, 2),
    "EZ4000000004": (_STANDARD, 3),
    "EZ5000000005": (("pre_transit", "in_transit", "return_to_sender"), 2),
    "EZ6000000006": (("pre_transit", "in_transit", "failure"), 2),
    "EZ7000000007": ((), -1),
}
_DETAILS: dict[str, tuple[str, str]] = {  # status -> (message, status_detail)
    "pre_transit": ("Shipping Label Created", "label_created"),
    "in_transit": ("Arrived at Facility", "arrived_at_facility"),
    "out_for_delivery": ("Out for Delivery", "out_for_delivery"),
    "delivered": ("Delivered", "arrived_at_destination"),
    "return_to_sender": ("Return to Sender Processed", "return"),
    "failure": ("Delivery Attempt Failed", "delivery_failed"),
}
_CARRIER_CODES: dict[str, dict[str, str]] = {  # carrier-native codes EasyPost passes through as carrier_code
    "UPS": {
        "pre_transit": "M",
        "in_transit": "I",
        "out_for_delivery": "O",
        "delivered": "D",
        "return_to_sender": "RS",
        "failure": "X",
    },
    "FedEx": {
        "pre_transit": "OC",
        "in_transit": "IT",
        "out_for_delivery": "OD",
        "delivered": "DL",
        "return_to_sender": "RS",
        "failure": "DE",
    },
}
# carrier -> [(service, base price, price per started pound, delivery days)]
_SERVICES: dict[str, list[tuple[str, Decimal, Decimal, int]]] = {
    "USPS": [
        ("GroundAdvantage", Decimal("5.40"), Decimal("0.60"), 3),
        ("Priority", Decimal("8.70"), Decimal("0.90"), 2),
        ("Express", Decimal("28.75"), Decimal("2.10"), 1),
    ],
    "UPS": [
        ("Ground", Decimal("9.20"), Decimal("0.85"), 4),
        ("2ndDayAir", Decimal("18.40"), Decimal("1.90"), 2),
        ("NextDayAir", Decimal("32.10"), Decimal("3.20"), 1),
    ],
    "FedEx": [
        ("FEDEX_GROUND", Decimal("9.05"), Decimal("0.80"), 4),
        ("FEDEX_2_DAY", Decimal("19.10"), Decimal("1.80"), 2),
        ("STANDARD_OVERNIGHT", Decimal("34.50"), Decimal("3.10"), 1),
    ],
    "DHLExpress": [("ExpressWorldwide", Decimal("38.20"), Decimal("2.50"), 2)],
}
_ADDRESS_REQUIRED = ("street1", "city", "zip", "country")


@cache
def _example(name: str) -> dict[str, Any]:
    loaded = json.loads((SPECS_DIR / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def example(name: str) -> dict[str, Any]:
    """A deep copy of an official example body (``shipments-buy.json`` …)."""
    return copy.deepcopy(_example(name))


def format_time(moment: datetime) -> str:
    """EasyPost's timestamp form: ``2025-05-09T20:40:08Z`` (UTC, whole seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An error answer: HTTP ``status`` with EasyPost's ``{"error":{"code","message","errors"}}`` body."""

    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "errors": self.errors}}


def _field(field: str, message: str) -> dict[str, Any]:
    return {"field": field, "message": message, "suggestion": None}


def invalid(code: str, message: str, field: str, field_message: str, status: int = 422) -> ApiError:
    """An error naming one field (``{"field","message","suggestion"}``)."""
    return ApiError(status, code, message, [_field(field, field_message)])


@dataclass
class TrackerPlan:
    """Where a tracker is on its path; ``position`` -1 is before the first step (status ``unknown``)."""

    path: tuple[str, ...]
    position: int


def _measure(value: Any, key: str, unit: str) -> float:
    """A parcel dimension or weight as a float: a JSON number or a decimal string (``"10.5"``, as EasyPost's docs
    send form fields); anything else, or ≤ 0, is 422 ``PARCEL.INVALID_PARAMS`` naming the field."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        field = f"shipment.parcel.{key}"
        raise invalid(
            "PARCEL.INVALID_PARAMS", "Invalid parcel.", field, f"must be a number of {unit} > 0, got {value!r}"
        )
    return number


class EasyPostState:
    """One EasyPost user's shipments and trackers. ``clock`` gives aware UTC times; ids come from ``rng``."""

    def __init__(
        self, accounts: dict[str, str], clock: Callable[[], datetime], rng: random.Random, user_id: str
    ) -> None:
        self.accounts = accounts
        self.clock = clock
        self.rng = rng
        self.user_id = user_id
        self.shipments: dict[str, dict[str, Any]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}
        self.plans: dict[str, TrackerPlan] = {}
        self.tracker_by_code: dict[tuple[str, str], str] = {}
        self.labels_bought: Counter[str] = Counter()

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{self.rng.getrandbits(128):032x}"

    def now(self) -> str:
        return format_time(self.clock())

    # -- shipments -------------------------------------------------------------------------------------------

    def _address(self, body: Any, field: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("PARAMETER.REQUIRED", f"Missing required parameter: {field}.", field, "is required")
        missing = [_field(f"{field}.{key}", "is required") for key in _ADDRESS_REQUIRED if not body.get(key)]
        if missing:
            raise ApiError(422, "ADDRESS.VERIFY.FAILURE", "Address is missing required fields.", missing)
        # The destination is verified (zip4 + delivery, as in the official example); the origin is not.
        template = "to_address" if field.endswith("to_address") else "from_address"
        address: dict[str, Any] = example("shipments-buy.json")[template]
        now = format_time(self.clock()).replace("Z", "+00:00")
        address.update(id=self.new_id("adr"), created_at=now, updated_at=now)
        for key in ("name", "company", "street1", "street2", "city", "state", "zip", "country", "phone", "email"):
            address[key] = body.get(key)
        return address

    def _parcel(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise invalid("PARAMETER.REQUIRED", "Missing required parameter.", "shipment.parcel", "is required")
        parcel: dict[str, Any] = example("shipments-buy.json")["parcel"]
        now = self.now()
        parcel.update(id=self.new_id("prcl"), created_at=now, updated_at=now, predefined_package=None)
        for key, unit in (("length", "inches"), ("width", "inches"), ("height", "inches"), ("weight", "ounces")):
            value = body.get(key)
            parcel[key] = None if value is None and key != "weight" else _measure(value, key, unit)
        return parcel

    def _rates(self, shipment_id: str, accounts: list[str], weight_oz: float) -> list[dict[str, Any]]:
        pounds = max(1, math.ceil(weight_oz / 16.0))
        template = example("shipments-buy.json")["rates"][0]
        rates: list[dict[str, Any]] = []
        now = self.now()
        for account in accounts:
            carrier = self.accounts[account]
            for service, base, per_lb, days in _SERVICES.get(carrier, []):
                price = base + per_lb * pounds
                rate = copy.deepcopy(template)
                rate.update(
                    id=self.new_id("rate"),
                    created_at=now,
                    updated_at=now,
                    service=service,
                    carrier=carrier,
                    rate=f"{price:.2f}",
                    retail_rate=f"{price * Decimal('1.25'):.2f}",
                    list_rate=f"{price:.2f}",
                    delivery_days=days,
                    est_delivery_days=days,
                    shipment_id=shipment_id,
                    carrier_account_id=account,
                )
                rates.append(rate)
        return rates

    def create_shipment(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /v2/shipments``: a Shipment with rates from the requested (or every) carrier account."""
        request = body.get("shipment")
        if not isinstance(request, dict):
            raise invalid("PARAMETER.REQUIRED", "Missing required parameter.", "shipment", "is required")
        to_address = self._address(request.get("to_address"), "shipment.to_address")
        from_address = self._address(request.get("from_address"), "shipment.from_address")
        is_return = request.get("is_return") is True
        if is_return:  # EasyPost's return label: the given addresses are swapped (docs.easypost.com/docs/returns)
            to_address, from_address = from_address, to_address
        parcel = self._parcel(request.get("parcel"))
        wanted = request.get("carrier_accounts")
        messages: list[dict[str, Any]] = []
        if wanted is None:
            accounts = list(self.accounts)
        else:
            ids = [a.get("id") if isinstance(a, dict) else a for a in wanted] if isinstance(wanted, list) else []
            accounts = [a for a in ids if isinstance(a, str) and a in self.accounts][:60]  # extra ones are ignored
            for unknown in (a for a in ids if a not in self.accounts):
                message = f"carrier account {unknown} not found"
                messages.append(
                    {"carrier": None, "carrier_account_id": unknown, "type": "rate_error", "message": message}
                )
        shipment = example("shipments-create.json")
        shipment_id = self.new_id("shp")
        now = self.now()
        shipment.update(
            id=shipment_id,
            created_at=now,
            updated_at=now,
            mode="test",
            reference=request.get("reference"),
            is_return=is_return,
            status="unknown",
            tracking_code=None,
            messages=messages,
            customs_info=None,
            insurance=None,
            to_address=to_address,
            from_address=from_address,
            return_address=copy.deepcopy(from_address),
            buyer_address=copy.deepcopy(to_address),
            parcel=parcel,
            postage_label=None,
            rates=self._rates(shipment_id, accounts, float(parcel["weight"])),
            selected_rate=None,
            tracker=None,
            fees=[],
            forms=[],
        )
        self.shipments[shipment_id] = shipment
        return shipment

    def get_shipment(self, shipment_id: str) -> dict[str, Any]:
        shipment = self.shipments.get(shipment_id)
        if shipment is None:
            raise ApiError(404, "NOT_FOUND", f"The requested resource could not be found: {shipment_id}.")
        return shipment

    def buy(self, shipment_id: str, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``POST /v2/shipments/{id}/buy``: once only. Returns the shipment and the tracker created for it."""
        shipment = self.get_shipment(shipment_id)
        rate = body.get("rate")
        rate_id = rate.get("id") if isinstance(rate, dict) else None
        if not isinstance(rate_id, str):
            raise invalid("PARAMETER.REQUIRED", "Missing required parameter.", "rate.id", "is required")
        if shipment["postage_label"] is not None:
            raise ApiError(
                422, "SHIPMENT.POSTAGE.EXISTS", "The shipment already has postage; it cannot be bought again."
            )
        chosen = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if chosen is None:
            raise invalid(
                "SHIPMENT.RATE.INVALID", "Invalid rate.", "rate.id", f"{rate_id} is not a rate of {shipment_id}"
            )
        now = self.now()
        label_id = self.new_id("pl")
        postage = example("shipments-buy.json")["postage_label"]
        postage.update(
            id=label_id,
            created_at=now,
            updated_at=now,
            label_date=now,
            label_url=(
                "https://easypost-files.s3.us-west-2.amazonaws.com/files/postage_label/"
                f"{now[:10].replace('-', '')}/{label_id[3:]}.png"
            ),
        )
        code = self._tracking_code(chosen["carrier"])
        tracker = self.create_tracker(code, chosen["carrier"], shipment_id=shipment_id)
        amount = f"{Decimal(chosen['rate']):.5f}"
        fee = {"object": "Fee", "type": "PostageFee", "amount": amount, "charged": True, "refunded": False}
        shipment.update(
            updated_at=now,
            tracking_code=code,
            postage_label=postage,
            selected_rate=copy.deepcopy(chosen),
            tracker=copy.deepcopy(tracker),
            fees=[fee],
        )
        self.labels_bought[shipment_id] += 1
        return shipment, tracker

    def _tracking_code(self, carrier: str) -> str:
        digits = "".join(str(self.rng.randrange(10)) for _ in range(20))
        if carrier == "UPS":
            return "1Z" + digits[:16].upper()
        if carrier == "FedEx":
            return digits[:12]
        if carrier == "DHLExpress":
            return digits[:10]
        return "94" + digits

    # -- trackers --------------------------------------------------------------------------------------------

    def find_tracker(self, tracking_code: str, carrier: str | None = None) -> dict[str, Any] | None:
        for (code, name), tracker_id in self.tracker_by_code.items():
            if code == tracking_code and (carrier is None or name.lower() == carrier.lower()):
                return self.trackers[tracker_id]
        return None

    def create_tracker(self, tracking_code: str, carrier: str, *, shipment_id: str | None = None) -> dict[str, Any]:
        """A new tracker, or the existing one for the same ``(tracking_code, carrier)`` (EasyPost dedupes)."""
        existing = self.find_tracker(tracking_code, carrier)
        if existing is not None:
            return existing
        path, position = TEST_CODES.get(tracking_code, (_STANDARD, -1))
        tracker = example("trackers-create.json")
        tracker_id = self.new_id("trk")
        now = self.clock()
        tracker.update(
            id=tracker_id,
            mode="test",
            tracking_code=tracking_code,
            status="unknown",
            status_detail="unknown",
            created_at=format_time(now),
            updated_at=format_time(now),
            est_delivery_date=None,
            shipment_id=shipment_id,
            carrier=carrier,
            tracking_details=[],
            fees=[],
            finalized=False,
            public_url=f"https://track.easypost.com/{tracker_id}",
        )
        tracker["carrier_detail"]["service"] = None
        self.trackers[tracker_id] = tracker
        self.tracker_by_code[(tracking_code, carrier)] = tracker_id
        self.plans[tracker_id] = TrackerPlan(path, -1)
        for step in range(position + 1):
            self._step(tracker, at=now - timedelta(hours=position - step + 1))
        return tracker

    def get_tracker(self, tracker_id: str) -> dict[str, Any]:
        tracker = self.trackers.get(tracker_id)
        if tracker is None:
            raise ApiError(404, "NOT_FOUND", f"The requested resource could not be found: {tracker_id}.")
        return tracker

    def advance(self, tracking_code: str) -> tuple[dict[str, Any], str] | None:
        """Move the parcel one step on; ``(tracker, previous status)``, or None at the end of its path.

        Raises ``KeyError`` for a tracking code without a tracker."""
        tracker = self.find_tracker(tracking_code)
        if tracker is None:
            raise KeyError(f"no tracker for tracking code {tracking_code!r}")
        previous = str(tracker["status"])
        if not self._step(tracker, at=self.clock()):
            return None
        return tracker, previous

    def _step(self, tracker: dict[str, Any], *, at: datetime) -> bool:
        plan = self.plans[tracker["id"]]
        if plan.position + 1 >= len(plan.path):
            return False
        plan.position += 1
        status = plan.path[plan.position]
        message, status_detail = _DETAILS[status]
        detail = copy.deepcopy(example("trackers-create.json")["tracking_details"][1])
        detail.update(
            message=message,
            status=status,
            status_detail=status_detail,
            datetime=format_time(at),
            source=tracker["carrier"],
            carrier_code=_CARRIER_CODES.get(tracker["carrier"], {}).get(status),
        )
        tracker["tracking_details"].append(detail)
        tracker.update(
            status=status,
            status_detail=status_detail,
            updated_at=format_time(at),
            finalized=status in ("delivered", "return_to_sender", "failure"),
        )
        shipment = self.shipments.get(tracker.get("shipment_id") or "")
        if shipment is not None:
            shipment["status"] = status
            shipment["tracker"] = copy.deepcopy(tracker)
        return True
