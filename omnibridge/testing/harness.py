"""What a connector author provides so :func:`omnibridge.testing.conformance_suite` can test the connector.

The suite drives the *real* connector (built by ``spec.factory`` from settings) against the connector's own
emulator, through a :class:`ConformanceHarness`. The harness starts the emulator and hands the suite a
:class:`ConformanceSession`: the live connector plus a :class:`EmulatorControl`, the back door through which the
suite seeds data, injects failures and reads what the emulator saw.

Which control hooks must work depends on the capabilities the spec declares (the suite checks each declared
capability against behaviour, and fails with "declares X but the harness cannot ..." when a hook it needs is
missing):

=====================================  ===================================================================
capability                             hooks the suite calls
=====================================  ===================================================================
``inventory.read``                     ``seed_stock``
``inventory.write``                    ``seed_stock``, ``shown_stock``
``inventory.compare_and_set``          ``seed_stock``, ``shown_stock`` (a stale compare must be refused)
``orders.read``                        ``place_order``
``orders.cancel``                      ``place_order``, ``order_cancelled``
``listings.write`` / ``prices.write``  ``seed_stock`` (creates the item), ``listing``
``carrier.rates`` / ``carrier.labels`` ``sample_shipment``, ``labels_bought``
``carrier.tracking``                   ``sample_shipment``, ``advance_tracking``
``files``                              ``sample_file``, ``drop_file``, ``file_outcome``
``fulfillment.write`` (a provider)     ``sample_fulfilment``, ``fulfilments_held`` (a connector that is a
                                       ``FulfilmentProvider``: a 3PL, a dropship supplier)
every connector                        ``refused_requests``, ``fail_next``, ``lose_next_response``
=====================================  ===================================================================

A hook a connector cannot support raises :class:`NotImplementedError` (the default in :class:`EmulatorControl`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from omnibridge.sdk.carrier import ShipmentRequest
from omnibridge.sdk.fulfilment import FulfilmentRequest
from omnibridge.sdk.metadata import ConnectorSpec

__all__ = [
    "ConformanceHarness",
    "ConformanceSession",
    "EmulatorControl",
    "FileOutcome",
    "MapperFixture",
    "WebhookVector",
]


class EmulatorControl:
    """The emulator's back door. Override the hooks your connector's capabilities need (see module doc).

    Failure injection applies to the vendor's API (not to the control calls): ``fail_next(status, count)``
    answers the next ``count`` API requests with ``status`` and the vendor's own error body for it (429 with the
    vendor's throttling body and headers); ``lose_next_response(count)`` *processes* the next ``count`` write
    requests and then answers 503 (or drops the connection), as when a response is lost on the way back — the
    suite uses it to prove retries are idempotent. Injected 429s are not counted by ``refused_requests``.
    """

    def refused_requests(self) -> int:
        """How many requests the emulator refused with 429 because the client exceeded the vendor's rate limit
        (not counting injected failures). The rate-limit check requires this to stay 0."""
        raise NotImplementedError

    def api_requests(self) -> int:
        """How many vendor API requests the emulator has answered so far (control calls excluded)."""
        raise NotImplementedError

    def fail_next(self, status: int, *, count: int = 1) -> None:
        """Answer the next ``count`` API requests with ``status`` and the vendor's error body."""
        raise NotImplementedError

    def lose_next_response(self, *, count: int = 1) -> None:
        """Apply the next ``count`` write requests, then answer 503 instead of the real response."""
        raise NotImplementedError

    # inventory ------------------------------------------------------------------------------------------------
    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        """Create the item ``sku`` if needed and make the channel show ``quantity`` at ``location_ref``."""
        raise NotImplementedError

    def shown_stock(self, sku: str, location_ref: str) -> int:
        """What the channel shows for ``sku`` at ``location_ref`` right now."""
        raise NotImplementedError

    # orders ---------------------------------------------------------------------------------------------------
    def place_order(self, sku: str, location_ref: str, quantity: int) -> str:
        """A buyer orders ``quantity`` of ``sku`` (stock taken at ``location_ref``); returns the order's ref as
        the connector's events will name it."""
        raise NotImplementedError

    def order_cancelled(self, order_ref: str) -> bool:
        """Whether the channel shows the order as cancelled."""
        raise NotImplementedError

    # listings -------------------------------------------------------------------------------------------------
    def listing(self, sku: str) -> tuple[str | None, str | None]:
        """The title and the price (decimal string in the channel's currency) the channel shows for ``sku``."""
        raise NotImplementedError

    # carriers -------------------------------------------------------------------------------------------------
    def sample_shipment(self) -> ShipmentRequest:
        """A shipment request the emulator can rate and label."""
        raise NotImplementedError

    def labels_bought(self, shipment_ref: str) -> int:
        """How many labels the emulator sold for the vendor shipment ``shipment_ref`` (must never exceed 1)."""
        raise NotImplementedError

    def advance_tracking(self, tracking_code: str) -> None:
        """Move the parcel one tracking step on (and send the vendor's webhook if the emulator does)."""
        raise NotImplementedError

    # fulfilment providers -----------------------------------------------------------------------------------
    def sample_fulfilment(self, reference: str) -> FulfilmentRequest:
        """A request the provider can take (its SKU stocked at its location) whose ``reference`` is ``reference``."""
        raise NotImplementedError

    def fulfilments_held(self, reference: str) -> int:
        """How many orders the provider holds for the request ``reference`` (must never exceed 1)."""
        raise NotImplementedError

    # files ----------------------------------------------------------------------------------------------------
    def drop_file(self, name: str, content: bytes) -> None:
        """Put a file in the connector's inbox folder the way the ERP would (atomically, complete)."""
        raise NotImplementedError

    def file_outcome(self, name: str) -> FileOutcome:
        """Where the file ``name`` ended up after the connector processed it."""
        raise NotImplementedError

    def sample_file(self, *, valid: bool = True) -> tuple[str, bytes]:
        """A file name and content the connector accepts (``valid=True``) or must reject with a report
        (``valid=False``); the ``files`` check drops both and looks at :meth:`file_outcome`."""
        raise NotImplementedError


