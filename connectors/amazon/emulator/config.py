"""Settings of the Amazon SP-API emulator (identity, credentials it accepts, rates, timings, fault knobs)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_SUPPLY_SOURCE_ID", "AmazonEmulatorConfig"]

DEFAULT_SUPPLY_SOURCE_ID = "057d3fcc-b750-419f-bbcd-4d340c60c430"
"""The emulated seller's one supply source (the id of the model's confirmShipment sandbox example)."""


@dataclass
class AmazonEmulatorConfig:
    """How an :class:`~connectors.amazon.emulator.AmazonEmulator` behaves (see the package docstring).

    * ``client_id`` / ``client_secret`` / ``refresh_token``: the only LWA credentials accepted.
    * ``token_lifetime_s``: ``expires_in`` of issued access tokens (Amazon: 3600).
    * ``rate_scale``: multiplies every operation's refill rate (1.0 = Amazon's defaults; bursts are unchanged);
      ``rate_limits``: per-operation ``(rate, burst)`` overrides, e.g. ``{"getOrders": (1.0, 2)}``.
    * ``feed_processing_s``: time from createFeed to DONE/FATAL (IN_QUEUE for the first half).
    * ``listing_delay_s``: time from an ACCEPTED patchListingsItem (or a DONE JSON_LISTINGS_FEED) until
      getListingsItem/searchListingsItems show its change; until then they show the listing as it was (Amazon:
      "changes can take up to minutes"). Default 0: visible at once.
    * ``unknown_sku_patch``: how patchListingsItem answers for a SKU without a listing: ``"INVALID"`` (an ERROR
      issue 4000004, the default) or ``"ACCEPTED"`` (what Amazon documents: accepted, with a MISSING_ATTRIBUTE issue
      18448 naming the offer's missing attributes; the incomplete listing is not shown by reads).
    * ``upload_url_ttl_s``: life of a pre-signed upload/download URL (Amazon: 5 minutes).
    * ``report_compression``: ``None`` or ``"GZIP"`` for processing reports and report documents.
    * ``report_processing_s``: time from createReport to DONE/CANCELLED/FATAL (IN_QUEUE for the first half).
    * ``orders_lag_s``: getOrders' default upper bound is ``now - orders_lag_s``.
    * ``notification_url`` / ``forwarder_secret``: where notifications are POSTed and the HMAC key.
    * ``mfn_quantity_notifications``: publish LISTINGS_ITEM_MFN_QUANTITY_CHANGE when a buyer order (placed or
      cancelled) changes a listing's DEFAULT quantity (default True).
    * ``public_url``: base URL for pre-signed URLs (default: the base URL of the request that asks for one).
    * ``supply_source_ids``: the seller's supply sources (its own locations, Supply Sources API ids); a
      confirmShipment naming another ``shipFromSupplySourceId`` is 400.
    * ``latency_ms``, ``error_rate``, ``seed``: :class:`omnibridge.sdk.emulator.EmulatorKnobs`.
    """

    seller_id: str = "A1EMULATORSELLER"
    marketplace_id: str = "ATVPDKIKX0DER"
    currency: str = "USD"
    client_id: str = "amzn1.application-oa2-client.emulator"
    client_secret: str = "emulator-client-secret"  # noqa: S105 - the emulator's public demo secret
    refresh_token: str = "Atzr|emulator-refresh-token"  # noqa: S105
    application_id: str = "amzn1.sellerapps.app.emulator"
    token_lifetime_s: int = 3600
    rate_scale: float = 1.0
    rate_limits: dict[str, tuple[float, int]] = field(default_factory=dict)
    feed_processing_s: float = 0.5
    listing_delay_s: float = 0.0
    unknown_sku_patch: str = "INVALID"
    upload_url_ttl_s: float = 300.0
    report_compression: str | None = None
    report_processing_s: float = 0.5
    orders_lag_s: float = 0.0
    notification_url: str | None = None
    forwarder_secret: str = "emulator-forwarder-secret"  # noqa: S105
    mfn_quantity_notifications: bool = True
    public_url: str | None = None
    supply_source_ids: list[str] = field(default_factory=lambda: [DEFAULT_SUPPLY_SOURCE_ID])
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rate_scale <= 0:
            raise ValueError(f"rate_scale must be > 0, got {self.rate_scale!r}")
        if self.token_lifetime_s < 1:
            raise ValueError(f"token_lifetime_s must be >= 1, got {self.token_lifetime_s!r}")
        if self.feed_processing_s < 0:
            raise ValueError(f"feed_processing_s must be >= 0, got {self.feed_processing_s!r}")
        if self.report_processing_s < 0:
            raise ValueError(f"report_processing_s must be >= 0, got {self.report_processing_s!r}")
        if self.listing_delay_s < 0:
            raise ValueError(f"listing_delay_s must be >= 0, got {self.listing_delay_s!r}")
        if self.unknown_sku_patch not in ("INVALID", "ACCEPTED"):
            raise ValueError(f"unknown_sku_patch must be 'INVALID' or 'ACCEPTED', got {self.unknown_sku_patch!r}")
        if self.report_compression not in (None, "GZIP"):
            raise ValueError(f"report_compression must be None or 'GZIP', got {self.report_compression!r}")
        for name, (rate, burst) in self.rate_limits.items():
            if rate <= 0 or burst < 1:
                raise ValueError(f"rate_limits[{name!r}] must be (rate > 0, burst >= 1), got {(rate, burst)!r}")
