"""The emulator hook a connector declares in its spec (``ConnectorSpec.emulator``).

``omnibridge emulator NAME`` looks NAME up in the connector registry and calls ``spec.emulator.build`` with the
:class:`EmulatorOptions` the merchant gave; the hook returns an :class:`EmulatorServer` (an ASGI app and the lines
that tell how to point a profile at it). The CLI imports no connector: a third-party connector's emulator runs the
same way as a built-in one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omnibridge.models import Product

__all__ = ["EmulatorHook", "EmulatorOptions", "EmulatorServer", "EmulatorSettingError"]


class EmulatorSettingError(ValueError):
    """A ``--set KEY=VALUE`` the emulator does not know or cannot read; the message names the key."""


@dataclass(frozen=True)
class EmulatorOptions:
    """What the merchant asked for on the command line.

    ``catalog`` is the products to seed (the CLI passes the demo catalog unless ``--catalog`` names a CSV);
    ``empty`` asks for no seed at all. ``webhook_url`` is where the emulator sends its webhooks (or
    notifications). ``settings`` are the emulator's own ``--set KEY=VALUE`` options (documented per emulator in
    docs/emulators.md); read them with :meth:`number` and :meth:`text`, which refuse unknown keys.
    """

    host: str = "127.0.0.1"
    port: int = 0
    catalog: Sequence[Product] = ()
    empty: bool = False
    webhook_url: str | None = None
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """``http://host:port`` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def items(self) -> Iterator[tuple[str, str, Decimal]]:
        """``(sku, title, price)`` of every variant to seed: none when ``empty``. The title is
        ``"<product> - <variant>"`` as the demo lists them; a variant without a price is 0."""
        if self.empty:
            return
        for product in self.catalog:
            for variant in product.variants:
                price = variant.price.amount if variant.price else Decimal(0)
                yield variant.sku, f"{product.title} - {variant.title}", price

    def check_settings(self, known: Mapping[str, str]) -> None:
        """Refuse a ``--set`` key that is not in ``known`` (key -> help)."""
        unknown = sorted(set(self.settings) - set(known))
        if unknown:
            expected = ", ".join(sorted(known)) or "none"
            raise EmulatorSettingError(f"unknown emulator setting {unknown[0]!r}; expected one of: {expected}")

    def number(self, key: str, default: float) -> float:
        """The ``--set`` value of ``key`` as a number, or ``default``."""
        raw = self.settings.get(key)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError:
            raise EmulatorSettingError(f"emulator setting {key}={raw!r}: expected a number") from None

    def text(self, key: str, default: str) -> str:
        """The ``--set`` value of ``key``, or ``default``."""
        return self.settings.get(key, default)


@dataclass
class EmulatorServer:
    """A built emulator: the ASGI ``app`` to serve and the ``summary`` lines printed before serving (where it
    listens, the connector settings that point at it, how to drive it). ``emulator`` is the emulator object
    itself, for tests."""

    app: Any
    summary: list[str]
    emulator: Any = None


@dataclass(frozen=True)
class EmulatorHook:
    """How a connector's emulator is started.

    ``build`` must import the emulator lazily (the spec module stays cheap to import). ``default_port`` is the
    port the connector's shipped profile points at, so ``omnibridge emulator NAME`` and the profile agree with no
    edits. ``settings`` documents the emulator's ``--set KEY=VALUE`` options (key -> help).
    """

    build: Callable[[EmulatorOptions], EmulatorServer]
    default_port: int
    description: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)
