"""The profile's channel connectors, for commands that write consent to channels or ask them to erase."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from omnibridge.config import LoadedProfile
from omnibridge.sync.runtime import SALES_KINDS


def channel_connectors(profile: LoadedProfile) -> dict[str, Any]:
    """A connector for each enabled sales channel of ``profile``, by channel id (close them with
    :func:`close_all`)."""
    built: dict[str, Any] = {}
    for channel in profile.channels:
        if channel.enabled and channel.spec.kind in SALES_KINDS and channel.spec.factory is not None:
            built[channel.id] = channel.spec.factory(channel.settings)
    return built


async def close_all(connectors: Iterable[Any]) -> None:
    """Release each connector's connections."""
    for connector in connectors:
        close = getattr(connector, "aclose", None)
        if close is not None:
            await close()
