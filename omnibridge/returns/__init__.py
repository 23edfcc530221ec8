"""Returns (RMAs): the canonical return, the disposition of every unit, and the actions on it.

* :mod:`~omnibridge.returns.model`: the return, its lines and states;
* :mod:`~omnibridge.returns.dispositions`: restock (once, through the order line), damaged, inspect, missing;
* :mod:`~omnibridge.returns.events`: a channel's :class:`~omnibridge.sdk.returns.ReturnEvent` applied;
* :mod:`~omnibridge.returns.service`: list, show, create, receive, decide (the CLI and the admin API);
* :mod:`~omnibridge.returns.labels`: a return label through the carrier layer;
* :mod:`~omnibridge.returns.writeback`: the ``return`` fulfilment task (create and process it on the channel).

This package imports nothing at import time, so the sync engine can import its modules without a cycle.
"""
