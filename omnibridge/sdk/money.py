"""ISO 4217 minor units: how many decimals a currency has, and amounts converted to and from its smallest unit.

Square and Clover take prices as integers in the currency's smallest unit (cents for USD, yen for JPY, fils for
KWD). A decimal amount that does not fit the currency's precision (``19.999 USD``) is refused rather than rounded:
the merchant gets exactly the price asked for or an error.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = ["amount_fits", "decimals", "from_minor_units", "to_minor_units"]

# ISO 4217 exponents other than 2 (active codes; funds codes included where they are in use).
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


def decimals(currency: str) -> int:
    """The number of decimals of ``currency`` (ISO 4217 exponent; 2 for codes not listed otherwise)."""
    return _EXPONENTS.get(currency.upper(), 2)


def amount_fits(amount: Decimal, currency: str) -> bool:
    """True when ``amount`` has no more decimals than ``currency`` allows (``19.90`` and ``19.9`` fit USD)."""
    scaled = amount.scaleb(decimals(currency))
    return scaled == scaled.to_integral_value()


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``amount`` in the smallest unit of ``currency`` (``Decimal("19.99"), "USD"`` -> ``1999``).

    Raises :class:`ValueError` when the amount has more decimals than the currency has.
    """
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a price")
    if not amount_fits(amount, currency):
        raise ValueError(
            f"{amount} {currency.upper()} has more than {decimals(currency)} decimals, the precision of "
            f"{currency.upper()}"
        )
    return int(amount.scaleb(decimals(currency)).to_integral_value())


def from_minor_units(units: int, currency: str) -> Decimal:
    """The decimal amount of ``units`` minor units of ``currency`` (``1999, "USD"`` -> ``Decimal("19.99")``)."""
    places = decimals(currency)
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))
