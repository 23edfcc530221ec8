"""omnibridge: one truth about a merchant's stock and orders, projected onto every sales channel."""

__version__ = "0.1.0"
