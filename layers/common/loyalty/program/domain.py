"""Programme rules: versioned data that says how purchases turn into points.

A purchase is credited under exactly one version; the version is written on every entry, so a refund can
reverse credits by the rules they were made with, whatever the rules are today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.ledger.expiry import ExpiryPolicy
from loyalty.members.domain import MAX_LEVELS
from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.errors import LoyaltyError
from loyalty.shared.money import BPS, minor_units

DEFAULT_PROFILE, CN_WECHAT = "default", "cn-wechat"
COMPLIANCE_PROFILES = (DEFAULT_PROFILE, CN_WECHAT)
CN_WECHAT_MAX_LEVELS = 2  # WeChat's rules on "multi-level distribution": at most two levels above the buyer


class ComplianceProfileViolated(LoyaltyError):
    slug, status, title = "compliance-profile", 422, "The programme breaks its compliance profile"


DEFAULT_TIME_ZONE = "Asia/Shanghai"
NO_MULTIPLIER = 10_000  # basis points: the buyer earns the base


@dataclass(frozen=True)
class ActionRule:
    """Points for one action (a review, a share, a check-in …) and how many may earn in a local day, a local month
    and a lifetime (None: no cap). Caps count actions, not points."""

    points: int
    per_day: int | None = None
    per_month: int | None = None
    lifetime: int | None = None

    def caps(self) -> dict[str, int]:
        return {name: cap for name, cap in (("day", self.per_day), ("month", self.per_month),
                                            ("lifetime", self.lifetime)) if cap is not None}


@dataclass(frozen=True)
class Multiplier:
    """A calendar multiplier: the local dates ``start``..``end`` (both included), or every month's ``day_of_month``."""

    name: str
    bps: int
    start: date | None = None
    end: date | None = None
    day_of_month: int | None = None

    def __post_init__(self) -> None:
        if (self.day_of_month is None) == (self.start is None or self.end is None):
            raise ValueError("a multiplier has either a date range or a day of the month")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("a multiplier's range ends on or after its start")

    def applies(self, day: date) -> bool:
        if self.day_of_month is not None:
            return day.day == self.day_of_month
        return self.start is not None and self.end is not None and self.start <= day <= self.end


@dataclass(frozen=True)
class TierRule:
    """A tier a member holds by 12-month spend net of refunds (docs/earning.md)."""

    tier: str
    min_spend_12m_minor: int
    discount_bps: int
    points_multiplier_bps: int


@dataclass(frozen=True)
class StatusRule:
    """A status a member holds by qualified referrals: direct referees with a purchase not fully refunded."""

    status: str
    min_qualified_referrals: int
    points_multiplier_bps: int


@dataclass(frozen=True)
class Applied:
    """The multiplier a buyer's points were earned under: its ``rule`` (``calendar:<name>``, ``tier:<tier>``,
    ``status:<status>``, written on the entry), the name the purchase shows, and its basis points."""

    rule: str
    name: str
    bps: int


# --- surprises (docs/earning-surprise.md) ----------------------------------------------------------------------
@dataclass(frozen=True)
class SurpriseRule:
    """Provably fair surprise points: each purchase draws a hit with ``chance_bps`` / 10000, worth ``min_points`` ..
    ``max_points``, while the local day's ``daily_budget`` of surprise points lasts. ``chance_bps`` 0: no surprises
    (how an admin turns them off; such a rule is not stored)."""

    chance_bps: int
    min_points: int
    max_points: int
    daily_budget: int

    def __post_init__(self) -> None:
        if not 0 <= self.chance_bps <= 10_000 or self.min_points < 0 or self.daily_budget < 0:
            raise ValueError("a surprise's chance is 0..10000 basis points; points and budget are not negative")
        if self.min_points > self.max_points:
            raise ValueError("a surprise's max_points is at least its min_points")
# --- end surprises -------------------------------------------------------------------------------------------------


NEVER = datetime.max.replace(tzinfo=UTC)
EXPIRY_TAKES_EFFECT = timedelta(seconds=60)  # past the longest a container keeps the programme (PROGRAM_CACHE_SECONDS)


@dataclass(frozen=True)
class ExpiryRule:
    """Points expire at the end of the local day ``months`` after they became available, counting only points that
    became available after ``since`` (the rule's publication, plus ``EXPIRY_TAKES_EFFECT``: never retroactively,
    docs/earning-expiry.md). ``months`` 0: no expiry (how an admin turns it off; such a rule is not stored)."""

    months: int
    since: str = ""  # RFC 3339; set by ``ProgramService.publish``

    def __post_init__(self) -> None:
        if not 0 <= self.months <= 120:
            raise ValueError("points expire 1 to 120 months after they become available (0: never)")


