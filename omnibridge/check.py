"""``omnibridge check``: prove each enabled channel's credentials and reachability with read-only calls.

Like Airbyte's ``check``: nothing is written anywhere and no database is opened. Per enabled channel:

* a connector implementing :class:`~omnibridge.sdk.check.CheckableConnector` runs its own ``check()`` (a file feed
  inspects its folders, a carrier makes a cheap read);
* any other sales channel lists its locations, which also proves the profile's ``location_map`` maps one;
* any other carrier is reported as not checked (``skipped``), which is not a failure.

Every failure is caught per channel, so one broken channel never hides the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass
from typing import Any, Literal

from omnibridge.config import LoadedChannel, LoadedProfile
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import mask_secrets
from omnibridge.sdk.channel import ChannelConnector
from omnibridge.sdk.check import CheckableConnector
from omnibridge.sync.runtime import SALES_KINDS, ChannelRuntime

CHECK_TIMEOUT_SECONDS = 60.0
"""A channel that has not answered (with its connector's own retries) within this long is reported failed."""

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class ChannelCheck:
    """The outcome for one channel: ``status`` and a one-line ``detail`` (the reason when failed)."""

    channel: str
    connector: str
    kind: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def check_profile(profile: LoadedProfile, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> list[ChannelCheck]:
    """Check every enabled channel of ``profile``, one after the other, in the profile's order."""
    return [await check_channel(channel, timeout=timeout) for channel in profile.channels if channel.enabled]


async def check_channel(channel: LoadedChannel, *, timeout: float = CHECK_TIMEOUT_SECONDS) -> ChannelCheck:
    """Check one channel; never raises for what the channel answers (that is a ``failed`` result)."""

    def result(status: Status, detail: str) -> ChannelCheck:
        return ChannelCheck(channel.id, channel.connector, channel.spec.kind.value, status, detail)

    if channel.spec.factory is None:
        return result("skipped", "the connector has no live implementation to check")
    try:
        connector = channel.spec.factory(channel.settings)
    except Exception as exc:
        return result("failed", f"cannot build the connector: {_reason(exc)}")
    try:
        detail = await asyncio.wait_for(_probe(channel, connector), timeout)
    except TimeoutError:
        return result("failed", f"no answer within {timeout:g} s")
    except Exception as exc:
        return result("failed", _reason(exc))
    finally:
        close = getattr(connector, "aclose", None)
        if close is not None:
            with contextlib.suppress(Exception):  # closing a failed connection must not mask its reason
                await close()
    if detail is None:
        return result("skipped", "the connector offers no read-only check")
    return result("ok", detail)


async def _probe(channel: LoadedChannel, connector: object) -> str | None:
    if isinstance(connector, CheckableConnector):
        return await connector.check()
    if channel.spec.kind in SALES_KINDS and isinstance(connector, ChannelConnector):
        runtime = ChannelRuntime(channel.id, connector, channel)
        await runtime.resolve_locations()
        mapped, unmapped = len(runtime.location_ids), len(runtime.unmapped_locations)
        return f"{mapped + unmapped} location(s) readable, {mapped} mapped"
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OmnibridgeError):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return mask_secrets(" ".join(text.split()))
