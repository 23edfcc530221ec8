"""The stock ledger: append-only movements, positions as their sum, exactly-once by idempotency key.

* :mod:`omnibridge.ledger.effects`: the pure rules (bucket deltas per kind, counts, late events, checks).
* :mod:`omnibridge.ledger.apply`: applying a movement in one write transaction.
* :mod:`omnibridge.ledger.records`: reading positions and movements back.
* :mod:`omnibridge.ledger.fingerprint`: telling a re-delivery from a different event under the same key.

Callers use it through :class:`omnibridge.store.Store` (``apply``, ``positions``, ``movements`` ...), which
owns the transactions. Semantics are documented in ``docs/store.md``.
"""