@dataclass(frozen=True)
class ProgramRules:
    """One version of the programme. Rates are basis points per ancestor level, nearest first."""

    version: int
    points_per_currency_unit: int
    referral_rates_bps: tuple[int, ...]
    hold_days: int
    currency: str
    compliance_profile: str = DEFAULT_PROFILE
    timezone: str = DEFAULT_TIME_ZONE
    actions: tuple[tuple[str, ActionRule], ...] = ()  # by name, sorted
    multipliers: tuple[Multiplier, ...] = ()
    tiers: tuple[TierRule, ...] = ()  # by min_spend_12m_minor, lowest first
    statuses: tuple[StatusRule, ...] = ()
    surprise: SurpriseRule | None = None  # None (or a chance of 0): no surprises
    expiry: ExpiryRule | None = None  # None (or 0 months): points never expire

    def __post_init__(self) -> None:
        if len(self.referral_rates_bps) > MAX_LEVELS:
            raise ValueError(f"at most {MAX_LEVELS} referral levels")
        if self.compliance_profile not in COMPLIANCE_PROFILES:
            raise ValueError(f"no compliance profile {self.compliance_profile!r}")
        ZoneInfo(self.timezone)  # an unknown zone is refused here, not at the first purchase
        if list(self.tiers) != sorted(self.tiers, key=lambda t: t.min_spend_12m_minor):
            raise ValueError("tiers are ordered by min_spend_12m_minor")

    @property
    def surprises(self) -> SurpriseRule | None:
        """The surprise rule purchases draw under, or None when the programme has none (or a chance of 0)."""
        return self.surprise if self.surprise is not None and self.surprise.chance_bps > 0 else None

    def changed(self, given: Mapping[str, Any], now: datetime) -> ProgramRules:
        """These rules with ``given``'s fields replaced, as published (or rehearsed) at ``now``: an expiry rule keeps
        its ``since`` where the months are unchanged, else counts points becoming available from
        ``EXPIRY_TAKES_EFFECT`` after now; 0 months is no rule. Raises ValueError for rules that cannot be."""
        fields = dict(given)
        expiry = fields.pop("expiry", None)
        if expiry is not None:
            if not expiry.months:
                fields["expiry"] = None
            elif self.expiry is not None and self.expiry.months == expiry.months:
                fields["expiry"] = self.expiry
            else:
                fields["expiry"] = ExpiryRule(expiry.months, to_rfc3339(now + EXPIRY_TAKES_EFFECT))
        return replace(self, **fields)

    def expiry_policy(self) -> ExpiryPolicy:
        """The expiry rule as the ledger dates points by it (0 months when points never expire)."""
        if self.expiry is None or not self.expiry.months:
            return ExpiryPolicy(0, NEVER, self.timezone)
        return ExpiryPolicy(self.expiry.months, parse_rfc3339(self.expiry.since), self.timezone)

    @property
    def action_rules(self) -> Mapping[str, ActionRule]:
        return dict(self.actions)

    def local_date(self, now: datetime) -> date:
        """The programme's local date at ``now``: the day rules that count days go by."""
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def multiplier(self, now: datetime, tier: str | None = None, statuses: tuple[str, ...] = ()) -> Applied | None:
        """The highest multiplier of the buyer's tier, their statuses and the calendar at ``now`` (local date), or
        None when none raises the base (the first of equals wins: tier, then statuses, then calendar)."""
        found: list[Applied] = []
        found += [Applied(f"tier:{t.tier}", t.tier, t.points_multiplier_bps) for t in self.tiers if t.tier == tier]
        found += [Applied(f"status:{s.status}", s.status, s.points_multiplier_bps) for s in self.statuses
                  if s.status in statuses]
        if self.multipliers:
            today = self.local_date(now)
            found += [Applied(f"calendar:{m.name}", m.name, m.bps) for m in self.multipliers if m.applies(today)]
        best = max(found, key=lambda a: a.bps, default=None)
        return best if best is not None and best.bps > NO_MULTIPLIER else None

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
        levels may earn. Points for sharing (the ``share`` action) are refused there too: WeChat's
        platform rules forbid inducing shares with rewards (诱导分享). (Paying for a sign-up alone is refused there as
        well; this programme has no such rule.)
        """
        problems = []
        if self.compliance_profile == CN_WECHAT and self.credited_levels > CN_WECHAT_MAX_LEVELS:
            problems.append(f"cn-wechat allows at most {CN_WECHAT_MAX_LEVELS} referral levels; these rules credit "
                            f"{self.credited_levels}")
        if self.compliance_profile == CN_WECHAT and self.action_rules.get("share", ActionRule(0)).points > 0:
            problems.append("cn-wechat does not allow points for sharing (WeChat's rules on induced sharing)")
        return problems

    def base_points(self, amount_minor: int) -> int:
        """The buyer's points: whole currency units times the earn rate, rounded down."""
        return (amount_minor // 10 ** minor_units(self.currency)) * self.points_per_currency_unit

    def referral_points(self, base: int, level: int) -> int:
        """Points for the ancestor ``level`` steps above the buyer (1 = the buyer's referrer)."""
        if level < 1 or level > len(self.referral_rates_bps):
            return 0
        return base * self.referral_rates_bps[level - 1] // BPS

    def credit_plan(self, buyer_id: str, ancestors: tuple[str, ...], amount_minor: int,
                    multiplier: Applied | None = None) -> list[tuple[str, int, int]]:
        """``(member_id, level, points)`` for the buyer and each credited ancestor; zero credits left out. The
        buyer's points are ``floor(base × multiplier / 10000)``; every referral credit comes from the base, so no
        multiplier compounds up the tree."""
        base = self.base_points(amount_minor)
        plan = [(buyer_id, 0, base * multiplier.bps // BPS if multiplier is not None else base)]
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
