"""The daemon's metrics registry, exposed with ``prometheus_client`` (text exposition format 0.0.4).

Each :class:`Registry` owns its own :class:`prometheus_client.CollectorRegistry` (never the process-global
``REGISTRY``), so two daemons in one process, or two tests, never see each other's samples. Counters, gauges and
histograms are declared with a fixed set of label names; their values live in this process and are handed to
``prometheus_client`` as metric families when it collects (:meth:`Registry.collect`), which also renders them
(:meth:`Registry.render`, ``prometheus_client.generate_latest``).

Contracts:

* a metric name matches ``[a-zA-Z_:][a-zA-Z0-9_:]*``, a label name ``[a-zA-Z_][a-zA-Z0-9_]*`` and must not be
  ``le`` (reserved for histogram buckets); every sample of a metric carries exactly its declared labels, or the
  call raises :class:`ValueError`; a counter's name ends in ``_total`` (it is exposed under that name);
* registering a name again with the same type and labels returns the existing metric; with another type or
  other labels it raises :class:`ValueError`;
* :meth:`Counter.inc` only goes up; :meth:`Counter.set_total` mirrors a monotonic count kept elsewhere (a
  connector's rate-limit waits, the engine's counters) and is the only way a counter is set;
* rendering is deterministic: metrics in registration order, samples sorted by label values.
"""

from __future__ import annotations

import math
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric as Family

__all__ = ["CONTENT_TYPE", "DEFAULT_BUCKETS", "Counter", "Gauge", "Histogram", "Metric", "Registry"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What :meth:`Registry.render` writes (``prometheus_client.generate_latest``'s format)."""
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")

LabelValues = tuple[str, ...]


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it (``+Inf``, ``-Inf``, ``NaN``; integral values without a fraction)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


@dataclass
class Metric(ABC):
    """One metric family: a name, its help text, its label names and its samples."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    type_name: ClassVar[str] = "untyped"
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if not _METRIC_NAME.match(self.name):
            raise ValueError(f"invalid metric name {self.name!r}: expected [a-zA-Z_:][a-zA-Z0-9_:]*")
        for label in self.labels:
            if not _LABEL_NAME.match(label) or label == "le" or label.startswith("__"):
                raise ValueError(f"invalid label name {label!r} on {self.name}")

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.labels):
            raise ValueError(f"{self.name} takes labels {sorted(self.labels)}, got {sorted(labels)}")
        return tuple(str(labels[name]) for name in self.labels)

    @abstractmethod
    def family(self) -> Family:
        """The family with its current samples, as ``prometheus_client`` collects it."""


@dataclass
class _Valued(Metric):
    _values: dict[LabelValues, float] = field(default_factory=dict, init=False, repr=False)

    def value(self, **labels: str) -> float:
        """The current value of one sample (0 when it was never set)."""
        return self._values.get(self._key(labels), 0.0)

    def clear(self) -> None:
        """Drop every sample (for series recomputed on each scrape, so a vanished label set disappears)."""
        with self._lock:
            self._values.clear()

    def _items(self) -> list[tuple[LabelValues, float]]:
        with self._lock:
            return sorted(self._values.items())


@dataclass
class Counter(_Valued):
    """A count that only goes up (resets only when the process restarts)."""

    type_name: ClassVar[str] = "counter"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.name.endswith("_total"):
            raise ValueError(f"counter {self.name!r}: a counter's name ends in _total")

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError(f"{self.name}: a counter cannot go down (inc by {amount})")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def set_total(self, total: float, **labels: str) -> None:
        """Mirror a monotonic count kept elsewhere (read at scrape time)."""
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(total)

    def family(self) -> Family:
        family = CounterMetricFamily(self.name, self.help, labels=self.labels)
        for key, value in self._items():
            family.add_metric(key, value)
        return family


@dataclass
class Gauge(_Valued):
    """A value that goes up and down."""

    type_name: ClassVar[str] = "gauge"

    def set(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def family(self) -> Family:
        family = GaugeMetricFamily(self.name, self.help, labels=self.labels)
        for key, value in self._items():
            family.add_metric(key, value)
        return family


@dataclass
class _HistogramSeries:
    counts: list[int]
    total: float = 0.0
    count: int = 0


@dataclass
class Histogram(Metric):
    """Observations counted into cumulative buckets, with their sum and count."""

    buckets: tuple[float, ...] = DEFAULT_BUCKETS
    type_name: ClassVar[str] = "histogram"
    _series: dict[LabelValues, _HistogramSeries] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        bounds = tuple(sorted(float(b) for b in self.buckets if not math.isinf(b)))
        if not bounds or len(set(bounds)) != len(bounds):
            raise ValueError(f"{self.name}: buckets must be distinct finite bounds, got {self.buckets}")
        self.buckets = bounds

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            series = self._series.setdefault(key, _HistogramSeries([0] * len(self.buckets)))
            for index, bound in enumerate(self.buckets):
                if value <= bound:
                    series.counts[index] += 1
            series.total += value
            series.count += 1

    def count(self, **labels: str) -> int:
        series = self._series.get(self._key(labels))
        return 0 if series is None else series.count

    def family(self) -> Family:
        family = HistogramMetricFamily(self.name, self.help, labels=self.labels)
        with self._lock:
            items = sorted((key, list(s.counts), s.count, s.total) for key, s in self._series.items())
        for key, counts, count, total in items:
            buckets = [(format_value(bound), float(n)) for bound, n in zip(self.buckets, counts, strict=True)]
            family.add_metric(key, [*buckets, ("+Inf", float(count))], total)
        return family


_M = TypeVar("_M", bound=Metric)


class Registry:
    """The metrics of one daemon, in a ``prometheus_client`` registry of their own (:attr:`collector`)."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._lock = threading.Lock()
        self.collector = CollectorRegistry(auto_describe=False)
        self.collector.register(self)

    def counter(self, name: str, help: str, labels: Iterable[str] = ()) -> Counter:
        return self._register(Counter(name, help, tuple(labels)))

    def gauge(self, name: str, help: str, labels: Iterable[str] = ()) -> Gauge:
        return self._register(Gauge(name, help, tuple(labels)))

    def histogram(
        self, name: str, help: str, labels: Iterable[str] = (), buckets: Sequence[float] = DEFAULT_BUCKETS
    ) -> Histogram:
        return self._register(Histogram(name, help, tuple(labels), tuple(buckets)))

    def get(self, name: str) -> Metric | None:
        return self._metrics.get(name)

    def _register(self, metric: _M) -> _M:
        with self._lock:
            existing = self._metrics.get(metric.name)
            if existing is None:
                self._metrics[metric.name] = metric
                return metric
        if type(existing) is not type(metric) or existing.labels != metric.labels:
            raise ValueError(
                f"metric {metric.name} is already registered as a {existing.type_name} with labels "
                f"{list(existing.labels)}"
            )
        return existing

    def collect(self) -> Iterator[Family]:
        """Every metric as a ``prometheus_client`` family (the collector protocol), in registration order."""
        with self._lock:
            metrics = list(self._metrics.values())
        for metric in metrics:
            yield metric.family()

    def render(self) -> str:
        """Every metric in the text exposition format 0.0.4."""
        return generate_latest(self.collector).decode("utf-8")
