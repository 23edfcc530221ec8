"""Build a karrio gateway for one carrier account, optionally pointed at another host (an emulator).

This is the only module that imports karrio (with :mod:`connectors.karrio.pdf`, which it installs). karrio has no
type hints, so its objects cross this boundary as
``Any``. karrio chooses the API host from ``test_mode`` through a read-only ``server_url`` property on the
carrier's settings class; a subclass that overrides the property is the supported way to aim it elsewhere
(``karrio.sdk.gateway[...].create`` accepts a settings instance as well as a dict).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = [
    "build_gateway",
    "karrio_available",
    "load_karrio",
    "messages_of",
    "run_rates",
    "run_shipment",
    "run_tracking",
]


def karrio_available(carrier: str) -> bool:
    """Whether karrio's package for ``carrier`` is installed (cheap: imports no carrier code)."""
    import importlib.util

    try:
        return importlib.util.find_spec(f"karrio.mappers.{carrier}") is not None
    except ModuleNotFoundError:
        return False


def load_karrio() -> Any:
    """Import karrio the way omnibridge runs it: silenced, and bundling PDFs with pypdf, never PyPDF2
    (:mod:`connectors.karrio.pdf`). Returns the ``karrio`` package (its ``sdk`` loaded)."""
    from loguru import logger

    # karrio logs every request payload (addresses, i.e. personal data) through loguru, and replaces loguru's
    # handlers when imported; omnibridge logs through structlog, so karrio is silenced (before its import).
    logger.disable("karrio")
    import karrio.sdk

    from connectors.karrio import pdf

    pdf.install()
    return karrio


def build_gateway(carrier: str, fields: dict[str, Any], *, server_url: str | None, test_mode: bool) -> Any:
    """A karrio ``Gateway`` for ``carrier`` built from karrio's settings ``fields`` (plain strings).

    The gateway caches its OAuth token itself (per gateway), so build one per connector and keep it.
    """
    karrio = load_karrio()
    base: type[Any] = importlib.import_module(f"karrio.mappers.{carrier}").Settings
    settings_class = base
    if server_url is not None:
        url = server_url.rstrip("/")
        settings_class = type(
            f"{base.__name__}AtUrl", (base,), {"server_url": property(lambda _self: url), "__module__": __name__}
        )
    settings = settings_class(**fields, test_mode=test_mode)
    return karrio.sdk.gateway[carrier].create(settings)


def run_rates(gateway: Any, payload: dict[str, Any]) -> tuple[list[Any], list[Any], Any]:
    """Rate ``payload`` (karrio ``RateRequest`` as a dict): karrio's rates, its messages and the raw response.

    These runners take the same steps as ``karrio.sdk`` (mapper → proxy → mapper) but keep the carrier's raw
    response, which holds what karrio's unified models drop (UPS status types, label charges). Blocking: call
    them in a worker thread. Network failures raise (``OSError``); carrier errors come back as messages.
    """
    import karrio.core.models as models
    import karrio.lib as lib

    request = gateway.mapper.create_rate_request(lib.to_object(models.RateRequest, payload))
    response = gateway.proxy.get_rates(request)
    rates, messages = gateway.mapper.parse_rate_response(response)
    return list(rates or []), list(messages or []), response.deserialize()


def run_shipment(gateway: Any, job: tuple[dict[str, Any], Callable[[Any], Any] | None]) -> tuple[Any, list[Any], Any]:
    """Buy a label: ``job`` is karrio's ``ShipmentRequest`` as a dict and an optional ``patch`` of the carrier
    request karrio built (it receives the serialized request and returns the one to send); see
    :func:`run_rates`."""
    import karrio.core.models as models
    import karrio.lib as lib

    payload, patch = job
    request = gateway.mapper.create_shipment_request(lib.to_object(models.ShipmentRequest, payload))
    if patch is not None:
        # karrio's Serializable keeps its serializer in a private attrs field; wrapping it is the only way to
        # add a field karrio's mapper leaves out (MyDHL customerReferences).
        serialize = request._serializer
        request._serializer = lambda value: patch(serialize(value))
    response = gateway.proxy.create_shipment(request)
    shipment, messages = gateway.mapper.parse_shipment_response(response)
    return shipment, list(messages or []), response.deserialize()


def run_tracking(gateway: Any, tracking_code: str) -> tuple[list[Any], list[Any], Any]:
    """Track one parcel; see :func:`run_rates`."""
    import karrio.core.models as models
    import karrio.lib as lib

    payload = {"tracking_numbers": [tracking_code]}
    request = gateway.mapper.create_tracking_request(lib.to_object(models.TrackingRequest, payload))
    response = gateway.proxy.get_tracking(request)
    details, messages = gateway.mapper.parse_tracking_response(response)
    return list(details or []), list(messages or []), response.deserialize()


def messages_of(exc: BaseException) -> list[Any] | None:
    """The carrier messages a karrio exception carries (an OAuth failure raises them), else ``None``."""
    messages = getattr(exc, "messages", None)
    return list(messages) if isinstance(messages, list) else None
