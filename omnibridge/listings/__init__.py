"""Listings and prices from one place: push title and price changes for master SKUs to every channel selling them.

Public surface (import from the submodules; this package import stays cheap so connectors can use
:mod:`omnibridge.sdk.money`)::

    omnibridge.listings.changes.ListingChange, read_changes_csv      # what to change, from code or a CSV file
    omnibridge.listings.service.push_listing_changes -> ListingReport # send them, one batch per channel
    omnibridge.sdk.money.to_minor_units / from_minor_units       # ISO 4217 minor units (Square, Clover)

See ``docs/listings.md``.
"""
