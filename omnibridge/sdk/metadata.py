"""What a connector declares about itself.

A connector package exposes one :class:`ConnectorSpec` object through the ``omnibridge.connectors`` entry point
group. The core reads only this object; everything else in the package is the connector's own business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from omnibridge.sdk.emulator_hook import EmulatorHook


class ConnectorKind(StrEnum):
    """What kind of system a connector talks to."""

    STOREFRONT = "storefront"
    MARKETPLACE = "marketplace"
    POS = "pos"
    CARRIER = "carrier"
    ERP_WMS = "erp/wms"
    THIRD_PARTY_LOGISTICS = "3pl"
    """A third-party logistics provider (ShipBob): holds the merchant's stock and ships orders handed to it."""


class Capability(StrEnum):
    """Operations a connector can perform. A conformance test checks the declaration against behaviour."""

    INVENTORY_READ = "inventory.read"
    INVENTORY_WRITE = "inventory.write"
    INVENTORY_COMPARE_AND_SET = "inventory.compare_and_set"
    ORDERS_READ = "orders.read"
    ORDERS_CANCEL = "orders.cancel"
    FULFILLMENT_WRITE = "fulfillment.write"
    RETURNS_WRITE = "returns.write"
    LISTINGS_WRITE = "listings.write"
    PRICES_WRITE = "prices.write"
    RATES = "carrier.rates"
    LABELS = "carrier.labels"
    TRACKING = "carrier.tracking"
    WEBHOOKS = "webhooks"
    FILES = "files"


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """The metadata a connector registers.

    ``id`` is the name merchants write in their profile (``connector: shopify``); lowercase letters, digits,
    ``-`` and ``_``. ``settings_model`` is the pydantic model of the connector's profile section: every
    credential in it must be a ``SecretStr`` so it never reaches output. ``factory`` builds a live connector
    from validated settings; its return type is connector-specific. ``emulator`` says how ``omnibridge emulator
    ID`` starts the connector's local fake of its vendor (``None``: the connector ships none).
    """

    id: str
    label: str
    kind: ConnectorKind
    settings_model: type[BaseModel]
    capabilities: frozenset[Capability]
    factory: Callable[..., Any] | None = None
    version: str = "0"
    description: str = ""
    docs_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    emulator: EmulatorHook | None = None

    def __post_init__(self) -> None:
        import re

        if not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", self.id):
            raise ValueError(
                f"connector id {self.id!r} is invalid: expected lowercase letters, digits, '-' or '_', "
                "starting with a letter"
            )
        if not (isinstance(self.settings_model, type) and issubclass(self.settings_model, BaseModel)):
            raise TypeError(f"connector {self.id!r}: settings_model must be a pydantic BaseModel subclass")
