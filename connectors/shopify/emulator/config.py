"""Configuration of the Shopify Admin GraphQL emulator."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_API_VERSION", "SUPPORTED_VERSIONS", "ShopifyEmulatorConfig"]

# Quarterly Admin API versions the emulator serves; any other version in the URL is a 404 like Shopify.
SUPPORTED_VERSIONS: tuple[str, ...] = (
    "2024-10",
    "2025-01",
    "2025-04",
    "2025-07",
    "2025-10",
    "2026-01",
    "2026-04",
    "2026-07",
    "2026-10",
)
DEFAULT_API_VERSION = "2025-01"


@dataclass(frozen=True)
class ShopifyEmulatorConfig:
    """Everything that shapes one emulated shop.

    ``shop`` is the shop handle (domain ``{shop}.myshopify.com``). Requests must carry ``access_token`` in
    ``X-Shopify-Access-Token``; webhooks are signed with ``api_secret`` (the app's client secret). The cost bucket
    holds ``bucket_size`` points and refills at ``restore_rate`` points per second. ``latency_ms`` (min, max),
    ``error_rate`` and ``seed`` feed the shared :class:`omnibridge.sdk.emulator.EmulatorKnobs`. ``webhook_url`` is
    where deliveries are POSTed (``None``: deliveries are recorded but not sent). ``webhook_api_version`` is the
    version stamped on deliveries (``X-Shopify-API-Version``), ``rest_utc_offset_minutes`` the shop's time zone
    offset used in REST payload timestamps (Shopify renders them in shop time, e.g. ``-04:00``).
    """

    shop: str = "demo-outfitters"
    access_token: str = "shpat_emulator"  # noqa: S105 - the emulator's well-known demo credential
    api_secret: str = "emulator-secret"  # noqa: S105 - idem
    bucket_size: float = 2000.0
    restore_rate: float = 100.0
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    seed: int = 0
    webhook_url: str | None = None
    webhook_api_version: str = DEFAULT_API_VERSION
    rest_utc_offset_minutes: int = -240
    currency: str = "USD"
    max_query_cost: int = 1000

    @property
    def domain(self) -> str:
        """The shop's ``myshopify.com`` domain, as sent in ``X-Shopify-Shop-Domain``."""
        return f"{self.shop}.myshopify.com"
