"""The demo's channel ids, the emulators' demo credentials for Shopify and Square, and the knobs of the world."""

from __future__ import annotations

from dataclasses import dataclass

WEB, POS = "web", "pos"
SHOPIFY_TOKEN, SHOPIFY_SECRET = "shpat_demo_emulator", "demo-shopify-app-secret"
SQUARE_TOKEN, SQUARE_SIGNATURE_KEY = "EAAAdemo-emulator", "demo-square-signature-key"


@dataclass(frozen=True)
class DemoSettings:
    """Knobs of the demo world."""

    shopify_api_version: str = "2026-04"
    shopify_bucket_size: float = 2000.0
    shopify_restore_rate: float = 100.0
    """Shopify's current Standard plan restores 100 points per second (the bucket size is not published; 2,000 is
    the emulator's default). The legacy plan (1,000 points, 50/s) made each full read wait about 9 s."""
    square_requests_per_second: float = 5.0
    square_burst: int = 10
    """Square publishes no limits; these are the emulator's (the rush at the till lowers them for a moment)."""
    api_latency_ms: tuple[float, float] = (5.0, 25.0)
    drifted_every: int = 7
    """Every n-th SKU starts with the wrong count on the POS, so the first sync has something to correct."""
    clover_drifted_every: int = 9
    """The same on Clover (one unit short)."""
    every_vendor: bool = True
    """False: the world's profile has only the web store and the POS (Shopify and Square, three locations), as
    before the other connectors existed; the propagation benchmark uses it to stay comparable with its baseline."""
    amazon_feed_processing_s: float = 1.0
    """How long Amazon takes to process a feed (minutes in real life; shortened so the demo stays quick). Every
    other Amazon limit is the default usage plan of the SP-API models."""
    amazon_feed_poll_seconds: float = 0.5
    """How often the connector polls getFeed (2 requests/s allowed)."""
