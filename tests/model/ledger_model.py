"""An independent, deliberately simple model of the ledger, written from the contract (API.md) and
docs/ledger.md with plain arithmetic. It imports nothing from ``loyalty``: if the service and the
model disagree, one of them misreads the rules, and the state machine says which step showed it.

Per member the model keeps what the stored account holds (``available``, the pending ``lots`` by the
instant they become available, ``lifetime_earned``) and the entries it expects, field by field. What
a member *sees* adds the lots whose time has come to ``available``; the next write for that member
records the move as a ``release`` pair. Every method returns the expected answer body and changes
the model; the state machine calls it only after the service said yes.

A referrer's credits (and their reversals) are queued by the purchase (refund) and posted by the poster,
which the local server runs after every request. While the state machine holds the poster, they wait in
the member's ``queue`` (shown as ``queued``, not in the balances); when it lets go, each member's queue is
posted as one batch: lines that agree on everything an entry shows but the source become one entry of
source ``batch`` listing each event's ``parts`` (the batch's id is the stream's: the model writes ``*``).

A partner's chain is a holder like a member's (``partner#<id>``, asset ``commission``): a member bound to the
partner at sign-up earns it ``floor(amount × bps / 10000)`` on each purchase that occurs within the attribution
window, queued and held like a referrer's points and reversed pro rata the same way; payouts take from available.

Screening (docs/screening.md), from its rules, not its code: a sign-up's device is its only signal here (every
email is different, no phone, no card). At sign-up the model scores the credits the member's purchases will make,
against the members signed up before it: per level, the beneficiary on the same device (``same_device`` 60) or an
ancestor above it, within the ten a path keeps (``ring`` 60); for the first level, and for the partner, the
beneficiary's other referees on the device (``cluster`` 20 each, at most 60) and the sign-ups under the code in
that hour (``burst`` 30 from 10, 60 from 30). A credit scoring 60 or more is held: queued into its review's lot
(pending, never freed by time) until the review is decided: approved, the lot moves to the hold's usual lot (or
available, if the hold has ended); rejected, it is reversed. What the queue still delivers for a decided review
follows the decision: an approved credit or reversal is posted as if never held; a rejected credit is posted and
reversed by the review in the same write; a rejected one's reversal is dropped. A review left open 14 days is
approved at the next hourly slot after.

Bundle cards (docs/wallet.md, "Bundle cards"): a sale is the purchase of the product's price (now), and then one
more line on the buyer's chain, ``bundle_sale`` of the uses on asset ``bundle:<card_id>`` (its id: ``bc_`` and the
first 20 hex digits of SHA-256 of ``bundle-sale/<sale_id>``); a use is ``bundle_use`` -1 while something is left
and before ``expires_at`` (sale + valid_days × 24 h); a refund takes back every use left (``refund``), refunding
``floor(price × left / uses)`` of the sale's purchase exactly as a purchase refund of that amount. Each write
releases the buyer's matured points first, as every write for a holder does.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

RATE_DENOMINATOR = 10_000  # rates are in basis points
MINOR_PER_UNIT = 100  # CNY has two decimals
MAX_LEVELS = 10  # the ancestors a member's path keeps
SAME_DEVICE = RING = 60
CLUSTER_EACH, CLUSTER_MOST = 20, 60
BURSTS = ((30, 60), (10, 30))  # (sign-ups under a code in an hour, weight), the largest first
HELD_FROM = 60
REVIEW_DAYS = 14
APPROVED, REJECTED = "approved", "rejected"


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Program:
    version: int
    points_per_currency_unit: int
    referral_rates_bps: list[int]
    hold_days: int
    currency: str = "CNY"
    # Calendar multipliers on a day of the month: (name, day_of_month, bps); days are Shanghai's (UTC+8)
    multipliers: list[tuple[str, int, int]] = field(default_factory=list)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name: points, per_day, per_month, lifetime
    surprise: dict[str, int] | None = None  # surprises (docs/earning-surprise.md): None, off
    expiry: tuple[int, datetime] | None = None  # expiry (docs/earning-expiry.md): months, and since when

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "points_per_currency_unit": self.points_per_currency_unit,
                "referral_rates_bps": list(self.referral_rates_bps), "hold_days": self.hold_days,
                "currency": self.currency, "compliance_profile": "default",
                "timezone": "Asia/Shanghai", "actions": {k: dict(v) for k, v in self.actions.items()},
                "multipliers": [{"name": name, "bps": bps, "from": None, "to": None, "day_of_month": day}
                                for name, day, bps in self.multipliers],
                **({"surprise": dict(self.surprise)} if self.surprise else {}),
                **({"expiry": {"months": self.expiry[0], "since": rfc3339(self.expiry[1])}} if self.expiry else {})}

    def expires_at(self, arrival: datetime) -> datetime | None:
        """When points that became available at ``arrival`` expire: the end of the Shanghai day ``months`` later
        (calendar months, a short month's last day), if they arrived after the rule's ``since``."""
        if self.expiry is None or arrival <= self.expiry[1]:
            return None
        local = (arrival + timedelta(hours=8)).date()
        month = local.month - 1 + self.expiry[0]
        year, month = local.year + month // 12, month % 12 + 1
        last = local.replace(year=year, month=month, day=min(local.day, calendar.monthrange(year, month)[1]))
        return datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1) - timedelta(hours=8)

    def multiplier(self, now: datetime) -> tuple[str, int] | None:
        """The highest multiplier of the local day (first of equals), if it raises the base."""
        day = (now + timedelta(hours=8)).day
        best = None
        for name, on, bps in self.multipliers:
            if on == day and (best is None or bps > best[1]):
                best = (name, bps)
        return best if best is not None and best[1] > RATE_DENOMINATOR else None


DEFAULT = Program(1, 1, [1000, 500], 7)


@dataclass(frozen=True)
class Binding:
    """A member's partner: bound at sign-up, with the partner's terms then."""

    partner: str  # the partner's chain: partner#<partner_id>
    bound_at: datetime
    commission_bps: int
    attribution_days: int

    def earns(self, occurred: datetime) -> bool:
        return self.bound_at <= occurred < self.bound_at + timedelta(days=self.attribution_days)


@dataclass
class Member:
    member_id: str
    referrer: str | None
    code: str
    asset: str = "points"  # a partner's chain: commission
    binding: Binding | None = None
    available: int = 0  # as stored: matured lots are not in it until a release is written
    lots: dict[datetime, int] = field(default_factory=dict)
    lifetime_earned: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)  # expected, oldest first, without hashes
    queue: list[Queued] = field(default_factory=list)  # what the poster has not posted yet, in commit order
    device: str | None = None  # the device it signed up on
    tag: str = ""  # the holder whose referee it is: its referrer, the partner's chain, or none
    verdicts: dict[str, dict[str, int]] = field(default_factory=dict)  # "1", "2", …, "partner": the signals found
    review_lots: dict[str, int] = field(default_factory=dict)  # review id → what its lot holds
    settled: dict[str, str] = field(default_factory=dict)  # review id → approved or rejected
    # Stored value (docs/wallet.md), kept apart from points on the same chain.
    principal: int = 0
    bonus: int = 0
    # Expiry (docs/earning-expiry.md): available points by the instant they expire; undated ones are the rest. And
    # the rule now in force, which dates what a read finds matured.
    dated: dict[datetime, int] = field(default_factory=dict)
    expires_at: Callable[[datetime], datetime | None] | None = field(default=None, repr=False, compare=False)

    def stored_value(self) -> dict[str, Any] | None:
        """What a member read shows of stored value: nothing until the member's first stored-value entry."""
        if not any(e["asset"] == "stored_value" for e in self.entries):
            return None
        return {"principal_minor": self.principal, "bonus_minor": self.bonus, "currency": "CNY"}

    @property
    def from_referrals(self) -> int:
        """What referrals earned it: its entries of a level of the tree (credits, their reversals, rejections)."""
        return sum(e["amount"] for e in self.entries if e["level"] is not None and e["level"] >= 1
                   and e["asset"] == self.asset)

    def matured(self, now: datetime) -> int:
        return sum(points for at, points in self.lots.items() if at <= now)

    def seen(self, now: datetime, *, queued: bool = True) -> dict[str, Any]:
        """The balances GET /v1/members/{id} shows at ``now`` (a redemption's answer shows them without ``queued``):
        matured lots count as available, dated by the rule; what has expired is gone."""
        matured = self.matured(now)
        available, dated = self.available + matured, dict(self.dated)
        for at, points in self.lots.items():
            ends = self.expires_at(at) if self.expires_at is not None and at <= now else None
            if ends is not None:
                dated[ends] = dated.get(ends, 0) + points
        dated = settled(available, dated)
        available -= sum(dated.pop(at) for at in sorted(dated) if at <= now)
        shown: dict[str, Any] = {"available": available,
                                 "pending": sum(self.lots.values()) + sum(self.review_lots.values()) - matured,
                                 "lifetime_earned": self.lifetime_earned}
        if self.asset == "points":
            shown["expiring"] = [{"points": dated[at], "on": (at - timedelta(hours=16)).date().isoformat()}
                                 for at in sorted(dated)]  # the Shanghai day whose end it is
        return {**shown, "queued": sum(q.amount for q in self.queue)} if queued else shown


def settled(available: int, dated: dict[datetime, int]) -> dict[datetime, int]:
    """Dated lots never hold more than the bucket: what is missing comes out of the soonest to expire (spending
    takes the undated, older points first, then the oldest dated)."""
    excess = sum(dated.values()) - max(available, 0)
    kept = {}
    for at in sorted(dated):
        taken = min(dated[at], max(excess, 0))
        excess -= taken
        if dated[at] - taken:
            kept[at] = dated[at] - taken
    return kept


@dataclass(frozen=True)
class Queued:
    """A referrer's credit or reversal (or a partner's commission, or its reversal) waiting for the poster."""

    amount: int
    kind: str
    source: tuple[str, str]
    level: int | None
    rule_version: int
    available_at: datetime | None  # the lot it goes to or comes out of (a held credit: its hold's usual end)
    review: str | None = None  # held for review: the lot is the review's
    rule: str | None = None  # the earning rule that made it (a surprise's: ``surprise``)


@dataclass(frozen=True)
class Credit:
    member_id: str
    level: int  # -1: a partner's commission
    points: int
    available_at: datetime | None  # None: credited straight to available (a hold of 0 days)
    rule_version: int
    review: str | None = None  # held for review

    @property
    def commission(self) -> bool:
        return self.level < 0


@dataclass
class Purchase:
    body: dict[str, Any]  # the request
    answer: dict[str, Any]
    credits: list[Credit]
    refunded: int = 0
    stored_value: tuple[int, int] | None = None  # (principal, bonus) it paid from stored value
    surprise: Queued | None = None  # its paid surprise's line (a full refund reverses it)


@dataclass
class Recorded:
    body: dict[str, Any]
    answer: dict[str, Any]


@dataclass
class Review:
    review_id: str
    holder: str
    buyer: str
    order_id: str
    amount: int
    level: int | None  # None: a partner's commission
    kind: str
    available_at: datetime | None
    rule_version: int
    signals: dict[str, int]
    created_at: datetime
    status: str = "open"

    @property
    def deadline(self) -> datetime:
        """The hourly slot that approves it if nobody has: the first strictly after 14 days (docs/screening.md)."""
        return (self.created_at + timedelta(days=REVIEW_DAYS)).replace(minute=0, second=0) + timedelta(hours=1)


def review_id_of(order_id: str, holder: str) -> str:
    return "rv_" + hashlib.sha256(f"{order_id}\x00{holder}".encode()).hexdigest()[:24]


class _EntryFields(TypedDict):
    """``Model._append``'s keyword arguments, as the entries of a credit and of its refunds gather them."""

    amount: int
    kind: str
    source: tuple[str, str]
    level: int
    rule_version: int


class _CreditFields(_EntryFields):
    available_at: datetime | None


class Model:
    def __init__(self) -> None:
        self.members: dict[str, Member] = {}
        self.program = DEFAULT
        self.purchases: dict[str, Purchase] = {}
        self.refunds: dict[tuple[str, str], Recorded] = {}
        self.redemptions: dict[tuple[str, str], Recorded] = {}
        self.adjustments: dict[str, Recorded] = {}
        self.payouts: dict[tuple[str, str], Recorded] = {}
        self.poster_held = False
        self.reviews: dict[str, Review] = {}
        self.sign_ups: dict[tuple[str, datetime], int] = {}  # (referrer or partner, hour) → sign-ups under its code
        self.products: dict[str, dict[str, Any]] = {}  # bundle products: product_id → terms
        self.cards: dict[str, Card] = {}  # bundle cards sold, by card id
        self.actions = ActionsModel()  # actions and check-ins (docs/earning-actions.md)
        self.surprise_master: bytes = b""  # surprises: the master the days' secrets derive from (read from the
        self.surprise_paid: dict[str, int] = {}  # emulator's secret by the test); the points paid, by local day
        self.tiers = TiersModel()  # tiers and statuses (docs/earning-tiers.md)

    def people(self) -> list[str]:
        """The members (not partners' chains)."""
        return [m for m, member in self.members.items() if member.asset == "points"]

    def entry_count(self) -> int:
        return sum(len(m.entries) for m in self.members.values())

    # --- the entries a write appends ------------------------------------------------------------

    def _append(self, member: Member, now: datetime, *, amount: int, bucket: str, kind: str, source: tuple[str, str],
                level: int | None = None, rule_version: int | None = None, available_at: datetime | None = None,
                suffix: str = "", parts: list[list[Any]] | None = None, review: str | None = None,
                asset: str | None = None, rule: str | None = None,
                expires: list[list[Any]] | None = None) -> dict[str, Any]:
        """An entry of the holder's own asset, or of ``asset`` (a bundle card's, stored value's: not in the
        points balances)."""
        if asset is not None and asset != "stored_value":  # stored value's entries are named by bucket below
            entry = {"entry_id": f"{source[0]}/{source[1]}/{member.member_id}/{asset}", "member_id": member.member_id,
                     "seq": len(member.entries) + 1, "asset": asset, "amount": amount, "bucket": bucket,
                     "kind": kind, "level": None, "source": {"type": source[0], "id": source[1]},
                     "rule_version": None, "created_at": rfc3339(now), "available_at": None}
            member.entries.append(entry)
            return entry
        asset = asset or member.asset
        entry = {
            # An asset other than points names itself in the id (docs/ledger.md), before the bucket's suffix.
            "entry_id": f"{source[0]}/{source[1]}/{member.member_id}"
                        f"{'' if asset == 'points' else '/' + asset}{suffix}",
            "member_id": member.member_id,
            "seq": len(member.entries) + 1, "asset": asset, "amount": amount, "bucket": bucket, "kind": kind,
            "level": level, "source": {"type": source[0], "id": source[1]}, "rule_version": rule_version,
            "created_at": rfc3339(now), "available_at": rfc3339(available_at) if available_at else None,
        }
        if parts is not None:
            entry["parts"] = parts
        if review is not None:
            entry["review"] = review
        if rule is not None:
            entry["rule"] = rule
        if asset == "points" and bucket == "available":
            self._date(member, entry, expires, now)
        member.entries.append(entry)
        if asset == "stored_value":
            member.principal += amount if bucket == "principal" else 0
            member.bonus += amount if bucket == "bonus" else 0
            assert member.principal >= 0 and member.bonus >= 0, "the model took stored value below zero"
            return entry
        if bucket == "available":
            member.available += amount
            if asset == "points":
                member.dated = settled(member.available, member.dated)
        if kind not in ("redemption", "release", "payout", "expiry"):
            member.lifetime_earned += amount
        return entry

    def _date(self, member: Member, entry: dict[str, Any], expires: list[list[Any]] | None, now: datetime) -> None:
        """The dates of points arriving in available: a release's, by its lots (``expires``); any other credit's,
        from now. An expiry names the lots it ends (taken off already)."""
        if entry["amount"] > 0 and entry["kind"] not in ("release", "expiry"):
            ends = self.program.expires_at(now)
            expires = [[rfc3339(ends), entry["amount"]]] if ends is not None else None
        if expires is None:
            return
        entry["expires"] = expires
        if entry["kind"] != "expiry":
            for at, points in expires:
                ends = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                member.dated[ends] = member.dated.get(ends, 0) + points

    def _release(self, member: Member, now: datetime) -> int:
        """Before a write for a member, its matured lots move to available as one pair of entries (dated by the
        expiry rule from each lot's end), then what has expired is recorded as one entry."""
        matured = {at: member.lots.pop(at) for at in sorted(at for at in member.lots if at <= now)}
        points = sum(matured.values())
        if points:
            # Named by the latest hold the pair ends (docs/ledger.md): later lots always end later.
            last = max(matured)
            source = ("release", rfc3339(last))
            dated: dict[datetime, int] = {}
            for at, amount in matured.items():
                ends = self.program.expires_at(at) if member.asset == "points" else None
                if ends is not None and amount > 0:
                    dated[ends] = dated.get(ends, 0) + amount
            self._append(member, now, amount=-points, bucket="pending", kind="release", source=source,
                         available_at=last, suffix="/pending")
            self._append(member, now, amount=points, bucket="available", kind="release", source=source,
                         available_at=last, suffix="/available",
                         expires=[[rfc3339(at), dated[at]] for at in sorted(dated)] or None)
        ended = sorted(at for at in member.dated if at <= now)
        if ended:
            expired: list[list[Any]] = [[rfc3339(at), member.dated.pop(at)] for at in ended]
            self._append(member, now, amount=-sum(int(p) for _, p in expired), bucket="available", kind="expiry",
                         source=("expiry", rfc3339(ended[-1])), expires=expired)
        return points

    def publish_expiry(self, months: int | None, now: datetime) -> dict[str, Any]:
        """A new version with this expiry rule (None or 0: off); the same months keep their ``since``, other months
        count from a minute after now."""
        if not months:
            rule = None
        elif self.program.expiry is not None and self.program.expiry[0] == months:
            rule = self.program.expiry
        else:
            rule = (months, now + timedelta(seconds=60))
        self.program = replace(self.program, version=self.program.version + 1, expiry=rule)
        return self.program.body()

    def _to_lot(self, member: Member, at: datetime, points: int) -> None:
        member.lots[at] = member.lots.get(at, 0) + points
        assert member.lots[at] >= 0, "the model took a lot below zero"
        if member.lots[at] == 0:
            del member.lots[at]

    # --- members and the program ----------------------------------------------------------------

    def sign_up(self, member_id: str, referrer: str | None, code: str, now: datetime, binding: Binding | None = None,
                device: str | None = None) -> None:
        tag = referrer or (binding.partner if binding is not None else "")
        member = Member(member_id, referrer, code, binding=binding, device=device, tag=tag,
                        expires_at=lambda at: self.program.expires_at(at))
        hour = (tag, now.replace(minute=0, second=0, microsecond=0))  # sign-ups are counted per code and hour
        self.sign_ups[hour] = self.sign_ups.get(hour, 0) + 1
        sharing = {m.member_id: m.tag for m in self.members.values() if device is not None and m.device == device}
        self.members[member_id] = member
        above = self.ancestors(member_id)[:MAX_LEVELS]
        beneficiaries = [(str(level), b, above[level:]) for level, b in enumerate(above, start=1)]
        if binding is not None:
            beneficiaries.append(("partner", binding.partner, []))
        for key, beneficiary, higher in beneficiaries:
            found = {}
            if beneficiary in sharing:
                found["same_device"] = SAME_DEVICE
            if any(a in sharing for a in higher):
                found["ring"] = RING
            if key in ("1", "partner"):
                siblings = sum(1 for tagged in sharing.values() if tagged == beneficiary)
                if siblings:
                    found["cluster"] = min(CLUSTER_MOST, CLUSTER_EACH * siblings)
                burst = next((weight for least, weight in BURSTS if self.sign_ups.get(hour, 0) >= least), 0)
                if burst:
                    found["burst"] = burst
            member.verdicts[key] = found

    def held(self, buyer: str, credit: Credit) -> dict[str, int] | None:
        """The signals of a credit screening holds (None: not held)."""
        found = self.members[buyer].verdicts.get("partner" if credit.commission else str(credit.level), {})
        return found if sum(found.values()) >= HELD_FROM else None

    def add_partner(self, partner_id: str) -> str:
        holder = f"partner#{partner_id}"
        self.members[holder] = Member(holder, None, "", asset="commission")
        return holder

    def ancestors(self, member_id: str) -> list[str]:
        found, up = [], self.members[member_id].referrer
        while up is not None:
            found.append(up)
            up = self.members[up].referrer
        return found

    def publish(self, points_per_currency_unit: int, rates: list[int], hold_days: int,
                multipliers: list[tuple[str, int, int]] | None = None) -> dict[str, Any]:
        kept = self.program.multipliers if multipliers is None else multipliers  # a body without them keeps them
        self.program = Program(self.program.version + 1, points_per_currency_unit, list(rates), hold_days,
                               multipliers=list(kept), actions=self.program.actions,
                               surprise=self.program.surprise, expiry=self.program.expiry)  # PUT keeps the rest
        return self.program.body()

    # --- purchases and refunds ------------------------------------------------------------------

    def credits(self, buyer: str, amount_minor: int, now: datetime, occurred: datetime | None = None,
                multiplier_bps: int | None = None) -> list[Credit]:
        rules = self.program
        base = amount_minor // MINOR_PER_UNIT * rules.points_per_currency_unit
        # Holds end on the hour (the product's documented rule, docs/ledger.md).
        at = None
        if rules.hold_days > 0:
            at = (now + timedelta(days=rules.hold_days)).replace(minute=0, second=0, microsecond=0)
        # the buyer's own points only (the highest of tier, status and calendar); the tree earns from the base
        planned = [(buyer, 0, base * multiplier_bps // RATE_DENOMINATOR if multiplier_bps else base)]
        for level, ancestor in enumerate(self.ancestors(buyer), start=1):
            if level > len(rules.referral_rates_bps):
                break
            planned.append((ancestor, level, base * rules.referral_rates_bps[level - 1] // RATE_DENOMINATOR))
        binding = self.members[buyer].binding
        if binding is not None and binding.earns(occurred or now):
            planned.append((binding.partner, -1, amount_minor * binding.commission_bps // RATE_DENOMINATOR))
        return [Credit(m, level, points, at, rules.version) for m, level, points in planned if points > 0]

    def purchase(self, body: dict[str, Any], now: datetime, *, draws: bool = True) -> dict[str, Any]:
        occurred = datetime.strptime(body["occurred_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=now.tzinfo)
        credits = []
        applied = self.tiers.purchase(body["order_id"], body["member_id"], self.members[body["member_id"]].referrer,
                                      body["amount_minor"], now)  # tiers and statuses
        rule = None if applied is None else (  # the rule the buyer's entry names
            "tier:" if any(t["tier"] == applied[0] for t in self.tiers.tiers) else "status:") + applied[0]
        calendar = self.program.multiplier(now)
        if calendar is not None and (applied is None or calendar[1] > applied[1]):  # equals: the tier's, the status's
            applied, rule = calendar, f"calendar:{calendar[0]}"
        for c in self.credits(body["member_id"], body["amount_minor"], now, occurred, applied[1] if applied else None):
            signals = self.held(body["member_id"], c) if c.level != 0 else None  # the buyer's own: never held
            if signals is not None:
                review_id = review_id_of(body["order_id"], c.member_id)
                self.reviews[review_id] = Review(
                    review_id, c.member_id, body["member_id"], body["order_id"], c.points,
                    None if c.commission else c.level, "commission" if c.commission else "referral", c.available_at,
                    c.rule_version, signals, now)
                c = replace(c, review=review_id)
            credits.append(c)
        shown: list[dict[str, Any]] = [{"member_id": c.member_id, "level": c.level, "points": c.points,
                  "bucket": "pending" if c.available_at or c.review else "available",
                  "available_at": rfc3339(c.available_at) if c.available_at else None,
                  "status": "posted" if c.level == 0 else "queued",
                  **({"review_id": c.review} if c.review else {})} for c in credits]
        commission = [{"partner_id": s["member_id"].removeprefix("partner#"), "amount_minor": s["points"],
                       **{k: s[k] for k in ("bucket", "available_at", "status", "review_id") if k in s}}
                      for s in shown if s["level"] < 0]
        answer = {
            "order_id": body["order_id"], "member_id": body["member_id"], "amount_minor": body["amount_minor"],
            "currency": body["currency"], "occurred_at": body["occurred_at"], "rule_version": self.program.version,
            "credits": [s for s in shown if s["level"] >= 0], "commission": commission[0] if commission else None,
        }
        if applied is not None and any(c.level == 0 for c in credits):  # a buyer's credit of 0 points is none:
            answer["multiplier"] = {"name": applied[0], "bps": applied[1]}  # nothing was multiplied
        for c in credits:
            kind = "commission" if c.commission else "purchase" if c.level == 0 else "referral"
            line = Queued(c.points, kind, ("purchase", body["order_id"]), None if c.commission else c.level,
                          c.rule_version, c.available_at, c.review, rule if c.level == 0 else None)
            self._post_or_queue(self.members[c.member_id], line, now, own=c.level == 0)
        paid = None
        if body.get("stored_value_minor") is not None:  # in the same write as the buyer's own credit
            paid = self.pay(self.members[body["member_id"]], body["order_id"], body["stored_value_minor"], now)
            answer["stored_value"] = {"principal_minor": paid[0], "bonus_minor": paid[1]}
        self.purchases[body["order_id"]] = Purchase(body, answer, credits, stored_value=paid)
        if draws:  # (a bundle sale draws after its card's line: ``sell``)
            self.draw_surprise(body["order_id"], now)
        return answer

    def refund(self, order_id: str, refund_id: str, amount_minor: int, now: datetime) -> dict[str, Any]:
        """After refunds totalling R of a purchase of A, credit c is reversed by floor(c * R / A) in all."""
        purchase = self.purchases[order_id]
        total, before = purchase.body["amount_minor"], purchase.refunded
        after = before + amount_minor
        reversals, commission = [], None
        for c in purchase.credits:
            points = c.points * after // total - c.points * before // total
            if points == 0:
                continue
            if c.commission:
                commission = {"partner_id": c.member_id.removeprefix("partner#"), "amount_minor": points,
                              "status": "queued"}
            else:
                reversals.append({"member_id": c.member_id, "level": c.level, "points": points,
                                  "status": "posted" if c.member_id == purchase.body["member_id"] else "queued"})
            line = Queued(-points, "refund", ("refund", f"{order_id}/{refund_id}"),
                          None if c.commission else c.level, c.rule_version, c.available_at, c.review)
            self._post_or_queue(self.members[c.member_id], line, now, own=c.member_id == purchase.body["member_id"])
        purchase.refunded = after
        self.tiers.refund(order_id, purchase.body["member_id"], amount_minor, after >= total)  # tiers and statuses
        answer = {"refund_id": refund_id, "order_id": order_id, "amount_minor": amount_minor, "reversals": reversals,
                  "commission_reversal": commission}
        if purchase.stored_value is not None:  # each part: floor(part × R / A) in all, in the refund's own write
            back = [part * after // total - part * before // total for part in purchase.stored_value]
            buyer = self.members[purchase.body["member_id"]]
            self._stored_value_lines(buyer, ("refund", f"{order_id}/{refund_id}"), "refund", back[0], back[1], now)
            answer["stored_value"] = {"principal_minor": back[0], "bonus_minor": back[1]}
        if purchase.surprise is not None and after == total:  # a full refund takes the surprise back
            self.take_surprise_back(purchase, refund_id, answer, now)
        self.refunds[(order_id, refund_id)] = Recorded({"refund_id": refund_id, "amount_minor": amount_minor}, answer)
        return answer

    # --- posting: now (the buyer's own, or when the poster is not held) or as a batch later ---------

    def _post_or_queue(self, member: Member, line: Queued, now: datetime, *, own: bool) -> None:
        if own:
            self._release(member, now)
            self._post_group(member, [line], now)
        elif not self.poster_held:
            member.queue.append(line)
            self._post_queue(member, now)
        else:
            member.queue.append(line)

    def release_the_poster(self, now: datetime) -> None:
        """The poster posts each member's queue as one batch: matured lots are released first, then one entry
        per group of lines that agree on kind, bucket, lot, level, rule version and sign: the groups that add,
        then those that take away, each in the order they first appear."""
        self.poster_held = False
        for member in self.members.values():
            if member.queue:
                self._post_queue(member, now)

    def _post_queue(self, member: Member, now: datetime) -> None:
        """One batch: the member's whole queue, each line as the decisions of its review send it (a batch whose
        lines all vanish still releases the matured lots, as every write does)."""
        self._release(member, now)
        groups: dict[tuple[Any, ...], list[Queued]] = {}
        for line in (q for queued in member.queue for q in self._as_posted(member, queued)):
            groups.setdefault((line.amount < 0, line.kind, self._lot(line, now), line.level, line.rule_version,
                               line.review, line.source[0] == "review"), []).append(line)
        for adds_first in (False, True):  # what adds, then what takes away
            for key, group in groups.items():
                if key[0] == adds_first:
                    self._post_group(member, group, now)
        member.queue = []

    @staticmethod
    def _as_posted(member: Member, line: Queued) -> list[Queued]:
        """A line of a decided review: approved, posted as if never held; rejected, a credit is posted and reversed
        by the review, a reversal is dropped."""
        if line.review is None or line.review not in member.settled:
            return [line]
        if member.settled[line.review] == APPROVED:
            return [replace(line, review=None)]
        return [] if line.amount < 0 else [line, replace(line, amount=-line.amount, source=("review", line.review))]

    @staticmethod
    def _lot(line: Queued, now: datetime) -> datetime | str | None:
        """The lot a line is posted to or out of when it is posted: a held credit's is its review's; a reversal
        of a lot already free comes out of available."""
        if line.review is not None:
            return line.review
        if line.amount < 0 and line.available_at is not None and line.available_at <= now:
            return None
        return line.available_at

    def _post_group(self, member: Member, group: list[Queued], now: datetime) -> None:
        first, lot = group[0], self._lot(group[0], now)
        amount = sum(line.amount for line in group)
        for line in group:
            if isinstance(lot, str):
                member.review_lots[lot] = member.review_lots.get(lot, 0) + line.amount
                assert member.review_lots[lot] >= 0, "the model took a review's lot below zero"
                if not member.review_lots[lot]:
                    del member.review_lots[lot]
            elif lot is not None:
                self._to_lot(member, lot, line.amount)
        several = len(group) > 1
        self._append(member, now, amount=amount, bucket="pending" if lot else "available", kind=first.kind,
                     source=("batch", "*") if several else first.source, level=first.level,
                     rule_version=first.rule_version,
                     available_at=first.available_at if isinstance(lot, str) else lot,
                     parts=[[f"{q.source[0]}/{q.source[1]}", q.amount] for q in group] if several else None,
                     review=first.review, rule=first.rule)

    # --- reviews ----------------------------------------------------------------------------------

    def open_reviews(self) -> list[Review]:
        """Oldest first (and by id), as GET /v1/reviews?status=open lists them."""
        return sorted((r for r in self.reviews.values() if r.status == "open"),
                      key=lambda r: (r.created_at, r.review_id))

    def decide(self, review_id: str, decision: str, now: datetime) -> None:
        """One write on the holder's chain (matured lots released first, as every write): what the review's lot
        holds goes to the hold's usual lot, or available if the hold has ended (approved), or is reversed
        (rejected); the account remembers the decision."""
        review = self.reviews[review_id]
        member = self.members[review.holder]
        self._release(member, now)
        held = member.review_lots.pop(review_id, 0)
        source = ("review", review_id)
        if held and decision == REJECTED:
            self._append(member, now, amount=-held, bucket="pending", kind=review.kind, source=source,
                         level=review.level, rule_version=review.rule_version, available_at=review.available_at,
                         review=review_id)
        elif held:
            self._append(member, now, amount=-held, bucket="pending", kind="release", source=source,
                         available_at=review.available_at, suffix="/review", review=review_id)
            if review.available_at is not None and review.available_at > now:
                self._append(member, now, amount=held, bucket="pending", kind="release", source=source,
                             available_at=review.available_at, suffix="/pending")
                self._to_lot(member, review.available_at, held)
            else:
                self._append(member, now, amount=held, bucket="available", kind="release", source=source,
                             suffix="/available")
        member.settled[review_id] = decision
        review.status = decision

    def deadline_approvals(self, slot: datetime) -> list[str]:
        """The reviews the hourly schedule approves at ``slot`` (opened more than 14 days before), oldest first."""
        due = [r.review_id for r in self.open_reviews() if r.created_at < slot - timedelta(days=REVIEW_DAYS)]
        for review_id in due:
            self.decide(review_id, APPROVED, slot)
        return due

    # --- spending and corrections ---------------------------------------------------------------

    def redeem(self, member_id: str, key: str, body: dict[str, Any], redemption_id: str,
               now: datetime) -> dict[str, Any]:
        member = self.members[member_id]
        self._release(member, now)
        self._append(member, now, amount=-body["points"], bucket="available", kind="redemption",
                     source=("redemption", redemption_id))
        answer = {"redemption_id": redemption_id, **body, "balances": {"points": member.seen(now, queued=False)}}
        self.redemptions[(member_id, key)] = Recorded(body, answer)
        return answer

    def adjust(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        member = self.members[body["member_id"]]
        self._release(member, now)
        entry = self._append(member, now, amount=body["points"], bucket="available", kind="adjustment",
                             source=("adjustment", body["adjustment_id"]))
        self.adjustments[body["adjustment_id"]] = Recorded(body, entry)
        return entry

    def payout(self, holder: str, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        partner = self.members[holder]
        partner_id = holder.removeprefix("partner#")
        self._release(partner, now)
        self._append(partner, now, amount=-body["amount_minor"], bucket="available", kind="payout",
                     source=("payout", f"{partner_id}/{body['payout_id']}"))
        answer = {"payout_id": body["payout_id"], "partner_id": partner_id, "amount_minor": body["amount_minor"],
                  "available_minor": partner.seen(now)["available"]}
        self.payouts[(holder, body["payout_id"])] = Recorded(body, answer)
        return answer

    # --- stored value (docs/wallet.md) ------------------------------------------------------------
    # Tiers and cap: the defaults (5,000.00 → 5 %, 3,000.00 → 3 %, 2,000.00 → 1 %; principal at most 5,000.00).

    TIERS = ((500_000, 500), (300_000, 300), (200_000, 100))
    CAP = 500_000

    def _stored_value_lines(self, member: Member, source: tuple[str, str], kind: str, principal: int, bonus: int,
                            now: datetime) -> None:
        """A line per non-zero part, in one write (matured points lots released first, as every write); the bucket
        names the entry only when both parts move."""
        lines = [(bucket, amount) for bucket, amount in (("principal", principal), ("bonus", bonus)) if amount]
        if not lines:
            return
        self._release(member, now)
        for bucket, amount in lines:
            self._append(member, now, amount=amount, bucket=bucket, kind=kind, source=source, asset="stored_value",
                         suffix=f"/{bucket}" if len(lines) > 1 else "")

    def bonus_of(self, amount: int) -> int:
        bps = next((bps for least, bps in self.TIERS if amount >= least), 0)
        return amount * bps // RATE_DENOMINATOR

    def top_up(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        member = self.members[body["member_id"]]
        bonus = self.bonus_of(body["amount_minor"])
        self._stored_value_lines(member, ("top_up", body["top_up_id"]), "top_up", body["amount_minor"], bonus, now)
        return {"top_up_id": body["top_up_id"], "member_id": member.member_id, "amount_minor": body["amount_minor"],
                "bonus_minor": bonus, "balances": {"points": member.seen(now, queued=False),
                                                   "stored_value": member.stored_value()}}

    def pay(self, member: Member, order_id: str, paid: int, now: datetime) -> tuple[int, int]:
        """The bonus share floor(p × bonus / (principal + bonus)), the rest principal."""
        bonus = paid * member.bonus // (member.principal + member.bonus)
        self._stored_value_lines(member, ("purchase", order_id), "payment", -(paid - bonus), -bonus, now)
        return paid - bonus, bonus

    def withdraw(self, member_id: str, withdrawal_id: str, now: datetime) -> dict[str, Any]:
        member = self.members[member_id]
        principal, bonus = member.principal, member.bonus
        self._stored_value_lines(member, ("withdrawal", f"{member_id}/{withdrawal_id}"), "withdrawal", -principal,
                                 -bonus, now)
        return {"withdrawal_id": withdrawal_id, "principal_minor": principal, "bonus_forfeited_minor": bonus}

    # --- surprises (docs/earning-surprise.md) -------------------------------------------------------------------
    def publish_surprise(self, rule: dict[str, int] | None) -> dict[str, Any]:
        """A new version with this surprise rule (None or a chance of 0: off), the rest kept."""
        self.program = replace(self.program, version=self.program.version + 1,
                               surprise=rule if rule and rule["chance_bps"] > 0 else None)
        return self.program.body()

    def draw_surprise(self, order_id: str, now: datetime) -> None:
        """The contract's draw, recomputed here: the day secret ``HMAC-SHA256(master, "loyalty surprise day " +
        local date)``, then ``h = HMAC-SHA256(secret, order_id)``; paid when the day's budget pays it in full, as
        a ``bonus`` line in the buyer's write, held like the purchase's own points."""
        rule, purchase = self.program.surprise, self.purchases[order_id]
        if rule is None:
            return
        day = now.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
        secret = hmac.new(self.surprise_master, f"loyalty surprise day {day}".encode(), hashlib.sha256).digest()
        h = hmac.new(secret, order_id.encode(), hashlib.sha256).digest()
        if int.from_bytes(h[0:4], "big") % 10000 >= rule["chance_bps"]:
            return
        points = rule["min_points"] + int.from_bytes(h[4:8], "big") % (rule["max_points"] - rule["min_points"] + 1)
        if self.surprise_paid.get(day, 0) + points > rule["daily_budget"]:
            return
        self.surprise_paid[day] = self.surprise_paid.get(day, 0) + points
        if points == 0:  # paid nothing: no line, and the answer names none
            return
        purchase.answer["surprise"] = {"points": points}
        at = (now + timedelta(days=self.program.hold_days)).replace(minute=0, second=0, microsecond=0) \
            if self.program.hold_days > 0 else None
        purchase.surprise = Queued(points, "bonus", ("surprise", order_id), None, self.program.version, at,
                                   rule="surprise")
        member = self.members[purchase.body["member_id"]]
        self._release(member, now)
        self._post_group(member, [purchase.surprise], now)

    def take_surprise_back(self, purchase: Purchase, refund_id: str, answer: dict[str, Any], now: datetime) -> None:
        paid = purchase.surprise
        assert paid is not None
        line = replace(paid, amount=-paid.amount, kind="refund",
                       source=("surprise", f"{purchase.body['order_id']}/refund/{refund_id}"))
        member = self.members[purchase.body["member_id"]]
        self._release(member, now)
        self._post_group(member, [line], now)
        answer["surprise"] = {"points": paid.amount}
    # --- end surprises ------------------------------------------------------------------------------------------

    # --- bundle cards (docs/wallet.md) ----------------------------------------------------------

    def put_product(self, product_id: str, terms: dict[str, Any]) -> None:
        self.products[product_id] = dict(terms)

    def sell(self, sale_id: str, member_id: str, product_id: str, now: datetime) -> dict[str, Any]:
        terms = self.products[product_id]
        self.purchase({"order_id": sale_id, "member_id": member_id, "amount_minor": terms["price_minor"],
                       "currency": "CNY", "occurred_at": rfc3339(now)}, now, draws=False)
        card = Card(card_id_of(sale_id), sale_id, member_id, product_id, terms["name"], terms["uses"],
                    terms["price_minor"], now, now + timedelta(days=terms["valid_days"]), terms["uses"])
        member = self.members[member_id]
        self._release(member, now)  # (done already if the buyer earned points: one write)
        self._append(member, now, amount=card.uses, bucket="available", kind="bundle_sale",
                     source=("purchase", sale_id), asset=card.asset)
        self.draw_surprise(sale_id, now)
        self.cards[card.card_id] = card
        return {"card_id": card.card_id, "product_id": product_id, "remaining": card.uses,
                "expires_at": rfc3339(card.expires_at), "price_minor": card.price_minor}

    def use(self, card_id: str, use_id: str, now: datetime) -> tuple[int, str | None, dict[str, Any] | None]:
        """201 and the answer, or the refusal (nothing changes)."""
        card = self.cards[card_id]
        if now >= card.expires_at:
            return 409, "bundle-expired", None
        if card.remaining < 1:
            return 409, "bundle-used-up", None
        member = self.members[card.member_id]
        self._release(member, now)
        self._append(member, now, amount=-1, bucket="available", kind="bundle_use",
                     source=("bundle_use", f"{card_id}/{use_id}"), asset=card.asset)
        card.remaining -= 1
        return 201, None, {"card_id": card_id, "remaining": card.remaining}

    def refund_card(self, card_id: str, refund_id: str, now: datetime) -> tuple[int, str | None, dict[str, Any] | None]:
        card = self.cards[card_id]
        if card.remaining < 1:
            return 409, "bundle-used-up", None
        left, amount = card.remaining, card.price_minor * card.remaining // card.uses
        self.refund(card.sale_id, refund_id, amount, now)
        member = self.members[card.member_id]
        self._release(member, now)
        self._append(member, now, amount=-left, bucket="available", kind="refund",
                     source=("refund", f"{card.sale_id}/{refund_id}"), asset=card.asset)
        card.remaining = 0
        return 201, None, {"refund_id": refund_id, "uses_refunded": left, "amount_minor": amount}

    def bundles_of(self, member_id: str) -> list[dict[str, Any]]:
        """``Member.balances.bundles``: the cards with uses left (expired ones too), oldest sale first."""
        held = sorted((c for c in self.cards.values() if c.member_id == member_id and c.remaining > 0),
                      key=lambda c: (c.sold_at, c.card_id))
        return [{"card_id": c.card_id, "product_id": c.product_id, "name": c.name, "remaining": c.remaining,
                 "uses": c.uses, "price_minor": c.price_minor, "expires_at": rfc3339(c.expires_at)} for c in held]

    # --- actions (docs/earning-actions.md) -------------------------------------------------------------------------

    def publish_actions(self, actions: dict[str, dict[str, Any]]) -> dict[str, Any]:
        self.program = replace(self.program, version=self.program.version + 1, actions=actions)
        return self.program.body()

    def act(self, member_id: str, action_id: str, action: str, now: datetime,
            check_in: bool = False) -> tuple[int, str | None, dict[str, Any] | None]:
        """An action (a check-in: ``check_in``) at ``now``: (status, slug, answer). A second check-in of a local day
        is 409 whatever the programme; an action it does not define 422; past any cap 409; else counted, and its
        points in ``available`` at once (no entry for an action worth 0)."""
        day = now.astimezone(SHANGHAI).date().isoformat()
        if check_in and (member_id, day) in self.actions.checked_in:
            return 409, "action-capped", None
        rule = self.program.actions.get(action)
        if rule is None:
            return 422, "unknown-action", None
        counts = self.actions.counts.setdefault((member_id, action), {})
        periods = {"per_day": f"day#{day}", "per_month": f"month#{day[:7]}", "lifetime": "lifetime"}
        if any(rule.get(cap) is not None and counts.get(key, 0) >= rule[cap] for cap, key in periods.items()):
            return 409, "action-capped", None
        for key in periods.values():
            counts[key] = counts.get(key, 0) + 1
        if check_in:
            self.actions.checked_in.add((member_id, day))
        entry = None
        if rule["points"] > 0:
            member = self.members[member_id]
            self._release(member, now)
            entry = self._append(member, now, amount=rule["points"], bucket="available", kind="action",
                                 source=("action", action_id), rule_version=self.program.version)
            entry["rule"] = f"action:{action}"
        return 201, None, {"action_id": action_id, "points": rule["points"], "entry": entry}

    def standing(self, member_id: str, now: datetime) -> list[dict[str, Any]]:
        """What GET /v1/members/{id}/actions shows: each action of the programme, by name."""
        day = now.astimezone(SHANGHAI).date().isoformat()
        shown = []
        for action, rule in sorted(self.program.actions.items()):
            counts = self.actions.counts.get((member_id, action), {})
            shown.append({"action": action, "points": rule["points"], "today": counts.get(f"day#{day}", 0),
                          "this_month": counts.get(f"month#{day[:7]}", 0), "lifetime": counts.get("lifetime", 0),
                          "per_day": rule.get("per_day"), "per_month": rule.get("per_month"),
                          "lifetime_cap": rule.get("lifetime")})
        return shown

    # --- end of actions --------------------------------------------------------------------------------------------

    # --- the wallet: coupons and the rewards catalogue (docs/wallet.md) -------------------------------------------

    def redeem_reward(self, member_id: str, key: str, reward: CatalogueReward, redemption_id: str,
                      now: datetime) -> dict[str, Any]:
        """A redemption by ``reward_id``: the catalogue's price spent, as a redemption by points would spend it."""
        member = self.members[member_id]
        self._release(member, now)
        self._append(member, now, amount=-reward.points, bucket="available", kind="redemption",
                     source=("redemption", redemption_id))
        if reward.stock is not None:
            reward.stock -= 1
        answer = {"redemption_id": redemption_id, "points": reward.points, "reward": reward.name,
                  "balances": {"points": member.seen(now, queued=False)}, "reward_id": reward.reward_id}
        self.redemptions[(member_id, key)] = Recorded({"reward_id": reward.reward_id}, answer)
        return answer


@dataclass
class ActionsModel:
    """Actions' counters (docs/earning-actions.md): (member, action) → counter key (``day#…``, ``month#…``,
    ``lifetime``) → count; and the (member, local date) of every check-in."""

    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    checked_in: set[tuple[str, str]] = field(default_factory=set)


SHANGHAI = ZoneInfo("Asia/Shanghai")  # the programme's time zone in the model (the default)


@dataclass
class Card:
    card_id: str
    sale_id: str
    member_id: str
    product_id: str
    name: str
    uses: int
    price_minor: int
    sold_at: datetime
    expires_at: datetime
    remaining: int

    @property
    def asset(self) -> str:
        return f"bundle:{self.card_id}"


def card_id_of(sale_id: str) -> str:
    return "bc_" + hashlib.sha256(f"bundle-sale/{sale_id}".encode()).hexdigest()[:20]
@dataclass
class CatalogueReward:
    reward_id: str
    name: str
    points: int
    stock: int | None


@dataclass
class ModelCoupon:
    """A coupon as the model keeps it: ``used`` is the redemption id that used it (None: not used)."""

    coupon_id: str
    code: str
    member_id: str
    expires_at: datetime
    used: str | None = None
    used_at: datetime | None = None

    def status(self, now: datetime) -> str:
        if self.used is not None:
            return "used"
        return "expired" if self.expires_at <= now else "active"

    def shown(self, template_id: str, now: datetime) -> dict[str, Any]:
        return {"coupon_id": self.coupon_id, "code": self.code, "template_id": template_id, "member_id": self.member_id,
                "status": self.status(now), "expires_at": rfc3339(self.expires_at),
                "used_at": rfc3339(self.used_at) if self.used_at else None}


@dataclass
class CouponsModel:
    """One template (amount off, a minimum spend, a short validity, a per-member limit) and its coupons."""

    template_id: str = "T-10"
    amount_off_minor: int = 1000
    min_spend_minor: int = 3000
    valid_days: int = 1
    per_member_limit: int = 2
    coupons: dict[str, ModelCoupon] = field(default_factory=dict)  # by code
    # redemption id → (code, at, voided, subtotal)
    redemptions: dict[str, tuple[str, datetime, bool, int]] = field(default_factory=dict)

    def held(self, member_id: str, now: datetime) -> int:
        return sum(1 for c in self.coupons.values() if c.member_id == member_id and c.status(now) == "active")

    def redeem(self, code: str, member_id: str, subtotal_minor: int, now: datetime) -> tuple[int, str | None]:
        """The answer a coupon's use gets: (status, slug)."""
        coupon = self.coupons[code]
        if coupon.member_id != member_id or coupon.status(now) == "expired" or subtotal_minor < self.min_spend_minor:
            return 422, "coupon-not-applicable"
        if coupon.used is not None:
            return 409, "coupon-used"
        return 201, None


# --- tiers and statuses (docs/earning-tiers.md) -------------------------------------------------------- begin tiers
# The programme's tiers and statuses and every member's standing, written from the rules (not from the code): spend
# by local month (Asia/Shanghai) net of refunds, the upgrade with the purchase that qualifies, the review 12 months
# after `since` at read time, qualified referrals counted by a referee's first purchase not fully refunded.

TIERS_ZONE = "Asia/Shanghai"


def _local_month(moment: datetime) -> int:
    from zoneinfo import ZoneInfo

    local = moment.astimezone(ZoneInfo(TIERS_ZONE))
    return local.year * 12 + local.month - 1


def _months_on(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    day = moment.day
    while True:
        try:
            return moment.replace(year=index // 12, month=index % 12 + 1, day=day)
        except ValueError:
            day -= 1


@dataclass
class ModelStanding:
    spend: dict[int, int] = field(default_factory=dict)  # local month index → net spend
    tier: str | None = None
    since: datetime | None = None
    review_at: datetime | None = None
    open: int = 0
    counted_by: str | None = None
    qualified: int = 0


@dataclass
class TiersModel:
    tiers: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    standings: dict[str, ModelStanding] = field(default_factory=dict)
    counted: dict[str, int] = field(default_factory=dict)  # order id → the local month its amount counts in

    @property
    def active(self) -> bool:
        return bool(self.tiers or self.statuses)

    def _spend(self, s: ModelStanding, month: int) -> int:
        return sum(v for m, v in s.spend.items() if month - 12 < m <= month)

    def _rank(self, tier: str | None) -> int:
        return next((n for n, t in enumerate(self.tiers, start=1) if t["tier"] == tier), 0)

    def _reached(self, spend: int) -> dict[str, Any] | None:
        return next((t for t in reversed(self.tiers) if spend >= t["min_spend_12m_minor"]), None)

    def _now(self, s: ModelStanding, now: datetime) -> ModelStanding:
        """The standing at ``now``, a review that fell due applied (not stored: the next write stores it)."""
        out = replace(s, spend=dict(s.spend))
        if out.tier is not None and self._rank(out.tier) == 0:
            out.tier = out.since = out.review_at = None
        if out.tier is None or out.review_at is None or now < out.review_at:
            return out
        due = out.review_at
        while _months_on(due, 12) <= now:
            due = _months_on(due, 12)
        reached = self._reached(self._spend(out, _local_month(due)))
        if reached is None:
            out.tier = out.since = out.review_at = None
        elif reached["tier"] == out.tier:
            out.review_at = _months_on(due, 12)
        else:
            out.tier, out.since, out.review_at = reached["tier"], due, _months_on(due, 12)
        return out

    def purchase(self, order_id: str, buyer: str, referrer: str | None, amount_minor: int,
                 now: datetime) -> tuple[str, int] | None:
        """The multiplier the buyer's own points earn under (name, bps), or None."""
        if not self.active:
            return None
        s = self._now(self.standings.get(buyer, ModelStanding()), now)
        month = _local_month(now)
        s.spend = {m: v for m, v in s.spend.items() if month - m < 13}
        s.spend[month] = s.spend.get(month, 0) + amount_minor
        s.open += 1
        reached = self._reached(self._spend(s, month))
        if reached is not None and self._rank(reached["tier"]) > self._rank(s.tier):
            s.tier, s.since, s.review_at = reached["tier"], now, _months_on(now, 12)
        if self.statuses and referrer is not None and s.counted_by is None:
            s.counted_by = referrer
            self.standings.setdefault(referrer, ModelStanding()).qualified += 1
        self.standings[buyer] = replace(s, qualified=self.standings.get(buyer, ModelStanding()).qualified)
        self.counted[order_id] = month
        found = [(t["tier"], t["points_multiplier_bps"]) for t in self.tiers if t["tier"] == s.tier]
        found += [(st["status"], st["points_multiplier_bps"]) for st in self.statuses
                  if self.standings[buyer].qualified >= st["min_qualified_referrals"]]
        best = max(found, key=lambda f: f[1], default=None)
        return best if best is not None and best[1] > 10_000 else None

    def refund(self, order_id: str, buyer: str, amount_minor: int, fully: bool) -> None:
        if order_id not in self.counted:
            return
        s = self.standings[buyer]
        if self.counted[order_id] in s.spend:
            s.spend[self.counted[order_id]] -= amount_minor
        if fully and s.open > 0:
            s.open -= 1
        if s.open == 0 and s.counted_by is not None:
            self.standings.setdefault(s.counted_by, ModelStanding()).qualified -= 1
            s.counted_by = None

    def shown(self, member_id: str, now: datetime) -> dict[str, Any]:
        """What a member read adds: nothing without tiers or statuses."""
        if not self.active:
            return {}
        s = self._now(self.standings.get(member_id, ModelStanding()), now)
        spend = self._spend(s, _local_month(now))
        held = next((t for t in self.tiers if t["tier"] == s.tier), None)
        above = self.tiers[self._rank(s.tier)] if self._rank(s.tier) < len(self.tiers) else None
        return {"tier": {
            "tier": s.tier, "since": rfc3339(s.since) if s.since else None,
            "review_at": rfc3339(s.review_at) if s.review_at else None,
            "discount_bps": held["discount_bps"] if held else 0,
            "points_multiplier_bps": held["points_multiplier_bps"] if held else 10_000, "spend_12m_minor": spend,
            "next": {"tier": above["tier"], "spend_needed_minor": max(0, above["min_spend_12m_minor"] - spend)}
            if above else None},
            "statuses": [st["status"] for st in self.statuses if s.qualified >= st["min_qualified_referrals"]]}
# --- tiers and statuses ---------------------------------------------------------------------------------- end tiers
