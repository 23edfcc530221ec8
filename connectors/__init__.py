"""Built-in connector packages, one sub-package per channel.

Each is registered through the ``omnibridge.connectors`` entry point group, exactly like a third-party
connector, and imports only the SDK surface of the core (:mod:`omnibridge.sdk`, :mod:`omnibridge.models`,
:mod:`omnibridge.errors`).
"""
