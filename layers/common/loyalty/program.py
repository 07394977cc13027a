"""Program rules: versioned data that says how purchases turn into points.

A purchase is credited under exactly one version; the version is written on every entry,
so a refund can reverse credits by the rules they were made with, whatever the rules are today.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_REFERRAL_LEVELS = 10
BPS = 10_000

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


@dataclass(frozen=True)
class ProgramRules:
    """One version of the program. Rates are basis points per ancestor level, nearest first."""

    version: int
    points_per_currency_unit: int
    referral_rates_bps: tuple[int, ...]
    hold_days: int
    currency: str

    def base_points(self, amount_minor: int) -> int:
        """The buyer's points: whole currency units times the earn rate, rounded down."""
        return (amount_minor // 10 ** minor_units(self.currency)) * self.points_per_currency_unit

    def referral_points(self, base: int, level: int) -> int:
        """Points for the ancestor ``level`` steps above the buyer (1 = the buyer's referrer)."""
        if level < 1 or level > len(self.referral_rates_bps):
            return 0
        return base * self.referral_rates_bps[level - 1] // BPS

    def credit_plan(self, buyer_id: str, ancestors: tuple[str, ...], amount_minor: int) -> list[tuple[str, int, int]]:
        """``(member_id, level, points)`` for the buyer and each credited ancestor; zero credits left out."""
        base = self.base_points(amount_minor)
        plan = [(buyer_id, 0, base)]
        for level, ancestor in enumerate(ancestors[: len(self.referral_rates_bps)], start=1):
            plan.append((ancestor, level, self.referral_points(base, level)))
        return [row for row in plan if row[2] > 0]


DEFAULT_PROGRAM = ProgramRules(
    version=1,
    points_per_currency_unit=1,
    referral_rates_bps=(1000, 500),
    hold_days=7,
    currency="CNY",
)
