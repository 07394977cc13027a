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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypedDict

RATE_DENOMINATOR = 10_000  # rates are in basis points
MINOR_PER_UNIT = 100  # CNY has two decimals


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Program:
    version: int
    points_per_currency_unit: int
    referral_rates_bps: list[int]
    hold_days: int
    currency: str = "CNY"

    def body(self) -> dict[str, Any]:
        return {"version": self.version, "points_per_currency_unit": self.points_per_currency_unit,
                "referral_rates_bps": list(self.referral_rates_bps), "hold_days": self.hold_days,
                "currency": self.currency, "compliance_profile": "default"}


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

    def matured(self, now: datetime) -> int:
        return sum(points for at, points in self.lots.items() if at <= now)

    def seen(self, now: datetime, *, queued: bool = True) -> dict[str, int]:
        """The balances GET /v1/members/{id} shows at ``now`` (a redemption's answer shows them without ``queued``)."""
        matured = self.matured(now)
        shown = {"available": self.available + matured, "pending": sum(self.lots.values()) - matured,
                 "lifetime_earned": self.lifetime_earned}
        return {**shown, "queued": sum(q.amount for q in self.queue)} if queued else shown


@dataclass(frozen=True)
class Queued:
    """A referrer's credit or reversal (or a partner's commission, or its reversal) waiting for the poster."""

    amount: int
    kind: str
    source: tuple[str, str]
    level: int | None
    rule_version: int
    available_at: datetime | None  # the lot it goes to or comes out of


@dataclass(frozen=True)
class Credit:
    member_id: str
    level: int  # -1: a partner's commission
    points: int
    available_at: datetime | None  # None: credited straight to available (a hold of 0 days)
    rule_version: int

    @property
    def commission(self) -> bool:
        return self.level < 0


@dataclass
class Purchase:
    body: dict[str, Any]  # the request
    answer: dict[str, Any]
    credits: list[Credit]
    refunded: int = 0


