"""Money is integer minor units of an ISO 4217 currency; rates are integer basis points."""

from __future__ import annotations

BPS = 10_000  # basis points in a whole

# ISO 4217 minor units where they are not 2 (the default).
_MINOR_UNITS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "CLF": 4, "UYW": 4,
}


def minor_units(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (ISO 4217)."""
    return _MINOR_UNITS.get(currency, 2)


def format_amount(amount_minor: int, currency: str) -> str:
    """``12900, "CNY"`` → ``"129.00 CNY"`` (for people; the API always carries minor units)."""
    units = minor_units(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, part = divmod(abs(amount_minor), 10**units)
    number = f"{whole}.{part:0{units}d}" if units else str(whole)
    return f"{sign}{number} {currency}"
