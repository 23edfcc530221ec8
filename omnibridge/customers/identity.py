"""Normalising what identifies a customer: email and phone.

* **Email**: trimmed and lower-cased, whole (local part included). Gmail's ignored dots and ``+tags`` are *not*
  folded: ``j.doe@gmail.com`` and ``jdoe@gmail.com`` stay two addresses, because folding them is right only for
  some providers and a wrong merge joins two people's data; such customers are merged explicitly
  (``omnibridge customers merge``). A value without exactly one ``@`` and a dotted domain is not an email (None).
* **Phone**: E.164 (``+14155550100``) with the ``phonenumbers`` package; a number without a country code is read
  in the ``region`` given (the address's country), and one that is not a valid number is None.
"""

from __future__ import annotations

import phonenumbers

__all__ = ["normalise_email", "normalise_phone"]


def normalise_email(value: str | None) -> str | None:
    """``value`` trimmed and lower-cased, or None when it is missing or not an email address."""
    if value is None:
        return None
    email = value.strip().lower()
    local, at, domain = email.partition("@")
    if not at or not local or "@" in domain or "." not in domain.strip(".") or any(c.isspace() for c in email):
        return None
    return email


def normalise_phone(value: str | None, region: str | None = None) -> str | None:
    """``value`` in E.164, or None when it is missing or not a valid number (``region``: ISO country code used
    for a number written without its country code)."""
    if value is None or not value.strip():
        return None
    try:
        number = phonenumbers.parse(value, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
