"""The optional read-only self-check a connector may offer to ``omnibridge check``.

A connector that implements :class:`CheckableConnector` is checked by calling its :meth:`~CheckableConnector.check`;
any other sales channel is checked by listing its locations, and any other carrier is reported as not checked.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["CheckableConnector"]


@runtime_checkable
class CheckableConnector(Protocol):
    """A connector that can prove its credentials and reachability without changing anything."""

    async def check(self) -> str:
        """Make one cheap read-only call (or, for a file feed, inspect its folders) and return a short detail for
        a person (``"3 shipments readable"``). Raise a :class:`~omnibridge.errors.ConnectorError` (or any
        :class:`~omnibridge.errors.OmnibridgeError`) whose message says what is wrong when the check fails.
        Must never write to the vendor."""
        ...
