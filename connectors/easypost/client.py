"""EasyPost v2 I/O behind the carrier contract: auth, pacing, retries, once-only label buying, trackers.

Mapping lives in :mod:`connectors.easypost.mapper` and webhook checks in :mod:`connectors.easypost.webhooks`;
this module only moves data.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.easypost import mapper
from connectors.easypost.settings import EasyPostSettings
from connectors.easypost.webhooks import tracking_updates, verify_delivery
from omnibridge.sdk import (
    AmbiguousWriteError,
    Clock,
    ConnectorHttpClient,
    FatalConnectorError,
    HttpFatalError,
    HttpRetriableError,
    RetryPolicy,
    Sleeper,
    TokenBucket,
    WebhookDelivery,
    get_logger,
    register_secret,
)
from omnibridge.sdk.carrier import CarrierQuote, Label, ShipmentRequest, TrackingUpdate

__all__ = ["CONNECTOR_ID", "EasyPostConnector"]

CONNECTOR_ID = "easypost"
# Statuses whose EasyPost error body we read ourselves ({"error":{"code","message","errors"}}); 429 and 5xx
# stay with the HTTP client's retry logic.
_CLIENT_ERRORS = frozenset({400, 401, 402, 403, 404, 405, 409, 422})
_BUY_ATTEMPTS = 3


def _utcnow() -> datetime:
    return datetime.now(UTC)


class EasyPostConnector:
    """A :class:`~omnibridge.sdk.carrier.CarrierConnector` for one EasyPost account.

    * ``quote`` creates an EasyPost Shipment (a harmless write: it buys nothing, so it is retried like a read)
      and returns its rates cheapest first.
    * ``buy_label`` buys at most once. EasyPost's buy has no idempotency key, so a lost response (5xx or timeout
      after the request may have been applied) is never repeated blindly: the shipment is re-read first and its
      label returned when the buy went through; only a shipment still without postage is bought again. A 422
      ``SHIPMENT.POSTAGE.EXISTS`` also returns the label already bought.
    * ``track`` creates the tracker (EasyPost returns the existing one for the same code and carrier) and then
      re-reads it by id.
    * 401/402/404/422 are :class:`HttpFatalError` with EasyPost's code, message and field errors; 429/5xx are
      retried by ``RetryPolicy`` and end as :class:`HttpRetriableError`.
    """

    repeat_purchase_safe = True
    """EasyPost refuses a second purchase of a shipment (422 ``SHIPMENT.POSTAGE.EXISTS``) and ``buy_label`` then
    returns the label already bought: it may be called again after a crash or a lost answer."""
    return_labels = True
    """``is_return: true`` on shipment create: EasyPost swaps the addresses and buys a return label."""

    def __init__(
        self,
        settings: EasyPostSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self._now = now
        self._log = get_logger("connectors.easypost")
        key = settings.api_key.get_secret_value()
        register_secret(key)
        basic = base64.b64encode(f"{key}:".encode()).decode("ascii")  # Basic auth: key as user, empty password
        self.bucket = TokenBucket(settings.requests_per_second, settings.burst, clock=clock, sleep=sleep)
        policy = retry_policy or RetryPolicy(
            max_attempts=settings.max_attempts, initial_backoff=settings.initial_backoff_seconds
        )
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.base_url),
            auth_headers={"Authorization": f"Basic {basic}"},
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            rate_limiter=self.bucket,
            retry_policy=policy,
            transport=transport,
            timeout=settings.timeout_seconds,
            clock=clock,
            sleep=sleep,
        )
        self._trackers: dict[tuple[str, str], str] = {}  # (tracking code, carrier) -> trk_ id

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # --- HTTP ---------------------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        op: str,
        body: Mapping[str, Any] | None = None,
        *,
        idempotent: bool,
        accept: frozenset[int] = frozenset(),
    ) -> tuple[int, dict[str, Any]]:
        """One request (``path`` relative to ``/v2``); returns ``(status, body)`` for 2xx and ``accept``.

        Other EasyPost 4xx raise :class:`HttpFatalError` whose message names EasyPost's code and fields.
        """
        response = await self.http.request(
            method, path.lstrip("/"), op=op, json=body, idempotent=idempotent, expected_statuses=_CLIENT_ERRORS
        )
        try:
            payload = response.json()
        except (ValueError, json.JSONDecodeError):
            payload = None
        status = response.status_code
        if not isinstance(payload, dict):
            if status < 400:
                raise FatalConnectorError("response is not a JSON object", connector=CONNECTOR_ID, op=op)
            payload = {}
        if status >= 400 and status not in accept:
            raise HttpFatalError(
                mapper.error_message(status, payload),
                connector=CONNECTOR_ID,
                op=op,
                status_code=status,
                body_excerpt=json.dumps(payload)[:300],
            )
        return status, payload

    def _parsed(self, op: str, parse: Callable[[dict[str, Any]], Any], body: dict[str, Any]) -> Any:
        try:
            return parse(body)
        except mapper.MappingError as exc:
            raise FatalConnectorError(f"unexpected EasyPost answer: {exc}", connector=CONNECTOR_ID, op=op) from None

    # --- rates and labels ---------------------------------------------------------------------------------

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        """``POST /v2/shipments``; the vendor shipment id and its rates, cheapest first. Buys nothing."""
        body = mapper.shipment_body(request, tuple(self.settings.carrier_accounts))
        # Re-sending after a lost answer only creates another unbought shipment: safe to retry.
        _, answer = await self._call("POST", "/shipments", "quote", body, idempotent=True)
        quote: CarrierQuote = self._parsed("quote", mapper.parse_quote, answer)
        if not quote.rates:
            messages = "; ".join(str(m.get("message")) for m in answer.get("messages") or [] if isinstance(m, Mapping))
            raise FatalConnectorError(
                f"EasyPost returned no rates for shipment {quote.shipment_ref}" + (f": {messages}" if messages else ""),
                connector=CONNECTOR_ID,
                op="quote",
            )
        return quote

    async def check(self) -> str:
        """``omnibridge check``: ``GET /v2/shipments?page_size=1``, a read that proves the key and the URL."""
        await self._call("GET", "/shipments?page_size=1", "check", idempotent=True)
        return "API key accepted (shipments readable)"

    async def shipment(self, shipment_ref: str) -> dict[str, Any]:
        """``GET /v2/shipments/{id}``: the Shipment as EasyPost has it now."""
        _, body = await self._call("GET", f"/shipments/{shipment_ref}", "get_shipment", idempotent=True)
        return body

    async def buy_label(self, shipment_ref: str, rate_id: str) -> Label:
        """Buy ``rate_id`` for the shipment, or return the label it already has (see the class docstring)."""
        request = {"rate": {"id": rate_id}}
        last: AmbiguousWriteError | None = None
        for _ in range(_BUY_ATTEMPTS):
            if last is not None:
                # The previous buy may have been applied: look before buying again.
                current = await self.shipment(shipment_ref)
                if mapper.has_label(current):
                    self._log.info("easypost.buy.recovered", shipment=shipment_ref)
                    return self._label(current)
            try:
                status, body = await self._call(
                    "POST",
                    f"/shipments/{shipment_ref}/buy",
                    "buy_label",
                    request,
                    idempotent=False,
                    accept=frozenset({422}),
                )
            except AmbiguousWriteError as exc:
                self._log.warning("easypost.buy.ambiguous", shipment=shipment_ref, error=str(exc))
                last = exc
                continue
            if status < 400:
                return self._label(body)
            if mapper.error_code(body) == mapper.POSTAGE_EXISTS:
                return self._label(await self.shipment(shipment_ref))
            raise HttpFatalError(
                mapper.error_message(status, body), connector=CONNECTOR_ID, op="buy_label", status_code=status
            )
        assert last is not None
        current = await self.shipment(shipment_ref)
        if mapper.has_label(current):
            return self._label(current)
        raise HttpRetriableError(
            f"buying the label for {shipment_ref} kept failing ({last.reason}); the shipment has no label yet",
            connector=CONNECTOR_ID,
            op="buy_label",
            retry_after=last.retry_after,
            status_code=last.status_code,
        )

    def _label(self, body: dict[str, Any]) -> Label:
        label: Label = self._parsed("buy_label", mapper.parse_label, body)
        if label.tracker_ref is not None:
            self._trackers[(label.tracking_code, label.carrier)] = label.tracker_ref
        return label

    # --- tracking -----------------------------------------------------------------------------------------

    async def track(self, tracking_code: str, carrier: str) -> list[TrackingUpdate]:
        """Every tracking event of the parcel, oldest first (creates the EasyPost tracker on first use)."""
        tracker_id = self._trackers.get((tracking_code, carrier))
        if tracker_id is not None:
            return await self.tracker(tracker_id)
        body = {"tracker": {"tracking_code": tracking_code, "carrier": carrier}}
        # EasyPost answers a repeated (tracking_code, carrier) with the original tracker: safe to retry.
        _, answer = await self._call("POST", "/trackers", "track", body, idempotent=True)
        updates: list[TrackingUpdate] = self._parsed("track", mapper.parse_tracker, answer)
        if isinstance(answer.get("id"), str):
            self._trackers[(tracking_code, carrier)] = answer["id"]
        return updates

    async def tracker(self, tracker_ref: str) -> list[TrackingUpdate]:
        """``GET /v2/trackers/{id}``: the tracker's events, oldest first."""
        _, answer = await self._call("GET", f"/trackers/{tracker_ref}", "track", idempotent=True)
        result: list[TrackingUpdate] = self._parsed("track", mapper.parse_tracker, answer)
        return result

    # --- webhooks -----------------------------------------------------------------------------------------

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Verify ``X-Hmac-Signature`` over the raw body; ``url`` is not signed by EasyPost. Pure."""
        secret = self.settings.webhook_secret
        return verify_delivery(
            None if secret is None else secret.get_secret_value(), raw_body, headers, received_at=self._now()
        )

    async def webhook_events(self, delivery: WebhookDelivery) -> list[TrackingUpdate]:
        """Tracking updates of a ``tracker.*`` Event (other event types carry none)."""
        return tracking_updates(delivery)
