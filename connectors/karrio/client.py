"""A carrier account driven through karrio's carrier package: :class:`KarrioCarrierConnector`.

karrio is synchronous (``urllib``, no timeout of its own), so every carrier call runs in a worker thread
(:func:`asyncio.to_thread`) and is bounded by ``timeout_seconds``; a call that overruns is abandoned (its
thread finishes on its own). karrio reports carrier errors as messages, not HTTP statuses; they are classified
by the carrier's error code (:class:`~connectors.karrio.carriers.CarrierProfile`).

Buying a label is not idempotent at any of these carriers (no idempotency key; karrio offers no lookup of a
shipment by reference), so ``repeat_purchase_safe`` is False and:

* a purchase whose outcome is unknown (timeout, connection lost, 5xx) is *not* retried: it raises
  :class:`FatalConnectorError` saying the label may have been bought. The guard that survives a crash or a
  restart is the shipping service's: it commits the shipment as ``buying`` before calling :meth:`buy_label`,
  and after an unknown outcome never calls it again for this connector until a person has checked the carrier
  account (``omnibridge shipments resolve``);
* in addition, within this process (for callers that use the connector without the shipping service), a label
  bought is remembered per ``shipment_ref`` and returned again, and a ``shipment_ref`` whose purchase had an
  unknown outcome is refused without any request. That memory is lost on restart, and it outlives a person's
  ``resolve --not-bought`` in a long-running process (each CLI command is a new process);
* a purchase the carrier refused (an error message that is not throttling or a server failure: bad address,
  refused credentials), a throttled one (429: refused unprocessed) and one never sent raise errors marked
  :class:`~omnibridge.sdk.carrier.PurchaseRefused`: nothing was bought, so the purchase may be offered again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from connectors.karrio import gateway as karrio_gateway
from connectors.karrio.carriers import CarrierProfile
from connectors.karrio.mapper import (
    decode_shipment_ref,
    encode_shipment_ref,
    label_from_karrio,
    rate_from_karrio,
    shipment_payload,
    updates_from_karrio,
)
from connectors.karrio.settings import KarrioCarrierSettings
from omnibridge.errors import ConnectorError, FatalConnectorError, RetriableConnectorError, WebhookError
from omnibridge.sdk.carrier import CarrierQuote, Label, PurchaseRefused, Rate, ShipmentRequest, TrackingUpdate
from omnibridge.sdk.webhooks import WebhookDelivery

__all__ = ["KarrioCarrierConnector"]


class _Throttled(RetriableConnectorError, PurchaseRefused):
    """The carrier refused the request unprocessed (throttling): safe to send again, even a label purchase."""


class _Refused(FatalConnectorError, PurchaseRefused):
    """A label purchase the carrier refused, or that was never sent: nothing was bought."""


Outcome = tuple[Any, list[Any], Any]
"""What a karrio runner returns: karrio's result, its messages, the carrier's raw response."""


class KarrioCarrierConnector:
    """One UPS, FedEx, USPS or DHL Express account. Implements :class:`omnibridge.sdk.carrier.CarrierConnector`.

    The karrio gateway is built on first use, in a thread (importing karrio takes a few hundred milliseconds).
    """

    repeat_purchase_safe = False
    """The carriers neither refuse nor deduplicate a second purchase of the same shipment (see the module doc)."""

    def __init__(self, profile: CarrierProfile, settings: KarrioCarrierSettings) -> None:
        self.profile = profile
        self.settings = settings
        self._gateway: Any = None
        self._gateway_lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._labels: dict[str, Label] = {}
        self._unsettled: set[str] = set()

    # -- CarrierConnector ---------------------------------------------------------------------------------------

    async def quote(self, request: ShipmentRequest) -> CarrierQuote:
        """Rate ``request`` with every service the account offers on the lane, cheapest first."""
        payload = shipment_payload(request)
        rates_raw, messages, _ = await self._read("quote", karrio_gateway.run_rates, payload)
        if not rates_raw:
            self._raise_for(messages, "quote", default="the carrier returned no rate for this shipment")
        account = f"{self.profile.id}:{self.settings.account_number}"
        rates = [rate_from_karrio(rate, carrier=self.profile.label, account_ref=account) for rate in rates_raw]
        rates.sort(key=_rate_order)
        return CarrierQuote(shipment_ref=encode_shipment_ref(request), rates=tuple(rates))

    async def buy_label(self, shipment_ref: str, rate_id: str) -> Label:
        """Buy the label of ``rate_id`` (a karrio service name from :meth:`quote`). See the module doc for what
        happens when a purchase's outcome is unknown."""
        if shipment_ref in self._labels:
            return self._labels[shipment_ref]
        op = "buy_label"
        if shipment_ref in self._unsettled:
            raise _Refused(
                "an earlier purchase of this label in this process got no answer and may have succeeded; check the "
                "carrier account before buying it again (nothing was sent now)",
                connector=self.profile.id,
                op=op,
            )
        try:
            request = decode_shipment_ref(shipment_ref)
        except ValueError as exc:
            raise _Refused(str(exc), connector=self.profile.id, op=op) from exc
        payload = shipment_payload(request, service=rate_id)
        patch = self.profile.patch_shipment(request.reference) if self.profile.patch_shipment else None
        gateway = await self._get_gateway(op, error=_Refused)
        try:
            shipment, messages, raw = await self._call(op, karrio_gateway.run_shipment, gateway, (payload, patch))
        except _Throttled:
            raise
        except RetriableConnectorError as exc:
            self._unsettled.add(shipment_ref)
            raise FatalConnectorError(
                f"the label purchase got no usable answer ({exc}); it may have been bought — check the carrier "
                "account before buying again",
                connector=self.profile.id,
                op=op,
            ) from exc
        if shipment is None:
            self._raise_for(messages, op, default="the carrier sold no label", unsettled=shipment_ref)
        label = label_from_karrio(
            shipment,
            carrier=self.profile.label,
            shipment_ref=shipment_ref,
            service=rate_id,
            charge=self.profile.label_charge(raw),
        )
        self._labels[shipment_ref] = label
        return label

    async def track(self, tracking_code: str, carrier: str) -> list[TrackingUpdate]:
        """Every scan the carrier reports for ``tracking_code``, oldest first (``[]`` when it knows none yet).
        ``carrier`` is ignored: this connector is one carrier."""
        details, messages, raw = await self._read("track", karrio_gateway.run_tracking, tracking_code)
        parcel = next((d for d in details if str(d.tracking_number) == tracking_code), None)
        if parcel is None:
            if all(str(m.code) in self.profile.not_found_codes for m in _errors(messages)):
                return []
            self._raise_for(messages, "track", default="the carrier returned no tracking for this parcel")
        try:
            return updates_from_karrio(
                parcel, self.profile.scans(raw, tracking_code), carrier=self.profile.label, profile=self.profile
            )
        except ValueError as exc:
            raise FatalConnectorError(str(exc), connector=self.profile.id, op="track") from exc

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Carrier webhooks (UPS Track Alert, FedEx visibility webhooks) are not available through karrio."""
        raise WebhookError(f"{self.profile.label} webhooks are not supported by the karrio connector; poll track()")

    async def webhook_events(self, delivery: WebhookDelivery) -> list[TrackingUpdate]:
        """Always empty: no delivery is ever verified (see :meth:`verify_webhook`)."""
        return []

    async def aclose(self) -> None:
        """Nothing to release: karrio opens one connection per request."""
        self._gateway = None

    # -- internals ------------------------------------------------------------------------------------------------

    def _build_gateway(self) -> Any:
        url = None if self.settings.server_url is None else str(self.settings.server_url)
        return karrio_gateway.build_gateway(
            self.profile.karrio_carrier,
            self.profile.karrio_fields(self.settings),
            server_url=url,
            test_mode=self.settings.test_mode,
        )

    async def _get_gateway(self, op: str, *, error: type[FatalConnectorError] = FatalConnectorError) -> Any:
        async with self._gateway_lock:
            if self._gateway is None:
                try:
                    self._gateway = await asyncio.to_thread(self._build_gateway)
                except ImportError as exc:
                    raise error(
                        f"karrio's {self.profile.id} package is not installed ({exc}); "
                        "install the carriers extra: pip install -e '.[carriers]' in the omnibridge checkout",
                        connector=self.profile.id,
                        op=op,
                    ) from exc
            return self._gateway

    async def _read(self, op: str, func: Callable[[Any, Any], Outcome], argument: Any) -> Outcome:
        """A read (rates, tracking): retried on transient failures, ``max_attempts`` tries in all."""
        gateway = await self._get_gateway(op)
        delay = self.settings.retry_backoff_seconds
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                result = await self._call(op, func, gateway, argument)
                if not any(str(m.code) in self.profile.retriable_codes for m in _errors(result[1])):
                    return result
                if attempt == self.settings.max_attempts:
                    self._raise_for(result[1], op, default="the carrier kept failing")
            except RetriableConnectorError:
                if attempt == self.settings.max_attempts:
                    raise
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, op: str, func: Callable[[Any, Any], Outcome], gateway: Any, argument: Any) -> Outcome:
        """Run one blocking karrio operation in a thread, bounded by ``timeout_seconds``; failures that are not
        carrier messages become connector errors."""
        try:
            async with self._slots:
                result, messages, raw = await asyncio.wait_for(
                    asyncio.to_thread(func, gateway, argument), self.settings.timeout_seconds
                )
        except TimeoutError as exc:
            raise RetriableConnectorError(
                f"no answer within {self.settings.timeout_seconds:g} s", connector=self.profile.id, op=op
            ) from exc
        except OSError as exc:  # urllib's URLError, refused or reset connections
            raise RetriableConnectorError(f"carrier unreachable: {exc}", connector=self.profile.id, op=op) from exc
        except ConnectorError:
            raise
        except Exception as exc:
            raised = karrio_gateway.messages_of(exc)
            if raised is not None:  # an OAuth (or USPS payment) token request failed; karrio raises its messages
                # ... before any label request was sent: a purchase failing here bought nothing.
                self._raise_for(raised, op, default=str(exc), refused=op == "buy_label")
            if isinstance(exc, ValueError):  # a body that is not the carrier's JSON: a gateway's error page
                raise RetriableConnectorError(
                    f"unreadable carrier response: {exc}", connector=self.profile.id, op=op
                ) from exc
            raise FatalConnectorError(
                f"karrio failed: {type(exc).__name__}: {exc}", connector=self.profile.id, op=op
            ) from exc
        if not result and not messages:
            messages = self.profile.raw_errors(raw)
        return result, messages, raw

    def _raise_for(
        self, messages: list[Any], op: str, *, default: str, unsettled: str | None = None, refused: bool = False
    ) -> NoReturn:
        """Raise the connector error the carrier's error messages call for (never returns). ``unsettled``: the
        messages answer the purchase of that ``shipment_ref``; ``refused``: they answer a request made before any
        purchase was sent. Either way a carrier's plain refusal is raised as :class:`_Refused`."""
        errors = _errors(messages)
        text = "; ".join(f"{m.code}: {m.message}" for m in errors) or default
        codes = {str(m.code) for m in errors}
        if unsettled is not None and not errors:  # an answer without a label or an error: it may have sold one
            self._unsettled.add(unsettled)
            text += " (the label may have been bought: check the carrier account before buying again)"
            raise FatalConnectorError(text, connector=self.profile.id, op=op)
        fatal = _Refused if unsettled is not None or (refused and errors) else FatalConnectorError
        if codes & self.profile.retriable_codes:
            if unsettled is not None and codes - self.profile.throttle_codes:
                self._unsettled.add(unsettled)
                text += " (the label may have been bought: check the carrier account before buying again)"
                raise FatalConnectorError(text, connector=self.profile.id, op=op)
            if codes <= self.profile.throttle_codes:
                raise _Throttled(text, connector=self.profile.id, op=op)
            raise RetriableConnectorError(text, connector=self.profile.id, op=op)
        if codes & self.profile.auth_codes:
            raise fatal(f"credentials refused: {text}", connector=self.profile.id, op=op)
        raise fatal(text, connector=self.profile.id, op=op)


def _errors(messages: list[Any]) -> list[Any]:
    return [m for m in messages if getattr(m, "level", None) != "warning"]


def _rate_order(rate: Rate) -> tuple[Any, ...]:
    return (rate.amount, rate.service)
