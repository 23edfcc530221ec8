"""/metrics through prometheus_client: per-daemon registries, every metric name kept, API calls, retries and
refusals per channel and operation, and the propagation-lag histogram (read back with prometheus_client's
own parser)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import prometheus_client
import pytest
import sqlalchemy as sa
import yaml
from prometheus_client.parser import text_string_to_metric_families

from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.sdk.http import ConnectorHttpClient, HttpFatalError
from omnibridge.sdk.ratelimit import TokenBucket
from omnibridge.sdk.retry import RetryPolicy
from omnibridge.store import Store
from omnibridge.store.engine import write_session
from omnibridge.store.tables import OUTBOX

from .figures import T0, _push, hours

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

KEPT = (
    "omnibridge_up",
    "omnibridge_ready",
    "omnibridge_webhooks_received_total",
    "omnibridge_webhook_ack_seconds",
    "omnibridge_inbox_pending",
    "omnibridge_inbox_dead",
    "omnibridge_dead_letters_total",
    "omnibridge_http_refused_total",
    "omnibridge_sync_lag_seconds",
    "omnibridge_last_sync_age_seconds",
    "omnibridge_pushes_total",
    "omnibridge_throttle_waits_total",
    "omnibridge_job_runs_total",
    "omnibridge_job_duration_seconds",
    "omnibridge_exported_records_total",
)


def samples(metrics: DaemonMetrics) -> tuple[set[str], Samples]:
    """The family names and every sample, as prometheus_client parses the exposition."""
    names: set[str] = set()
    found: Samples = {}
    for family in text_string_to_metric_families(metrics.registry.render()):
        names.add(family.name)
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return names, found


def value(found: Samples, name: str, **labels: str) -> float:
    return found[(name, frozenset(labels.items()))]


def test_every_metric_name_is_kept_and_registries_do_not_leak() -> None:
    first, second = DaemonMetrics(), DaemonMetrics()
    first.up.set(1)
    first.webhook_ack_seconds.observe(0.002, channel="web")
    first.pushes.inc(channel="web", status="applied")
    first.job_runs.inc(job="readback", outcome="ok")
    names, found = samples(first)
    families = {name.removesuffix("_total") for name in KEPT}
    assert families <= names
    assert value(found, "omnibridge_pushes_total", channel="web", status="applied") == 1
    assert value(found, "omnibridge_webhook_ack_seconds_bucket", channel="web", le="0.0025") == 1
    assert samples(second)[1].get(("omnibridge_up", frozenset())) is None
    assert isinstance(first.registry.collector, prometheus_client.CollectorRegistry)
    assert prometheus_client.generate_latest(first.registry.collector).decode() == first.registry.render()
    global_names = {family.name for family in prometheus_client.REGISTRY.collect()}
    assert not any(name.startswith("omnibridge_") for name in global_names)


async def test_api_calls_retries_and_refusals_per_channel_and_operation() -> None:
    answers = iter([httpx.Response(429), httpx.Response(200, json={}), httpx.Response(403, text="no scope")])

    async def sleep(_: float) -> None:
        return None

    bucket = TokenBucket(1.0, 10.0, clock=lambda: 0.0, sleep=sleep)  # no refill: the clock stands still
    client = ConnectorHttpClient(
        "acme",
        "https://api.example.test",
        transport=httpx.MockTransport(lambda request: next(answers)),
        retry_policy=RetryPolicy(max_attempts=3, jitter=0.0),
        sleep=sleep,
    )
    async with client:
        await client.get("/orders", op="getOrders")
        with pytest.raises(HttpFatalError):
            await client.post("/stock", op="pushStock", idempotency_key="k1")
    await bucket.acquire(3.0)
    metrics = DaemonMetrics()
    metrics.count_connector("web", SimpleNamespace(http=client, bucket=bucket))
    _, found = samples(metrics)
    assert value(found, "omnibridge_api_budget_remaining_ratio", channel="web") == 0.7  # 3 of 10 taken
    async with bucket.hold(2.0):  # two more in flight count as spent
        metrics.count_connector("web", SimpleNamespace(http=client, bucket=bucket))
        _, found = samples(metrics)
        assert value(found, "omnibridge_api_budget_remaining_ratio", channel="web") == 0.5
    assert value(found, "omnibridge_api_calls_total", channel="web", operation="getOrders", outcome="throttled") == 1
    assert value(found, "omnibridge_api_calls_total", channel="web", operation="getOrders", outcome="ok") == 1
    assert value(found, "omnibridge_api_calls_total", channel="web", operation="pushStock", outcome="denied") == 1
    assert value(found, "omnibridge_api_retries_total", channel="web", operation="getOrders") == 1
    assert value(found, "omnibridge_api_refusals_total", channel="web", operation="getOrders", reason="throttled") == 1
    assert value(found, "omnibridge_api_refusals_total", channel="web", operation="pushStock", reason="denied") == 1
    assert ("omnibridge_api_retries_total", frozenset({("channel", "web"), ("operation", "pushStock")})) not in found


def test_propagation_lag_histogram_counts_each_landed_write_once(store: Store) -> None:
    with write_session(store.engine) as session:
        session.execute(
            sa.insert(OUTBOX),
            [
                _push("web", "A", "applied", hours(1), 0.4),
                _push("web", "B", "unchanged", hours(2), 3.0),
                _push("web", "C", "failed", hours(3), 1.0),
                _push("pos", "A", "applied", hours(1), 40.0),
                _push("pos", "B", "applied", T0 - timedelta(hours=1), 0.1),  # landed before the daemon started
            ],
        )
    metrics = DaemonMetrics(lag_since=T0)
    metrics.observe_propagation(store)
    metrics.observe_propagation(store)
    _, found = samples(metrics)
    assert value(found, "omnibridge_propagation_lag_seconds_count", channel="web") == 2
    assert value(found, "omnibridge_propagation_lag_seconds_bucket", channel="web", le="0.5") == 1
    assert value(found, "omnibridge_propagation_lag_seconds_bucket", channel="web", le="5") == 2
    assert value(found, "omnibridge_propagation_lag_seconds_sum", channel="web") == pytest.approx(3.4)
    assert value(found, "omnibridge_propagation_lag_seconds_count", channel="pos") == 1
    with write_session(store.engine) as session:
        session.execute(sa.insert(OUTBOX), [_push("web", "D", "applied", hours(5), 1.5)])
    metrics.observe_propagation(store)
    assert value(samples(metrics)[1], "omnibridge_propagation_lag_seconds_count", channel="web") == 3


def test_the_documented_alert_rules_parse_and_name_metrics_that_exist() -> None:
    text = (Path(__file__).parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")
    block = text.split("### Alert rules", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    rules = yaml.safe_load(block)["groups"][0]["rules"]
    assert {rule["alert"] for rule in rules} >= {
        "OmnibridgeChannelLate",
        "OmnibridgeBacklogOld",
        "OmnibridgeVendorRefusals",
        "OmnibridgeDeadLetters",
        "OmnibridgePropagationSlow",
    }
    metrics = DaemonMetrics()
    for rule in rules:
        for name in re.findall(r"omnibridge_[a-z_]+", rule["expr"]):
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert metrics.registry.get(family) is not None or family.startswith("omnibridge_engine_"), name
