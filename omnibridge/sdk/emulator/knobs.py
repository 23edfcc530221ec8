"""Knobs that make an emulator misbehave the way real vendors do: latency and injected server errors."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

__all__ = ["EmulatorKnobs"]


@dataclass
class EmulatorKnobs:
    """Per-emulator fault and latency settings; mutable at run time (tests and the control API change them).

    ``latency_ms`` is a (min, max) range drawn uniformly for every API request; ``error_rate`` is the share of
    API requests answered with the vendor's 5xx instead of being processed; ``fail_next`` forces the next N API
    requests to fail that way regardless of the rate. ``seed`` makes the draws reproducible.
    """

    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    fail_next: int = 0
    seed: int | None = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        low, high = self.latency_ms
        if low < 0 or high < low:
            raise ValueError(f"latency_ms must be (min, max) with 0 <= min <= max, got {self.latency_ms!r}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, got {self.error_rate!r}")
        self._random = random.Random(self.seed)

    def draw_latency_s(self) -> float:
        low, high = self.latency_ms
        return (low if high == low else self._random.uniform(low, high)) / 1000.0

    async def delay(self) -> None:
        """Sleep for one latency draw (no-op when the range is zero)."""
        seconds = self.draw_latency_s()
        if seconds > 0:
            await asyncio.sleep(seconds)

    def should_fail(self) -> bool:
        """True when this request must be answered with an injected server error."""
        if self.fail_next > 0:
            self.fail_next -= 1
            return True
        return self.error_rate > 0 and self._random.random() < self.error_rate

    def random(self) -> random.Random:
        """The seeded generator, for other draws an emulator needs (ids, delivery jitter)."""
        return self._random
