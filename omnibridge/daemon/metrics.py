"""A tiny metrics registry rendered in the Prometheus text exposition format 0.0.4.

Counters, gauges and histograms, each with a fixed set of label names declared when it is registered. Values live
in memory of this process; a scrape renders them all (:meth:`Registry.render`). There is no dependency on
``prometheus_client``: the format is small and stable, and the daemon needs no more than this.

Contracts:

* a metric name matches ``[a-zA-Z_:][a-zA-Z0-9_:]*``, a label name ``[a-zA-Z_][a-zA-Z0-9_]*`` and must not be
  ``le`` (reserved for histogram buckets); every sample of a metric carries exactly its declared labels, or the
  call raises :class:`ValueError`;
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar

__all__ = ["CONTENT_TYPE", "DEFAULT_BUCKETS", "Counter", "Gauge", "Histogram", "Metric", "Registry"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
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


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _label_text(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    return "{" + ",".join(f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True)) + "}"


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
    def sample_lines(self) -> list[str]:
        """The family's sample lines in the text exposition format."""

    def render(self) -> str:
        lines = [f"# HELP {self.name} {_escape_help(self.help)}", f"# TYPE {self.name} {self.type_name}"]
        lines.extend(self.sample_lines())
        return "\n".join(lines) + "\n"


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

    def sample_lines(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_label_text(self.labels, key)} {format_value(value)}" for key, value in items]


@dataclass
class Counter(_Valued):
    """A count that only goes up (resets only when the process restarts)."""

    type_name: ClassVar[str] = "counter"

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

    def sample_lines(self) -> list[str]:
        lines: list[str] = []
        with self._lock:
            items = sorted(self._series.items())
        names = (*self.labels, "le")
        for key, series in items:
            for bound, cumulative in zip(self.buckets, series.counts, strict=True):
                lines.append(f"{self.name}_bucket{_label_text(names, (*key, format_value(bound)))} {cumulative}")
            lines.append(f"{self.name}_bucket{_label_text(names, (*key, '+Inf'))} {series.count}")
            lines.append(f"{self.name}_sum{_label_text(self.labels, key)} {format_value(series.total)}")
            lines.append(f"{self.name}_count{_label_text(self.labels, key)} {series.count}")
        return lines


_M = TypeVar("_M", bound=Metric)


class Registry:
    """The metrics of one process, rendered together."""

    def __init__(self) -> None:
        self._metrics: dict[str, Metric] = {}
        self._lock = threading.Lock()

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

    def render(self) -> str:
        """Every metric in the text exposition format 0.0.4."""
        with self._lock:
            metrics = list(self._metrics.values())
        return "".join(metric.render() for metric in metrics)
