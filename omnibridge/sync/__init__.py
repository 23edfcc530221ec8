"""The sync engine: channel events into the ledger, the ledger's projection out to every channel.

See :mod:`omnibridge.sync.engine` for the flow, :mod:`omnibridge.sync.apply` for how events become movements
and :mod:`omnibridge.sync.reconcile` for what each channel is asked to show.
"""

from omnibridge.sync.apply import ApplyOutcome, EventApplier
from omnibridge.sync.engine import ChannelSyncReport, Receipt, SyncEngine, SyncReport
from omnibridge.sync.receiver import receiver_app
from omnibridge.sync.reconcile import ReconcileReport, projection, reconcile_channel
from omnibridge.sync.runtime import ChannelRuntime, build_channels

__all__ = [
    "ApplyOutcome",
    "ChannelRuntime",
    "ChannelSyncReport",
    "EventApplier",
    "Receipt",
    "ReconcileReport",
    "SyncEngine",
    "SyncReport",
    "build_channels",
    "projection",
    "receiver_app",
    "reconcile_channel",
]
