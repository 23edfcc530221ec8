"""The Connector SDK: everything a connector package may import from omnibridge.

A connector imports only from ``omnibridge.sdk``; the names below are the supported surface and follow
deprecation rules. The submodules are implementation detail. See ``docs/connectors.md``.

Error tree, as a connector sees it::

    ConnectorError(connector, op)
    ├─ FatalConnectorError            auth, permanent 4xx: stop this operation, alert
    │  └─ HttpFatalError              ... raised by ConnectorHttpClient, with status_code
    ├─ RetriableConnectorError        429/5xx/timeout, with retry_after
    │  └─ HttpRetriableError          ... raised by ConnectorHttpClient once its retries are exhausted
    │     └─ AmbiguousWriteError      a write without idempotency key failed after it may have been applied
    └─ SkippableRecordError           one bad record: dead-letter it, go on
    WebhookError                      bad signature, replay, duplicate
"""

from omnibridge.errors import (
    ConfigError,
    ConflictError,
    ConnectorError,
    FatalConnectorError,
    OmnibridgeError,
    RetriableConnectorError,
    SkippableRecordError,
    StaleCompareError,
    WebhookError,
)
from omnibridge.logs import get_logger, register_secret
from omnibridge.sdk.batching import BatchRead, CoalescingBatcher, MissingFromBatchError
from omnibridge.sdk.emulator_hook import EmulatorHook, EmulatorOptions, EmulatorServer, EmulatorSettingError
from omnibridge.sdk.http import (
    AmbiguousWriteError,
    ConnectorHttpClient,
    HttpFatalError,
    HttpRetriableError,
    RequestOptions,
)
from omnibridge.sdk.mapping import MapLevel, MapMessage, MapResult, collect, ok, skip, warning
from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.sdk.money import amount_fits, decimals, from_minor_units, to_minor_units
from omnibridge.sdk.ratelimit import (
    Bucket,
    Clock,
    ConcurrencyLimit,
    CostBucket,
    InFlightLimiter,
    RateLimiter,
    RateLimitObservation,
    RateLimitObserver,
    Sleeper,
    SlidingWindow,
    TokenBucket,
    amazon_rate_limit_header,
    ratelimit_remaining_headers,
    shopify_graphql_throttle_status,
    shopify_rest_call_limit,
)
from omnibridge.sdk.registry import (
    ENTRY_POINT_GROUP,
    ConnectorRegistry,
    LoadFailure,
    RegisteredConnector,
    discover_connectors,
)
from omnibridge.sdk.retry import RetryPolicy, parse_retry_after
from omnibridge.sdk.text import TextEncodingError, decode_spreadsheet
from omnibridge.sdk.webhooks import (
    WebhookDelivery,
    WebhookHeaders,
    constant_time_equals,
    hmac_sha256_base64,
    hmac_sha256_digest,
    hmac_sha256_hex,
    verify_hmac_base64,
    verify_hmac_hex,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "AmbiguousWriteError",
    "BatchRead",
    "Bucket",
    "Capability",
    "Clock",
    "CoalescingBatcher",
    "ConcurrencyLimit",
    "ConfigError",
    "ConflictError",
    "ConnectorError",
    "ConnectorHttpClient",
    "ConnectorKind",
    "ConnectorRegistry",
    "ConnectorSpec",
    "CostBucket",
    "EmulatorHook",
    "EmulatorOptions",
    "EmulatorServer",
    "EmulatorSettingError",
    "FatalConnectorError",
    "HttpFatalError",
    "HttpRetriableError",
    "InFlightLimiter",
    "LoadFailure",
    "MapLevel",
    "MapMessage",
    "MapResult",
    "MissingFromBatchError",
    "OmnibridgeError",
    "RateLimitObservation",
    "RateLimitObserver",
    "RateLimiter",
    "RegisteredConnector",
    "RequestOptions",
    "RetriableConnectorError",
    "RetryPolicy",
    "SkippableRecordError",
    "Sleeper",
    "SlidingWindow",
    "StaleCompareError",
    "TextEncodingError",
    "TokenBucket",
    "WebhookDelivery",
    "WebhookError",
    "WebhookHeaders",
    "amazon_rate_limit_header",
    "amount_fits",
    "collect",
    "constant_time_equals",
    "decimals",
    "decode_spreadsheet",
    "discover_connectors",
    "from_minor_units",
    "get_logger",
    "hmac_sha256_base64",
    "hmac_sha256_digest",
    "hmac_sha256_hex",
    "ok",
    "parse_retry_after",
    "ratelimit_remaining_headers",
    "register_secret",
    "shopify_graphql_throttle_status",
    "shopify_rest_call_limit",
    "skip",
    "to_minor_units",
    "verify_hmac_base64",
    "verify_hmac_hex",
    "warning",
]
