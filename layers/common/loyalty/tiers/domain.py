"""A member's standing under the programme's tiers and statuses (docs/earning-tiers.md).

The standing is one item per member: net spend by local month of recording (13 months kept), the tier held, since
when and until which review, how many of the member's purchases are not fully refunded, and how many qualified
referrals they have. Everything is integers; the tier a member holds at an instant is computed from the item at read
time (a review that fell due is applied on read, and persisted by the next write: no job).

Decisions:
- An upgrade happens with the purchase that qualifies, and that purchase already earns the new tier's multiplier:
  its amount counts in the spend before the multiplier is chosen.
- A downgrade happens only at ``review_at`` (``since`` + 12 months): then the tier becomes what the trailing 12
  months' spend qualifies for (possibly the same, possibly none), with the next review 12 months on.
- Spend counts by the local month the purchase was recorded in; a refund takes its amount off that month.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from itertools import pairwise

from loyalty.program.domain import NO_MULTIPLIER, ProgramRules, StatusRule, TierRule
from loyalty.shared.errors import ValidationProblem

MONTHS_KEPT = 13
SPEND_MONTHS = 12
REVIEW_MONTHS = 12
MAX_TIERS = 10
MAX_STATUSES = 10
MAX_DISCOUNT_BPS = 10_000
MAX_MULTIPLIER_BPS = 100_000


def has_rules(rules: ProgramRules | None) -> bool:
    """Whether purchases under ``rules`` keep standings (a plain programme's purchase reads and writes none)."""
    return rules is not None and bool(rules.tiers or rules.statuses)


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_index(month: str) -> int:
    year, _, number = month.partition("-")
    return int(year) * 12 + int(number) - 1


def add_months(moment: datetime, months: int) -> datetime:
    """The same instant ``months`` calendar months later (the 29th February a year on is the 28th)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = moment.day
    while True:
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            day -= 1


@dataclass(frozen=True)
class Standing:
    """A member's standing as stored (``version`` 0: never stored). ``counted_by``: the referrer whose qualified
    count includes this member (set while it does)."""

    member_id: str
    months: dict[str, int] = field(default_factory=dict)  # local month "YYYY-MM" → net spend, minor units
    tier: str | None = None
    since: datetime | None = None
    review_at: datetime | None = None
    open_purchases: int = 0  # the member's purchases not fully refunded (counted while the programme had rules)
    counted_by: str | None = None
    qualified: int = 0  # qualified referrals: direct referees with a purchase not fully refunded
    version: int = 0

    def spend_12m(self, today: date) -> int:
        """Net spend over the local months ``today``'s month and the 11 before it."""
        now = _month_index(month_of(today))
        return sum(v for m, v in self.months.items() if 0 <= now - _month_index(m) < SPEND_MONTHS)

    def trimmed(self, today: date) -> dict[str, int]:
        now = _month_index(month_of(today))
        return {m: v for m, v in sorted(self.months.items()) if now - _month_index(m) < MONTHS_KEPT}


def qualifying_tier(tiers: tuple[TierRule, ...], spend: int) -> TierRule | None:
    """The highest tier ``spend`` reaches (tiers are ascending)."""
    found = None
    for rule in tiers:
        if spend >= rule.min_spend_12m_minor:
            found = rule
    return found


def _rank(tiers: tuple[TierRule, ...], tier: str | None) -> int:
    """0 for no tier (or one the programme no longer has), 1 + the tier's place otherwise."""
    for n, rule in enumerate(tiers, start=1):
        if rule.tier == tier:
            return n
    return 0


def reviewed(standing: Standing, rules: ProgramRules, now: datetime) -> Standing:
    """The standing at ``now``: a review that fell due is applied (the tier the trailing 12 months' spend at the
    review date qualifies for, from that review date, next review 12 months on). Exact at read time."""
    if standing.tier is None or standing.review_at is None or now < standing.review_at:
        if standing.tier is not None and _rank(rules.tiers, standing.tier) == 0:
            return replace(standing, tier=None, since=None, review_at=None)  # a tier the programme dropped
        return standing
    due = standing.review_at
    while add_months(due, REVIEW_MONTHS) <= now:
        due = add_months(due, REVIEW_MONTHS)
    held = _rank(rules.tiers, standing.tier)
    reached = qualifying_tier(rules.tiers, standing.spend_12m(rules.local_date(due)))
    if reached is None:
        return replace(standing, tier=None, since=None, review_at=None)
    if _rank(rules.tiers, reached.tier) == held:
        return replace(standing, review_at=add_months(due, REVIEW_MONTHS))
    return replace(standing, tier=reached.tier, since=due, review_at=add_months(due, REVIEW_MONTHS))


def statuses_of(rules: ProgramRules, standing: Standing) -> tuple[str, ...]:
    return tuple(s.status for s in rules.statuses if standing.qualified >= s.min_qualified_referrals)


@dataclass(frozen=True)
class AfterPurchase:
    """What a purchase does to the buyer's standing: the new standing, the tier and statuses the purchase earns
    under, and the referrer whose qualified count goes up by one (None: nobody's)."""

    standing: Standing
    tier: str | None
    statuses: tuple[str, ...]
    month: str
    qualifies_referrer: str | None


def after_purchase(rules: ProgramRules, standing: Standing, now: datetime, amount_minor: int,
                   referrer_id: str | None) -> AfterPurchase:
    today = rules.local_date(now)
    month = month_of(today)
    current = reviewed(standing, rules, now)
    months = current.trimmed(today)
    months[month] = months.get(month, 0) + amount_minor
    grown = replace(current, months=months, open_purchases=current.open_purchases + 1)
    reached = qualifying_tier(rules.tiers, grown.spend_12m(today))
    if reached is not None and _rank(rules.tiers, reached.tier) > _rank(rules.tiers, grown.tier):
        grown = replace(grown, tier=reached.tier, since=now, review_at=add_months(now, REVIEW_MONTHS))
    counts = None
    if rules.statuses and referrer_id is not None and grown.counted_by is None:
        counts = referrer_id
        grown = replace(grown, counted_by=referrer_id)
    return AfterPurchase(grown, grown.tier, statuses_of(rules, grown), month, counts)


@dataclass(frozen=True)
class AfterRefund:
    standing: Standing
    uncounts_referrer: str | None  # the referrer whose qualified count goes down by one


def after_refund(standing: Standing, now: datetime, rules: ProgramRules | None, month: str, refund_minor: int,
                 fully_refunded: bool) -> AfterRefund:
    """The month's net spend goes down by the refund (a month no longer kept: nothing); a purchase now fully refunded
    no longer counts as open, and when none is left open the referrer stops counting the member. No downgrade:
    the tier is only reviewed at ``review_at`` (``rules`` None: the review is left for the next read)."""
    current = reviewed(standing, rules, now) if rules is not None else standing
    months = dict(current.months)
    if month in months:
        months[month] -= refund_minor
    left = current.open_purchases - 1 if fully_refunded and current.open_purchases > 0 else current.open_purchases
    uncounts = current.counted_by if left == 0 and current.counted_by is not None else None
    return AfterRefund(replace(current, months=months, open_purchases=left,
                               counted_by=None if uncounts else current.counted_by), uncounts)


@dataclass(frozen=True)
class NextTier:
    tier: str
    spend_needed_minor: int


@dataclass(frozen=True)
class TierView:
    """What a member read shows: the tier held at the instant (None: none), its terms, the trailing spend, what the
    next tier needs, and the statuses held."""

    tier: str | None
    since: datetime | None
    review_at: datetime | None
    discount_bps: int
    points_multiplier_bps: int
    spend_12m_minor: int
    next: NextTier | None
    statuses: tuple[str, ...]
    qualified_referrals: int


def view(rules: ProgramRules, standing: Standing, now: datetime) -> TierView:
    current = reviewed(standing, rules, now)
    spend = current.spend_12m(rules.local_date(now))
    held = next((t for t in rules.tiers if t.tier == current.tier), None)
    rank = _rank(rules.tiers, current.tier)
    above = rules.tiers[rank] if rank < len(rules.tiers) else None
    return TierView(
        tier=current.tier, since=current.since, review_at=current.review_at,
        discount_bps=held.discount_bps if held else 0,
        points_multiplier_bps=held.points_multiplier_bps if held else NO_MULTIPLIER,
        spend_12m_minor=spend,
        next=NextTier(above.tier, max(0, above.min_spend_12m_minor - spend)) if above is not None else None,
        statuses=statuses_of(rules, current), qualified_referrals=current.qualified)


def check_rules(tiers: tuple[TierRule, ...], statuses: tuple[StatusRule, ...]) -> None:
    """``422 validation-error`` for tiers and statuses the programme cannot run: duplicate names, tiers not strictly
    ascending by spend, basis points out of range, more than 10 of either."""
    problems: list[tuple[str, list[str | int]]] = []
    if len(tiers) > MAX_TIERS:
        problems.append((f"at most {MAX_TIERS} tiers", ["body", "tiers"]))
    if len(statuses) > MAX_STATUSES:
        problems.append((f"at most {MAX_STATUSES} statuses", ["body", "statuses"]))
    if len({t.tier for t in tiers}) != len(tiers):
        problems.append(("tier names are unique", ["body", "tiers"]))
    if len({s.status for s in statuses}) != len(statuses):
        problems.append(("status names are unique", ["body", "statuses"]))
    for n, (low, high) in enumerate(pairwise(tiers), start=1):
        if high.min_spend_12m_minor <= low.min_spend_12m_minor:
            problems.append(("tiers are strictly ascending by min_spend_12m_minor",
                             ["body", "tiers", n, "min_spend_12m_minor"]))
    problems += _out_of_range(tiers, statuses)
    if problems:
        message, loc = problems[0]
        raise ValidationProblem(message, loc=loc)


def _out_of_range(tiers: tuple[TierRule, ...], statuses: tuple[StatusRule, ...]) -> list[tuple[str, list[str | int]]]:
    problems: list[tuple[str, list[str | int]]] = []
    for n, t in enumerate(tiers):
        if not 0 <= t.discount_bps <= MAX_DISCOUNT_BPS:
            problems.append((f"discount_bps is 0..{MAX_DISCOUNT_BPS}", ["body", "tiers", n, "discount_bps"]))
        if not 0 <= t.points_multiplier_bps <= MAX_MULTIPLIER_BPS:
            problems.append((f"points_multiplier_bps is 0..{MAX_MULTIPLIER_BPS}",
                             ["body", "tiers", n, "points_multiplier_bps"]))
        if t.min_spend_12m_minor < 0:
            problems.append(("min_spend_12m_minor is at least 0", ["body", "tiers", n, "min_spend_12m_minor"]))
    for n, s in enumerate(statuses):
        if not 0 <= s.points_multiplier_bps <= MAX_MULTIPLIER_BPS:
            problems.append((f"points_multiplier_bps is 0..{MAX_MULTIPLIER_BPS}",
                             ["body", "statuses", n, "points_multiplier_bps"]))
        if s.min_qualified_referrals < 1:
            problems.append(("min_qualified_referrals is at least 1",
                             ["body", "statuses", n, "min_qualified_referrals"]))
    return problems
