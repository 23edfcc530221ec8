"""Security: encryption of data at rest (:mod:`omnibridge.security.crypto`)."""