@dataclass
class Recorded:
    body: dict[str, Any]
    answer: dict[str, Any]


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

    def people(self) -> list[str]:
        """The members (not partners' chains)."""
        return [m for m, member in self.members.items() if member.asset == "points"]

    def entry_count(self) -> int:
        return sum(len(m.entries) for m in self.members.values())

    # --- the entries a write appends ------------------------------------------------------------

    def _append(self, member: Member, now: datetime, *, amount: int, bucket: str, kind: str, source: tuple[str, str],
                level: int | None = None, rule_version: int | None = None, available_at: datetime | None = None,
                suffix: str = "", parts: list[list[Any]] | None = None) -> dict[str, Any]:
        entry = {
            # An asset other than points names itself in the id (docs/ledger.md), before the bucket's suffix.
            "entry_id": f"{source[0]}/{source[1]}/{member.member_id}"
                        f"{'' if member.asset == 'points' else '/' + member.asset}{suffix}",
            "member_id": member.member_id,
            "seq": len(member.entries) + 1, "asset": member.asset, "amount": amount, "bucket": bucket, "kind": kind,
            "level": level, "source": {"type": source[0], "id": source[1]}, "rule_version": rule_version,
            "created_at": rfc3339(now), "available_at": rfc3339(available_at) if available_at else None,
        }
        if parts is not None:
            entry["parts"] = parts
        member.entries.append(entry)
        if bucket == "available":
            member.available += amount
        if kind not in ("redemption", "release", "payout"):
            member.lifetime_earned += amount
        return entry

    def _release(self, member: Member, now: datetime) -> int:
        """Before a write for a member, its matured lots move to available as one pair of entries."""
        matured = sorted(at for at in member.lots if at <= now)
        points = sum(member.lots.pop(at) for at in matured)
        if points:
            # Named by the latest hold the pair ends (docs/ledger.md): later lots always end later.
            source = ("release", rfc3339(matured[-1]))
            self._append(member, now, amount=-points, bucket="pending", kind="release", source=source,
                         available_at=matured[-1], suffix="/pending")
            self._append(member, now, amount=points, bucket="available", kind="release", source=source,
                         available_at=matured[-1], suffix="/available")
        return points

    def _to_lot(self, member: Member, at: datetime, points: int) -> None:
        member.lots[at] = member.lots.get(at, 0) + points
        assert member.lots[at] >= 0, "the model took a lot below zero"
        if member.lots[at] == 0:
            del member.lots[at]

    # --- members and the program ----------------------------------------------------------------

    def sign_up(self, member_id: str, referrer: str | None, code: str, binding: Binding | None = None) -> None:
        self.members[member_id] = Member(member_id, referrer, code, binding=binding)

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

    def publish(self, points_per_currency_unit: int, rates: list[int], hold_days: int) -> dict[str, Any]:
        self.program = Program(self.program.version + 1, points_per_currency_unit, list(rates), hold_days)
        return self.program.body()

    # --- purchases and refunds ------------------------------------------------------------------

    def credits(self, buyer: str, amount_minor: int, now: datetime, occurred: datetime | None = None) -> list[Credit]:
        rules = self.program
        base = amount_minor // MINOR_PER_UNIT * rules.points_per_currency_unit
        # Holds end on the hour (the product's documented rule, docs/ledger.md).
        at = None
        if rules.hold_days > 0:
            at = (now + timedelta(days=rules.hold_days)).replace(minute=0, second=0, microsecond=0)
        planned = [(buyer, 0, base)]
        for level, ancestor in enumerate(self.ancestors(buyer), start=1):
            if level > len(rules.referral_rates_bps):
                break
            planned.append((ancestor, level, base * rules.referral_rates_bps[level - 1] // RATE_DENOMINATOR))
        binding = self.members[buyer].binding
        if binding is not None and binding.earns(occurred or now):
            planned.append((binding.partner, -1, amount_minor * binding.commission_bps // RATE_DENOMINATOR))
        return [Credit(m, level, points, at, rules.version) for m, level, points in planned if points > 0]

    def purchase(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        occurred = datetime.strptime(body["occurred_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=now.tzinfo)
        credits = self.credits(body["member_id"], body["amount_minor"], now, occurred)
        shown: list[dict[str, Any]] = [{"member_id": c.member_id, "level": c.level, "points": c.points,
                  "bucket": "pending" if c.available_at else "available",
                  "available_at": rfc3339(c.available_at) if c.available_at else None,
                  "status": "posted" if c.level == 0 else "queued"} for c in credits]
        commission = [{"partner_id": s["member_id"].removeprefix("partner#"), "amount_minor": s["points"],
                       **{k: s[k] for k in ("bucket", "available_at", "status")}} for s in shown if s["level"] < 0]
        answer = {
            "order_id": body["order_id"], "member_id": body["member_id"], "amount_minor": body["amount_minor"],
            "currency": body["currency"], "occurred_at": body["occurred_at"], "rule_version": self.program.version,
            "credits": [s for s in shown if s["level"] >= 0], "commission": commission[0] if commission else None,
        }
        for c in credits:
            kind = "commission" if c.commission else "purchase" if c.level == 0 else "referral"
            line = Queued(c.points, kind, ("purchase", body["order_id"]), None if c.commission else c.level,
                          c.rule_version, c.available_at)
            self._post_or_queue(self.members[c.member_id], line, now, own=c.level == 0)
        self.purchases[body["order_id"]] = Purchase(body, answer, credits)
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
                          None if c.commission else c.level, c.rule_version, c.available_at)
            self._post_or_queue(self.members[c.member_id], line, now, own=c.member_id == purchase.body["member_id"])
        purchase.refunded = after
        answer = {"refund_id": refund_id, "order_id": order_id, "amount_minor": amount_minor, "reversals": reversals,
                  "commission_reversal": commission}
        self.refunds[(order_id, refund_id)] = Recorded({"refund_id": refund_id, "amount_minor": amount_minor}, answer)
        return answer

    # --- posting: now (the buyer's own, or when the poster is not held) or as a batch later ---------

    def _post_or_queue(self, member: Member, line: Queued, now: datetime, *, own: bool) -> None:
        if own or not self.poster_held:
            self._release(member, now)
            self._post_group(member, [line], now)
        else:
            member.queue.append(line)

    def release_the_poster(self, now: datetime) -> None:
        """The poster posts each member's queue as one batch: matured lots are released first, then one entry
        per group of lines that agree on kind, bucket, lot, level, rule version and sign: the groups that add,
        then those that take away, each in the order they first appear."""
        self.poster_held = False
        for member in self.members.values():
            if not member.queue:
                continue
            self._release(member, now)
            groups: dict[tuple[Any, ...], list[Queued]] = {}
            for line in member.queue:
                groups.setdefault((line.amount < 0, line.kind, self._lot(line, now), line.level, line.rule_version),
                                  []).append(line)
            for adds_first in (False, True):  # what adds, then what takes away
                for key, group in groups.items():
                    if key[0] == adds_first:
                        self._post_group(member, group, now)
            member.queue = []

    @staticmethod
    def _lot(line: Queued, now: datetime) -> datetime | None:
        """The lot a line is posted to or out of when it is posted: a reversal of a lot already free comes out
        of available."""
        if line.amount < 0 and line.available_at is not None and line.available_at <= now:
            return None
        return line.available_at

    def _post_group(self, member: Member, group: list[Queued], now: datetime) -> None:
        first, lot = group[0], self._lot(group[0], now)
        amount = sum(line.amount for line in group)
        for line in group:
            if lot is not None:
                self._to_lot(member, lot, line.amount)
        several = len(group) > 1
        self._append(member, now, amount=amount, bucket="pending" if lot else "available", kind=first.kind,
                     source=("batch", "*") if several else first.source, level=first.level,
                     rule_version=first.rule_version, available_at=lot,
                     parts=[[f"{q.source[0]}/{q.source[1]}", q.amount] for q in group] if several else None)

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
