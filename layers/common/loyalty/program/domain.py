"""Programme rules: versioned data that says how purchases turn into points.

A purchase is credited under exactly one version; the version is written on every entry, so a refund can
reverse credits by the rules they were made with, whatever the rules are today.
"""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.members.domain import MAX_LEVELS
from loyalty.shared.errors import LoyaltyError
from loyalty.shared.money import BPS, minor_units

DEFAULT_PROFILE, CN_WECHAT = "default", "cn-wechat"
COMPLIANCE_PROFILES = (DEFAULT_PROFILE, CN_WECHAT)
CN_WECHAT_MAX_LEVELS = 2  # WeChat's rules on "multi-level distribution": at most two levels above the buyer


class ComplianceProfileViolated(LoyaltyError):
    slug, status, title = "compliance-profile", 422, "The programme breaks its compliance profile"


@dataclass(frozen=True)
class ProgramRules:
    """One version of the programme. Rates are basis points per ancestor level, nearest first."""

    version: int
    points_per_currency_unit: int
    referral_rates_bps: tuple[int, ...]
    hold_days: int
    currency: str
    compliance_profile: str = DEFAULT_PROFILE

    def __post_init__(self) -> None:
        if len(self.referral_rates_bps) > MAX_LEVELS:
            raise ValueError(f"at most {MAX_LEVELS} referral levels")
        if self.compliance_profile not in COMPLIANCE_PROFILES:
            raise ValueError(f"no compliance profile {self.compliance_profile!r}")

    @property
    def credited_levels(self) -> int:
        """How many levels above the buyer earn anything (trailing zero rates credit nobody)."""
        rates = list(self.referral_rates_bps)
        while rates and rates[-1] == 0:
            rates.pop()
        return len(rates)

    def compliance_problems(self) -> list[str]:
        """What in these rules its compliance profile forbids (empty: nothing).

        ``cn-wechat`` (a shop selling through WeChat): WeChat's platform rules and China's rules on pyramid
        selling (禁止传销条例) treat rewards more than two levels up as multi-level distribution, so at most two
        levels may earn. (Paying for a sign-up alone and paying points for sharing are refused there too; this
        programme has neither yet: the checks arrive with the rules that could pay them.)
        """
        problems = []
        if self.compliance_profile == CN_WECHAT and self.credited_levels > CN_WECHAT_MAX_LEVELS:
            problems.append(f"cn-wechat allows at most {CN_WECHAT_MAX_LEVELS} referral levels; these rules credit "
                            f"{self.credited_levels}")
        return problems

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
