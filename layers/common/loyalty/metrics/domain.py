"""The merchant's figures: what each event adds to a day, and the period's metrics from those days.

Definitions (docs/metrics.md has the reasons):

- A day is a local date in the programme's time zone. A purchase counts on the day it *occurred*
  (``occurred_at``), a sign-up on the day the member joined, a ledger entry on the day it was recorded.
- ``purchases.count``: purchases that occurred in the period, refunded or not (a refund gives money back, it
  does not unmake the visit); ``buyers``: the distinct members behind them.
- ``revenue_minor``: those purchases' amounts **net of every refund recorded so far**, counted on the
  purchase's day (so a period's revenue never goes below zero).
- ``repeat_purchase_rate_bps``: of the period's buyers, the share who bought before the period (a first
  purchase on an earlier day) or more than once within it. ``referred_revenue_share_bps``: the share of the
  period's revenue bought by members who have a referrer. Both are basis points, **rounded down**, 0 when
  there is nothing to divide by.
- ``points.issued``: the sum of the period's points entries of every kind that counts as earned (the asset's
  ``lifetime_earned``: purchases, referrals, refund reversals, adjustments; not redemptions, not releases),
  so it is net of refunds and adjustments; ``redeemed``: the points redemptions took; ``expired``: what the
  period's ``expiry`` entries took (recorded by a member's next write after their date, like the ledger);
  ``outstanding``: the sum of every points entry recorded up to the end of the period: all members' ``available`` +
  ``pending`` as the ledger (and ``make verify``) totals them, queued referral credits not yet posted left out.
  So ``outstanding(to) = outstanding(from - 1) + issued - redeemed - expired``.
- A partner's report (``partners.report``) is kept here too, by the same events, exactly once: per partner, local
  day and link, the sign-ups bound through the link, the purchases of those members that earned a commission
  (counted on the day they occurred), their revenue net of refunds, the commission and its reversals, and the
  commission by the instant its hold ends (so a read can tell pending from available). Clicks are counted by the
  landing page into the same rows.
- ``stored_value``: ``outstanding_principal_minor`` and ``outstanding_bonus_minor``, the sum of every stored-value
  entry of that bucket recorded up to the end of the period (what members hold: the shop's liability, principal
  to pay back on withdrawal, bonus to honour); and what the period's entries moved, as positive amounts:
  ``topped_up_minor`` (principal of top-ups), ``bonus_given_minor``, ``paid_minor`` (both parts of payments),
  ``refunded_minor`` (both parts given back), ``withdrawn_minor`` (principal paid back) and
  ``bonus_forfeited_minor``.
- ``bundles``: ``outstanding_uses``, the sum of every bundle card's entries recorded up to the end of the period (the
  uses members have paid for and not yet had: what the shop still owes in service); and what the period's entries
  moved, as positive counts: ``sold_uses``, ``used``, ``refunded_uses``.
- ``commission.outstanding_minor``: the sum of every commission entry recorded up to the end of the period
  (commissions less refunds' reversals and payouts): what the shop owes its partners, pending or available,
  as their chains total it (queued commissions not yet posted left out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty.ledger.assets import BUNDLE, COMMISSION, POINTS, STORED_VALUE, Bucket, EntryKind
from loyalty.members.domain import PartnerBinding
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.errors import ValidationProblem

DEFAULT_TIME_ZONE = "Asia/Shanghai"  # the programme's time zone on a fresh install (API-additions.md)
DEFAULT_DAYS = 30  # a period without ``from`` ends ``to`` (today) and lasts this many days
MAX_DAYS = 366  # the longest period one request may ask for
BPS = 10_000

# The counters a day (and a month, and a year) keeps.
PURCHASES, REVENUE, REFERRED_REVENUE = "purchases", "revenue_minor", "referred_revenue_minor"
NEW_MEMBERS, POINTS_ISSUED, POINTS_REDEEMED = "new_members", "points_issued", "points_redeemed"
POINTS_EXPIRED = "points_expired"  # what the period's expiry entries took (docs/earning-expiry.md)
POINTS_ACTIONS, POINTS_SURPRISES = "points_actions", "points_surprises"  # by earning rule (docs/earning.md)
COMMISSION_OWED = "commission_minor"  # every commission entry: credits, reversals, payouts (releases net 0)
# Stored value (docs/wallet.md): every entry by bucket (what is outstanding), and by kind what moved it.
SV_PRINCIPAL, SV_BONUS = "sv_principal_minor", "sv_bonus_minor"
SV_TOPPED_UP, SV_BONUS_GIVEN = "sv_topped_up_minor", "sv_bonus_given_minor"
SV_PAID, SV_REFUNDED = "sv_paid_minor", "sv_refunded_minor"
SV_WITHDRAWN, SV_FORFEITED = "sv_withdrawn_minor", "sv_forfeited_minor"
# Bundle cards (docs/wallet.md): every card's entries (the uses outstanding), and by kind what moved them.
BUNDLE_USES, BUNDLE_SOLD = "bundle_uses", "bundle_uses_sold"
BUNDLE_USED, BUNDLE_REFUNDED = "bundle_uses_used", "bundle_uses_refunded"
COUNTERS = (PURCHASES, REVENUE, REFERRED_REVENUE, NEW_MEMBERS, POINTS_ISSUED, POINTS_REDEEMED, POINTS_EXPIRED,
            POINTS_ACTIONS, POINTS_SURPRISES, COMMISSION_OWED,
            SV_PRINCIPAL, SV_BONUS, SV_TOPPED_UP, SV_BONUS_GIVEN, SV_PAID, SV_REFUNDED, SV_WITHDRAWN, SV_FORFEITED,
            BUNDLE_USES, BUNDLE_SOLD, BUNDLE_USED, BUNDLE_REFUNDED)


def local_day(instant: str, zone: ZoneInfo) -> str:
    """The local date (``YYYY-MM-DD``) of an RFC 3339 instant in ``zone``."""
    return parse_rfc3339(instant).astimezone(zone).date().isoformat()


@dataclass(frozen=True)
class Period:
    """The local days a request asks about, first and last included."""

    first: date
    last: date

    @property
    def days(self) -> list[str]:
        return [(self.first + timedelta(days=n)).isoformat() for n in range((self.last - self.first).days + 1)]


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationProblem(f"{name} must be a date, YYYY-MM-DD", loc=["query", name]) from None


def period_of(first: str | None, last: str | None, today: date) -> Period:
    """The period ``from``–``to`` asks for: without ``to``, up to today; without ``from``, the ``DEFAULT_DAYS``
    days ending at ``to``. ``from`` after ``to``, or more than ``MAX_DAYS`` days, is refused."""
    start, end = _day(first, "from"), _day(last, "to")
    end = end or max(today, start or today)
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1) if end > date.min + timedelta(days=DEFAULT_DAYS) else date.min
    if start > end:
        raise ValidationProblem("from is after to", loc=["query", "from"])
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationProblem(f"a period is at most {MAX_DAYS} days", loc=["query", "to"])
    return Period(start, end)


# --- the events the figures are made of (as the streams deliver them) -----------------------------

@dataclass(frozen=True)
class Joined:
    """A member signed up (through a partner's link: ``partner``)."""

    member_id: str
    joined_at: str
    partner: PartnerBinding | None = None


@dataclass(frozen=True)
class Bought:
    """A purchase was recorded (with the commission it earned a partner, and when that commission's hold ends)."""

    order_id: str
    buyer: str
    amount_minor: int
    occurred_at: str
    commission_minor: int = 0
    commission_held_until: str | None = None


@dataclass(frozen=True)
class Refunded:
    """A refund was recorded (with the commission it took back: a positive amount)."""

    order_id: str
    refund_id: str
    amount_minor: int
    commission_reversed_minor: int = 0


@dataclass(frozen=True)
class Buyer:
    """What the figures need to know of a member who bought: whether a member referred them, and the partner they
    are bound to."""

    referred: bool
    partner: PartnerBinding | None = None


@dataclass(frozen=True)
class Recorded:
    """A ledger entry was written."""

    holder: str
    seq: int
    asset: str
    kind: str
    amount: int
    created_at: str
    bucket: str | None = None
    rule: str | None = None  # the earning rule that made it (docs/earning.md)


Event = Joined | Bought | Refunded | Recorded


# --- what each event adds ---------------------------------------------------------------------------

# A partner report row's counters (``PartnerShare.counts``); ``HELD_PREFIX + <instant>``: the commission whose hold
# ends at that instant (credits less their reversals).
SIGN_UPS, COMMISSION_EARNED, COMMISSION_REVERSED, HELD_PREFIX = (
    "sign_ups", "commission_minor", "commission_reversed_minor", "held@")
NO_HOLD = "held@-"  # commission that was available at once (a programme without a hold)


@dataclass(frozen=True)
class PartnerShare:
    """What one event adds to a partner's report: counters on its row (partner, local day, link code)."""

    partner_id: str
    day: str
    code: str
    campaign: str | None
    sub_id: str | None
    counts: Mapping[str, int]


@dataclass(frozen=True)
class Fact:
    """What one event adds to the figures, applied exactly once by ``fact_id``: ``counts`` to its day (and that
    day's month and year), for a purchase one more purchase by ``buyer`` on that day, and, for an event of a
    member a partner brought, its share of the partner's report."""

    fact_id: str
    day: str
    counts: Mapping[str, int]
    buyer: str | None = None
    partner: PartnerShare | None = None
    # The buyer's row of the day (segments' spend, docs/segments.md): a purchase is a visit and adds its amount, a
    # refund takes its amount off the purchase's day.
    visit: bool = False
    spend_minor: int = 0


def _share(binding: PartnerBinding | None, day: str, counts: Mapping[str, int]) -> PartnerShare | None:
    if binding is None:
        return None
    return PartnerShare(binding.partner_id, day, binding.code, binding.campaign, binding.sub_id, counts)


def _held(until: str | None) -> str:
    return HELD_PREFIX + until if until else NO_HOLD


def joined(member_id: str, joined_at: str, zone: ZoneInfo, partner: PartnerBinding | None = None) -> Fact:
    day = local_day(joined_at, zone)
    return Fact(f"member/{member_id}", day, {NEW_MEMBERS: 1}, partner=_share(partner, day, {SIGN_UPS: 1}))


def purchased(order_id: str, buyer: str, amount_minor: int, occurred_at: str, referred: bool,
              zone: ZoneInfo, partner: PartnerBinding | None = None, commission_minor: int = 0,
              held_until: str | None = None) -> Fact:
    """A purchase; a partner's report counts it when it earned the partner a commission (within the window)."""
    counts = {PURCHASES: 1, REVENUE: amount_minor, REFERRED_REVENUE: amount_minor if referred else 0}
    day = local_day(occurred_at, zone)
    share = _share(partner, day, {PURCHASES: 1, REVENUE: amount_minor, COMMISSION_EARNED: commission_minor,
                                  _held(held_until): commission_minor}) if commission_minor > 0 else None
    return Fact(f"purchase/{order_id}", day, counts, buyer=buyer, partner=share, visit=True, spend_minor=amount_minor)


def refunded(order_id: str, refund_id: str, amount_minor: int, purchase_occurred_at: str, referred: bool,
             zone: ZoneInfo, partner: PartnerBinding | None = None, earned_commission: bool = False,
             commission_reversed_minor: int = 0, held_until: str | None = None, buyer: str | None = None) -> Fact:
    """A refund takes its amount off the revenue of the purchase's day (revenue is net of refunds), off the buyer's
    spend that day, and, of a purchase that earned a commission, off the partner's row of that day."""
    counts = {REVENUE: -amount_minor, REFERRED_REVENUE: -amount_minor if referred else 0}
    day = local_day(purchase_occurred_at, zone)
    share = _share(partner, day, {REVENUE: -amount_minor, COMMISSION_REVERSED: commission_reversed_minor,
                                  _held(held_until): -commission_reversed_minor}) if earned_commission else None
    return Fact(f"refund/{order_id}/{refund_id}", day, counts, partner=share, buyer=buyer, spend_minor=-amount_minor)


def posted(holder: str, seq: int, asset: str, kind: str, amount: int, created_at: str,
           zone: ZoneInfo, bucket: str | None = None, rule: str | None = None) -> Fact | None:
    """A ledger entry's points, a partner's commission, a member's stored value (by ``bucket``) or a bundle card's uses,
    on the day it was recorded; None for other assets."""
    if asset.startswith(f"{BUNDLE.name}:"):
        return Fact(f"entry/{holder}/{seq}", local_day(created_at, zone), bundle_counts(kind, amount))
    if asset == COMMISSION.name:
        return Fact(f"entry/{holder}/{seq}", local_day(created_at, zone), {COMMISSION_OWED: amount})
    if asset == STORED_VALUE.name:
        return Fact(f"entry/{holder}/{seq}", local_day(created_at, zone), stored_value_counts(kind, bucket, amount))
    if asset != POINTS.name:
        return None
    entry_kind = EntryKind(kind)
    counts = {POINTS_ISSUED: amount if entry_kind not in POINTS.not_earned else 0,
              POINTS_REDEEMED: -amount if entry_kind is EntryKind.REDEMPTION else 0,
              POINTS_EXPIRED: -amount if entry_kind is EntryKind.EXPIRY else 0,
              POINTS_ACTIONS: amount if (rule or "").startswith("action:") else 0,
              POINTS_SURPRISES: amount if rule == "surprise" else 0}
    return Fact(f"entry/{holder}/{seq}", local_day(created_at, zone), counts)


def stored_value_counts(kind: str, bucket: str | None, amount: int) -> dict[str, int]:
    """What a stored-value entry adds: to its bucket's outstanding, and to what its kind moved (positive amounts)."""
    if bucket not in (Bucket.PRINCIPAL, Bucket.BONUS):
        raise ValueError(f"a stored-value entry in bucket {bucket!r}")
    principal = bucket == Bucket.PRINCIPAL
    counts = {SV_PRINCIPAL if principal else SV_BONUS: amount}
    moved = {EntryKind.TOP_UP: (SV_TOPPED_UP, SV_BONUS_GIVEN, 1), EntryKind.PAYMENT: (SV_PAID, SV_PAID, -1),
             EntryKind.REFUND: (SV_REFUNDED, SV_REFUNDED, 1),
             EntryKind.WITHDRAWAL: (SV_WITHDRAWN, SV_FORFEITED, -1)}.get(EntryKind(kind))
    if moved is not None:
        counter = moved[0] if principal else moved[1]
        counts[counter] = counts.get(counter, 0) + moved[2] * amount
    return counts


def bundle_counts(kind: str, amount: int) -> dict[str, int]:
    """What a bundle card's entry adds: to the uses outstanding, and to what its kind moved (positive counts)."""
    moved = {EntryKind.BUNDLE_SALE: (BUNDLE_SOLD, 1), EntryKind.BUNDLE_USE: (BUNDLE_USED, -1),
             EntryKind.REFUND: (BUNDLE_REFUNDED, -1)}.get(EntryKind(kind))
    counts = {BUNDLE_USES: amount}
    if moved is not None:
        counts[moved[0]] = moved[1] * amount
    return counts


def summed(facts: Iterable[Fact], key: str) -> dict[str, dict[str, int]]:
    """The facts' counts added up by ``key`` (``"day"``, ``"month"`` or ``"year"`` of their day), zeros left out."""
    cut = {"day": 10, "month": 7, "year": 4}[key]
    totals: dict[str, dict[str, int]] = {}
    for fact in facts:
        bucket = totals.setdefault(fact.day[:cut], {})
        for name, amount in fact.counts.items():
            if amount:
                bucket[name] = bucket.get(name, 0) + amount
    return {k: v for k, v in totals.items() if v}


# --- the period's figures ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Totals:
    """Counters added up over some days."""

    counts: Mapping[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return int(self.counts.get(name, 0))

    def plus(self, other: Mapping[str, int]) -> Totals:
        return Totals({n: self[n] + int(other.get(n, 0)) for n in COUNTERS})


@dataclass(frozen=True)
class Day:
    date: str
    purchases: int
    revenue_minor: int
    new_members: int


@dataclass(frozen=True)
class MemberFigures:
    total: int
    new: int


@dataclass(frozen=True)
class PurchaseFigures:
    count: int
    buyers: int
    revenue_minor: int


@dataclass(frozen=True)
class PointFigures:
    issued: int
    redeemed: int
    expired: int
    outstanding: int
    from_actions: int = 0
    from_surprises: int = 0


@dataclass(frozen=True)
class CommissionFigures:
    outstanding_minor: int


@dataclass(frozen=True)
class StoredValueFigures:
    outstanding_principal_minor: int
    outstanding_bonus_minor: int
    topped_up_minor: int
    bonus_given_minor: int
    paid_minor: int
    refunded_minor: int
    withdrawn_minor: int
    bonus_forfeited_minor: int


@dataclass(frozen=True)
class BundleFigures:
    outstanding_uses: int
    sold_uses: int
    used: int
    refunded_uses: int


@dataclass(frozen=True)
class Metrics:
    members: MemberFigures
    purchases: PurchaseFigures
    repeat_purchase_rate_bps: int
    referred_revenue_share_bps: int
    points: PointFigures
    commission: CommissionFigures
    by_day: list[Day]
    time_zone: str
    stored_value: StoredValueFigures | None = None
    bundles: BundleFigures | None = None


def share_bps(part: int, whole: int) -> int:
    """``part / whole`` in basis points, rounded down, within 0–10,000; 0 when ``whole`` is not positive."""
    if whole <= 0:
        return 0
    return min(BPS, max(0, part * BPS // whole))


def metrics_of(period: Period, days: Mapping[str, Mapping[str, int]], through_end: Totals,
               buyers: Mapping[str, int], first_time: set[str], time_zone: str) -> Metrics:
    """The period's metrics from its days' counters, the counters of every day up to its end, the purchases each
    buyer made in it, and which of them made their first purchase ever in it."""
    period_totals = Totals()
    for counts in days.values():
        period_totals = period_totals.plus(counts)
    repeat = sum(1 for member, count in buyers.items() if count > 1 or member not in first_time)
    return Metrics(
        members=MemberFigures(total=through_end[NEW_MEMBERS], new=period_totals[NEW_MEMBERS]),
        purchases=PurchaseFigures(count=period_totals[PURCHASES], buyers=len(buyers),
                                  revenue_minor=period_totals[REVENUE]),
        repeat_purchase_rate_bps=share_bps(repeat, len(buyers)),
        referred_revenue_share_bps=share_bps(period_totals[REFERRED_REVENUE], period_totals[REVENUE]),
        points=PointFigures(issued=period_totals[POINTS_ISSUED], redeemed=period_totals[POINTS_REDEEMED],
                            expired=period_totals[POINTS_EXPIRED], from_actions=period_totals[POINTS_ACTIONS],
                            from_surprises=period_totals[POINTS_SURPRISES],
                            outstanding=through_end[POINTS_ISSUED] - through_end[POINTS_REDEEMED]
                            - through_end[POINTS_EXPIRED]),
        commission=CommissionFigures(outstanding_minor=through_end[COMMISSION_OWED]),
        stored_value=StoredValueFigures(
            outstanding_principal_minor=through_end[SV_PRINCIPAL], outstanding_bonus_minor=through_end[SV_BONUS],
            topped_up_minor=period_totals[SV_TOPPED_UP], bonus_given_minor=period_totals[SV_BONUS_GIVEN],
            paid_minor=period_totals[SV_PAID], refunded_minor=period_totals[SV_REFUNDED],
            withdrawn_minor=period_totals[SV_WITHDRAWN], bonus_forfeited_minor=period_totals[SV_FORFEITED]),
        bundles=BundleFigures(outstanding_uses=through_end[BUNDLE_USES], sold_uses=period_totals[BUNDLE_SOLD],
                              used=period_totals[BUNDLE_USED], refunded_uses=period_totals[BUNDLE_REFUNDED]),
        by_day=[Day(d, int(days.get(d, {}).get(PURCHASES, 0)), int(days.get(d, {}).get(REVENUE, 0)),
                    int(days.get(d, {}).get(NEW_MEMBERS, 0))) for d in period.days],
        time_zone=time_zone,
    )


def today_in(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()
