"""Catalog SKUs a channel does not list: found on every read, reported once per channel and SKU as an incident.

A connector's ``read_levels`` leaves out the SKUs the channel has no item for (every connector does; Amazon
answers "no listing"). Leaving them out silently would let ``sync`` claim a channel is in step while part of the
catalog is not on it at all, so the reconcile names them (:attr:`ReconcileReport.not_listed`) and records an
incident of kind ``not_listed`` (deduplicated by channel and SKU). A SKU the profile spells differently on the
channel (``mappings.sku_aliases``) is looked up under its alias; an alias the channel does not know is the same
finding, and the incident names the alias.
"""

from __future__ import annotations

from collections.abc import Sequence

from omnibridge.sdk.channel import StockLevel
from omnibridge.store import Incident, Store
from omnibridge.sync.runtime import ChannelRuntime

NOT_LISTED = "not_listed"
"""The incident kind."""


def unlisted(channel: ChannelRuntime, masters: Sequence[str], levels: Sequence[StockLevel]) -> list[str]:
    """The master SKUs among ``masters`` for which the channel's read returned no level at all."""
    listed = {channel.master_sku(level.sku) for level in levels}
    return [sku for sku in masters if sku not in listed]


def report_unlisted(store: Store, channel: ChannelRuntime, skus: Sequence[str]) -> None:
    """Record a ``not_listed`` incident for each SKU (once per channel and SKU: a repeat changes nothing)."""
    for sku, channel_sku in zip(skus, channel.channel_skus(list(skus)), strict=True):
        alias = f" under its alias {channel_sku!r} (mappings.sku_aliases)" if channel_sku != sku else ""
        store.add_incident(
            Incident(
                kind=NOT_LISTED,
                decision="reported",
                summary=(
                    f"{channel.id} has no item with SKU {sku!r}{alias}: nothing is shown or written there; list it "
                    "on the channel or fix the alias (ignore this if the channel is not meant to sell it)"
                ),
                dedupe_key=f"{NOT_LISTED}:{channel.id}:{sku}",
                channel=channel.id,
                sku=sku,
                data={"channel_sku": channel_sku},
            )
        )
