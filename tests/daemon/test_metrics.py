"""The metrics registry renders the Prometheus text format 0.0.4 that a scraper parses back to the same values."""

from __future__ import annotations

import math

import pytest

from omnibridge.daemon.metrics import CONTENT_TYPE, Registry, format_value
from omnibridge.daemon.telemetry import DaemonMetrics

from .promtext import parse


def test_counter_gauge_and_histogram_parse_back_to_their_values() -> None:
    registry = Registry()
    pushes = registry.counter("omnibridge_pushes_total", "Pushes by outcome", ["channel", "status"])
    lag = registry.gauge("omnibridge_sync_lag_seconds", "Oldest pending delivery", ["channel"])
    up = registry.gauge("omnibridge_up", "Alive")
    took = registry.histogram("omnibridge_job_duration_seconds", "Job time", ["job"], buckets=[0.1, 1, 10])
    pushes.inc(channel="web", status="applied")
    pushes.inc(4, channel="web", status="applied")
    pushes.inc(channel="pos", status="stale")
    lag.set(2.5, channel="web")
    lag.set(0, channel="pos")
    up.set(1)
    for seconds in (0.05, 0.5, 0.7, 3.0, 30.0):
        took.observe(seconds, job="readback")

    parsed = parse(registry.render())

    assert parsed.types == {
        "omnibridge_pushes_total": "counter",
        "omnibridge_sync_lag_seconds": "gauge",
        "omnibridge_up": "gauge",
        "omnibridge_job_duration_seconds": "histogram",
    }
    assert parsed.helps["omnibridge_pushes_total"] == "Pushes by outcome"
    assert parsed.value("omnibridge_pushes_total", channel="web", status="applied") == 5
    assert parsed.value("omnibridge_pushes_total", channel="pos", status="stale") == 1
    assert parsed.value("omnibridge_sync_lag_seconds", channel="web") == 2.5
    assert parsed.value("omnibridge_sync_lag_seconds", channel="pos") == 0
    assert parsed.value("omnibridge_up") == 1
    buckets = {
        dict(labels)["le"]: value for labels, value in parsed.series("omnibridge_job_duration_seconds_bucket").items()
    }
    assert buckets == {"0.1": 1, "1": 3, "10": 4, "+Inf": 5}  # cumulative
    assert parsed.value("omnibridge_job_duration_seconds_count", job="readback") == 5
    assert parsed.value("omnibridge_job_duration_seconds_sum", job="readback") == pytest.approx(34.25)


def test_label_values_and_help_are_escaped() -> None:
    registry = Registry()
    weird = 'a "quoted" back\\slash\nnewline'
    registry.counter("c_total", "help with \\ and\nnewline", ["channel"]).inc(channel=weird)
    text = registry.render()
    assert 'c_total{channel="a \\"quoted\\" back\\\\slash\\nnewline"} 1.0\n' in text
    assert len([line for line in text.splitlines() if line and not line.startswith("#")]) == 1
    parsed = parse(text)
    assert parsed.value("c_total", channel=weird) == 1
    assert parsed.helps["c_total"] == "help with \\\\ and\\nnewline"


def test_special_values_render_as_prometheus_spells_them() -> None:
    assert [format_value(v) for v in (math.inf, -math.inf, math.nan, 3.0, 0.25, 7)] == [
        "+Inf",
        "-Inf",
        "NaN",
        "3",
        "0.25",
        "7",
    ]
    registry = Registry()
    registry.gauge("g", "a gauge").set(math.inf)
    assert parse(registry.render()).value("g") == math.inf


def test_contracts_labels_names_counters_and_registration() -> None:
    registry = Registry()
    counter = registry.counter("x_total", "x", ["channel"])
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc(job="readback")
    with pytest.raises(ValueError, match="takes labels"):
        counter.inc()
    with pytest.raises(ValueError, match="cannot go down"):
        counter.inc(-1, channel="web")
    with pytest.raises(ValueError, match="invalid metric name"):
        registry.gauge("bad-name", "x")
    with pytest.raises(ValueError, match="invalid label name"):
        registry.histogram("h", "x", ["le"])
    assert registry.counter("x_total", "x", ["channel"]) is counter
    with pytest.raises(ValueError, match="already registered"):
        registry.gauge("x_total", "x", ["channel"])
    counter.set_total(41, channel="web")
    counter.inc(channel="web")
    assert counter.value(channel="web") == 42
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_gauge_clear_drops_vanished_series() -> None:
    registry = Registry()
    dead = registry.gauge("dead", "x", ["channel"])
    dead.set(3, channel="gone")
    dead.clear()
    dead.set(0, channel="web")
    assert parse(registry.render()).series("dead") == {frozenset({("channel", "web")}): 0}


def test_webhook_answers_are_counted_by_receipt_status() -> None:
    metrics = DaemonMetrics()
    for status in ("stored", "stored", "duplicate", "rejected", "unknown_channel", "unavailable", "odd"):
        metrics.record_webhook("web", status, 0.002)
    parsed = parse(metrics.registry.render())
    assert parsed.value("omnibridge_webhooks_received_total", channel="web") == 2
    assert parsed.value("omnibridge_webhooks_duplicates_total", channel="web") == 1
    assert parsed.value("omnibridge_webhooks_rejected_total", channel="web") == 2
    assert parsed.value("omnibridge_webhooks_unavailable_total", channel="web") == 1
    assert parsed.value("omnibridge_webhook_ack_seconds_count", channel="web") == 7