@dataclass(frozen=True)
class FileOutcome:
    """``state`` is ``pending`` (still in the inbox), ``processed`` or ``failed``; ``report`` is the error report
    written next to a failed file (empty otherwise)."""

    state: str
    report: str = ""


@dataclass
class ConformanceSession:
    """One running emulator and a connector connected to it. ``sku`` and ``location_ref`` are what the suite
    uses in its probes (a SKU the emulator can create or already has, and one of the channel's locations)."""

    connector: Any
    settings: BaseModel
    control: EmulatorControl
    sku: str = "CONF-SKU-1"
    location_ref: str = ""
    currency: str = "USD"
    """The channel's currency, used by the ``prices.write`` probe."""


@dataclass(frozen=True)
class MapperFixture:
    """A recorded vendor payload and what the connector's mapper must make of it.

    The suite checks ``parse(payload) == expected``; when ``render`` is given (the mapper's other direction) it
    also checks that ``parse(render(expected)) == expected`` — the round trip loses nothing.
    """

    name: str
    payload: Any
    parse: Callable[[Any], Any]
    expected: Any
    render: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class WebhookVector:
    """A webhook delivery as the vendor sends it, and whether it is authentic.

    For every vector with ``valid=True`` the suite also forges variants itself (a flipped body byte, the
    signature header removed or altered) and requires each to be refused with ``WebhookError``.
    ``signature_headers`` names the headers that carry the signature (for those forgeries).
    """

    name: str
    body: bytes
    headers: Mapping[str, str]
    url: str = "https://omnibridge.example/webhooks/channel"
    valid: bool = True
    signature_headers: Sequence[str] = field(default_factory=tuple)
    expected_delivery_id: str | None = None
    body_signed: bool = True
    """False for vendors whose webhook credential is a static shared code rather than a signature over the body
    (Clover's ``X-Clover-Auth``): the kit then does not expect a changed body to be refused."""


class ConformanceHarness(ABC):
    """Subclass this once per connector. ``spec`` is the connector's registered spec."""

    spec: ConnectorSpec

    rate_probe_requests: int = 30
    """How many read requests the rate-limit check fires at once (enough to exceed the vendor's burst)."""

    @abstractmethod
    def session(self) -> AbstractAsyncContextManager[ConformanceSession]:
        """Start the emulator and yield a connected :class:`ConformanceSession`; stop both on exit.

        The connector must be built through ``spec.factory(settings)`` (what merchants get), with settings that
        point at the emulator; a short retry policy in the settings keeps the failure checks fast.
        """

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        """Recorded payloads for the mapper checks (at least one per record type the connector maps)."""
        return ()

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        """Signed deliveries for the webhook checks (required when ``webhooks`` is declared)."""
        return ()

    async def process_files(self, session: ConformanceSession) -> None:
        """Make the connector process its inbox once (the ``files`` check calls it after ``drop_file``).

        The default is one ``pull_events(None)``, for file feeds that are channel connectors; override it for a
        connector that processes files another way.
        """
        await session.connector.pull_events(None)
