"""Several daemons on one PostgreSQL (``omnibridge run --replica``; docs/scaling.md).

procrastinate distributes the work: which replica applies a channel's deliveries, writes a channel, or runs a
scheduled tick, and when. Nothing here is imported by the single-daemon mode; procrastinate is the optional extra
``omnibridge[replicas]``.

* :mod:`~omnibridge.replicas.buckets`: the SKU bucket every replica agrees on;
* :mod:`~omnibridge.replicas.schema`: procrastinate's tables and functions, applied on PostgreSQL by ``open_store``;
* :mod:`~omnibridge.replicas.app`: the procrastinate App on the store's database;
* :mod:`~omnibridge.replicas.tasks`: the jobs, their locks and the periodic ticks;
* :mod:`~omnibridge.replicas.worker`: the procrastinate worker and the sweep, inside the daemon's event loop.
"""
