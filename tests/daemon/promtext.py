"""A small, strict parser of the Prometheus text exposition format 0.0.4, to read ``/metrics`` back in tests."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}

Labels = frozenset[tuple[str, str]]


@dataclass
class Exposition:
    types: dict[str, str] = field(default_factory=dict)
    helps: dict[str, str] = field(default_factory=dict)
    samples: dict[tuple[str, Labels], float] = field(default_factory=dict)

    def value(self, name: str, **labels: str) -> float:
        """The sample ``name{labels}``; KeyError when absent."""
        return self.samples[(name, frozenset(labels.items()))]

    def series(self, name: str) -> dict[Labels, float]:
        return {labels: value for (sample, labels), value in self.samples.items() if sample == name}


def _unescape(text: str) -> str:
    return re.sub(r"\\[\\\"n]", lambda m: _UNESCAPE[m.group(0)], text)


def _labels(text: str) -> Labels:
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _LABEL.match(text, position)
        if match is None:
            raise ValueError(f"bad label set {text!r} at {position}")
        pairs.append((match.group(1), _unescape(match.group(2))))
        position = match.end()
    return frozenset(pairs)


def _float(text: str) -> float:
    return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}.get(text) or float(text)


def parse(text: str) -> Exposition:
    """Parse ``text``; raises ValueError on any line that is not a comment, a TYPE/HELP line or a sample."""
    out = Exposition()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("# TYPE "):
            name, kind = line.removeprefix("# TYPE ").split(" ", 1)
            if name in out.types:
                raise ValueError(f"line {number}: second TYPE for {name}")
            out.types[name] = kind
        elif line.startswith("# HELP "):
            name, _, help_text = line.removeprefix("# HELP ").partition(" ")
            out.helps[name] = help_text
        elif line.startswith("#"):
            continue
        else:
            match = _SAMPLE.match(line)
            if match is None:
                raise ValueError(f"line {number}: not a sample: {line!r}")
            key = (match.group(1), _labels(match.group(2) or ""))
            if key in out.samples:
                raise ValueError(f"line {number}: duplicate sample {line!r}")
            out.samples[key] = _float(match.group(3))
    return out
