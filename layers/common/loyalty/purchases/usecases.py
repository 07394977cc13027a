"""Recording purchases and refunds, each one business event committed in one transaction, exactly once.

The buyer's own points are posted by that transaction; every referrer's are queued in it (``ledger.deferred``)
and posted by the poster, so a purchase reads only the buyer's side (one ``BatchGetItem``) and never waits for,
or fails because of, a busy referrer. A refund does the same with its reversals: the buyer's at once, each
referrer's behind the credit it reverses, in the same lane of their queue.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import Bucket
from loyalty.ledger.deferred import DEFAULT_SPREAD, Deferred, lane_of
from loyalty.ledger.expiry import Expiry
from loyalty.ledger.posting import LedgerInvariantError, Posting, post
from loyalty.ledger.store import AccountWrite, CounterGuard, LedgerStore, LedgerWrite, Record
from loyalty.program.domain import DEFAULT_PROGRAM, ProgramRules
from loyalty.purchases.domain import (
    MAX_CLOCK_SKEW,
    POSTED,
    QUEUED,
    PurchaseRecord,
    PurchaseRecorded,
    RefundExceedsPurchase,
    RefundRecorded,
    Reversal,
    credit_posting,
    credit_purchase,
    hold_for_review,
    purchase_key,
    reverse_refund,
)
from loyalty.purchases.store import PurchaseScreen, PurchaseStore
from loyalty.screening.domain import Verdict
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import LoyaltyError, NotFound, ValidationProblem
from loyalty.shared.once import Contention, Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once
from loyalty.wallet.payment import pay_with_stored_value, stored_value_back

if TYPE_CHECKING:
    from loyalty.leads.usecases import LeadAwards
    from loyalty.surprises.usecases import Drawn, SurpriseService
    from loyalty.tiers.usecases import PurchaseStanding, StandingWrites


class _PurchaseAnswers(ResultCodec[PurchaseRecorded]):
    """A purchase's answer is what its record's state holds already (the credits, the order): it is rebuilt from
    it, not stored twice. That keeps a depth-2 purchase's record under 1 KB: two write units in the transaction,
    not four."""

    def dump(self, result: PurchaseRecorded) -> dict[str, Any]:
        return {}

    def load_operation(self, recorded: Operation) -> PurchaseRecorded:
        record = PurchaseRecord.from_state(recorded.key.removeprefix("purchase/"), recorded.state, recorded.created_at)
        return PurchaseRecorded(record.order_id, record.member_id, record.amount_minor, record.currency,
                                record.occurred_at, record.rule_version or 0, record.credits, record.stored_value,
                                (recorded.state.get("surprise") or {}).get("points"))


class _RefundAnswers(ResultCodec[RefundRecorded]):
    """A refund's answer names stored value only for a purchase that paid with it (the others' records keep their
    size)."""

    def dump(self, result: RefundRecorded) -> dict[str, Any]:
        dumped = super().dump(result)
        for name in ("stored_value", "surprise"):
            if dumped.get(name) is None:
                dumped.pop(name, None)
        return dumped


PURCHASES = _PurchaseAnswers(PurchaseRecorded)
REFUNDS = _RefundAnswers(RefundRecorded)


# --- riders: what another feature adds to a purchase's or a refund's own transaction (a bundle sale's card) -------

class UseBundleRefund(LoyaltyError):
    slug, status, title = "use-bundle-refund", 409, "A bundle sale is refunded through its card"


BUNDLE_SALE_STATE = "bundle"  # in a purchase record's state: the card a bundle sale made (docs/wallet.md)


@dataclass(frozen=True)
class Ride:
    """A rider's part of the event: the buyer's lines (posted with the event's own, in the same account write, under
    the same conditions plus ``at_least``), records, what the event's operation record keeps besides its own
    (``state``), and, for a refund, the amount when the rider decides it (a card's unused uses)."""

    postings: Sequence[Posting] = ()
    records: Sequence[Record] = ()
    state: Mapping[str, Any] = field(default_factory=dict)
    at_least: Mapping[tuple[str, Bucket], int] = field(default_factory=dict)
    amount_minor: int | None = None
    deferred: Sequence[Deferred] = ()  # others' postings queued with the event (a converted lead's award)


@dataclass(frozen=True)
class Rider:
    """What a caller adds to a purchase or a refund: ``request`` is the request the event is fingerprinted by (the
    caller's own client body, instead of the purchase's), ``ride`` decides the lines from the buyer's account as read
    (and, for a refund, the purchase's record) at the event's instant: each attempt anew."""

    request: Mapping[str, Any]
    ride: Callable[[Account, PurchaseRecord | None, datetime], Ride]


def _with_ride(account: Account, own: list[Posting], ride: Ride | None, now: datetime,
               expiry: Expiry) -> list[AccountWrite]:
    """The buyer's account write: its own lines and the rider's, one write (none when there is nothing to post)."""
    lines = own + list(ride.postings if ride else ())
    if not lines:
        return []
    result = post(account, lines, now, expiry)
    return [AccountWrite(account, result.account, result.entries, at_least=dict(ride.at_least) if ride else {})]


def _committer(ledger: LedgerStore, operation: Operation, account: Account, own: list[Posting],
               queued: list[Deferred], opened: Sequence[Record], now: datetime,
               expiry: Expiry) -> Callable[[Ride], None]:
    """A purchase's commit with a ride (its rider's, its payment's, its surprise's): the buyer's one account write,
    the operation record keeping the ride's state too, the referrers' queued credits and the ride's records."""

    def commit(ride: Ride) -> None:
        ledger.commit(LedgerWrite(replace(operation, state={**operation.state, **ride.state}),
                                  _with_ride(account, own, ride, now, expiry), deferred=[*queued, *ride.deferred],
                                  records=[*opened, *ride.records]))

    return commit


class PurchaseService:
    def __init__(self, store: PurchaseStore, ledger: LedgerStore, clock: Clock,
                 retry: RetryPolicy | None = None, spread: int = DEFAULT_SPREAD,
                 screen: PurchaseScreen | None = None,
                 surprises: Callable[[], SurpriseService] | None = None,
                 standings: StandingWrites | None = None, leads: LeadAwards | None = None) -> None:
        self._store = store
        self._leads = leads  # a converted lead's award at the buyer's first purchase (docs/leads.md); None: none
        self._surprises = surprises  # None: no surprise draws (docs/earning-surprise.md)
        self._standings = standings  # tiers and statuses (docs/earning-tiers.md); None: no Earning table
        self._screen = screen  # None: no screening (the buyer's stored verdicts still hold credits)
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._spread = spread

    def record(self, *, order_id: str, member_id: str, amount_minor: int, currency: str | None,
               occurred_at: datetime | None, items: list[dict[str, Any]] | None,
               requested_by: str, device_id: str | None = None,
               payment_fingerprint: str | None = None, rider: Rider | None = None,
               stored_value_minor: int | None = None) -> Outcome[PurchaseRecorded]:
        """Credit a purchase to the buyer and every ancestor the programme reaches, exactly once.

        Without ``occurred_at`` the purchase occurred when it is recorded. A credit whose screening (the buyer's
        verdicts from sign-up, and what ``device_id`` and ``payment_fingerprint`` show) scores at or above the
        threshold is held for review (docs/screening.md). A ``rider`` (a bundle sale) adds its lines to the same
        transaction and fingerprints the event by its own request; ``currency`` None: the programme's.

        ``stored_value_minor`` of the amount is paid from the buyer's stored value in the same write, bonus in
        proportion (docs/wallet.md); not enough → ``InsufficientFunds`` and nothing written. Points are earned on the
        whole amount, whatever pays for it.
        """
        if stored_value_minor is not None and not 0 < stored_value_minor <= amount_minor:
            raise ValidationProblem("stored_value_minor is more than 0 and at most amount_minor",
                                    loc=["body", "stored_value_minor"])
        key = purchase_key(order_id)
        request = {"member_id": member_id, "amount_minor": amount_minor, "currency": currency,
                   "occurred_at": to_rfc3339(occurred_at) if occurred_at else None, "items": items}
        request.update({k: v for k, v in (("device_id", device_id), ("payment_fingerprint", payment_fingerprint),
                                          ("stored_value_minor", stored_value_minor)) if v is not None})
        if rider is not None:
            request = dict(rider.request)
        screened: dict[str, dict[str, Verdict]] = {}  # what the purchase's own signals show, read once
        tag: list[str] = []  # whose referee the buyer is: its referrer, its partner, or ""

        def attempt() -> PurchaseRecorded:
            now = self._clock.now()
            if occurred_at is not None and occurred_at > now + MAX_CLOCK_SKEW:
                raise ValidationProblem("occurred_at is in the future", loc=["body", "occurred_at"])
            checkout = self._store.checkout(member_id)
            if checkout.buyer is None:
                raise NotFound(f"No member {member_id}.")
            rules = checkout.program or DEFAULT_PROGRAM
            paid_in = rules.currency if currency is None else currency
            if paid_in != rules.currency:
                raise ValidationProblem(f"The program runs in {rules.currency}; this purchase is in {currency}.",
                                        loc=["body", "currency"])
            buyer = checkout.buyer
            standing = self._standings.purchase(rules, checkout.standing, member_id, buyer.referrer_id, amount_minor,
                                                now) if self._standings is not None else None  # tiers (None: plain)
            credits = credit_purchase(rules, member_id, buyer.path, amount_minor, now, buyer.partner, occurred_at,
                                      standing.multiplier if standing is not None else rules.multiplier(now))
            occurred, recorded = to_rfc3339(occurred_at or now), to_rfc3339(now)
            partner = buyer.partner.holder if buyer.partner else None
            tag[:] = [buyer.referrer_id or partner or ""]
            if self._screen is not None and (device_id or payment_fingerprint) and "signals" not in screened:
                screened["signals"] = self._screen.purchase(
                    member_id=member_id, ancestors=buyer.path.ancestors, partner=partner, device_id=device_id,
                    card=payment_fingerprint)
            verdicts = {k: Verdict.from_dict(v) for k, v in buyer.screening.items()}
            for k, v in screened.get("signals", {}).items():
                verdicts[k] = verdicts[k].with_(v) if k in verdicts else v
            opened = []
            if self._screen is not None:  # never a held credit without its review (none without screening)
                credits, reviews = hold_for_review(credits, verdicts, member_id, order_id, recorded)
                opened = [r for review in reviews for r in self._screen.opened(review)]
            lane = lane_of(order_id, self._spread)
            paid = pay_with_stored_value(checkout.account, member_id, order_id, stored_value_minor, now)
            parts = (paid.parts.principal_minor, paid.parts.bonus_minor) if paid is not None else None
            result = PurchaseRecorded(order_id, member_id, amount_minor, paid_in, occurred, rules.version,
                                      tuple(credits), parts)
            record = PurchaseRecord(order_id, member_id, amount_minor, paid_in, 0, tuple(credits),
                                    tuple(items or ()), occurred, recorded, requested_by, lane, rules.version, parts)
            own = [credit_posting(c, order_id) for c in credits if c.status == POSTED]
            queued = [Deferred(lane, recorded, credit_posting(c, order_id)) for c in credits if c.status == QUEUED]
            ride = rider.ride(checkout.account, None, now) if rider is not None else None
            if paid is not None:  # the payment's lines join the buyer's write, conditioned on what they take
                ride = replace(ride or Ride(), postings=[*(ride.postings if ride else ()), *paid.lines],
                               at_least={**(ride.at_least if ride else {}), **paid.at_least})
            commit = _committer(self._ledger, Operation(key, fingerprint(request), 201, PURCHASES.dump(result),
                                                        recorded, record.state()), checkout.account, own, queued,
                                opened, now, rules.expiry_policy())
            commit = self._with_lead_award(commit, rules, buyer, lane, recorded, now)
            # tiers (docs/earning-tiers.md): the standing's records and state (the month, for a refund) in the write;
            # surprises (docs/earning-surprise.md): drawn only where the programme has them
            return _draw_and_commit(self._surprises, rules, result, now, _standing_ride(ride or Ride(), standing),
                                    commit)

        outcome = run_once(self._ledger, self._retry, key, fingerprint(request), attempt, PURCHASES)
        if self._screen is not None and (device_id or payment_fingerprint) and tag and not outcome.replayed:
            # After the write: a later purchase or sign-up sharing them sees this buyer (docs/screening.md)
            self._screen.remember(member_id=member_id, tag=tag[0], device_id=device_id, card=payment_fingerprint)
        return outcome

    def _with_lead_award(self, commit: Callable[[Ride], None], rules: ProgramRules, buyer: Any, lane: int,
                         recorded: str, now: datetime) -> Callable[[Ride], None]:
        """The commit, with a converted lead's award where this is the buyer's first purchase (docs/leads.md)."""
        award = self._leads.award(rules, buyer, lane, recorded, now) if self._leads is not None else None
        return commit if award is None else _awarding(commit, award)

    def refund(self, *, order_id: str, refund_id: str, amount_minor: int,
               requested_by: str, rider: Rider | None = None) -> Outcome[RefundRecorded]:
        """Reverse a share of every credit the order made, by the rules it was credited under.

        A bundle sale is refunded only with its card's ``rider`` (which decides the amount: ``409 use-bundle-refund``
        without it)."""
        key = f"refund/{order_id}/{refund_id}"
        request = {"order_id": order_id, "amount_minor": amount_minor}
        if rider is not None:
            request = {"order_id": order_id, **rider.request}

        def attempt() -> RefundRecorded:
            now = self._clock.now()
            found = self._ledger.operation(purchase_key(order_id))
            if found is None:
                raise NotFound(f"No purchase with order_id {order_id}.")
            purchase = PurchaseRecord.from_state(order_id, found.state, found.created_at)
            if rider is None and BUNDLE_SALE_STATE in found.state:
                raise UseBundleRefund(f"{order_id} sold a bundle card: refund it through "
                                      f"/v1/bundle-cards/{found.state[BUNDLE_SALE_STATE]}/refunds.")
            account = self._ledger.accounts([purchase.member_id])[purchase.member_id]
            ride = rider.ride(account, purchase, now) if rider is not None else None
            refund_minor = ride.amount_minor if ride is not None and ride.amount_minor is not None else amount_minor
            total, before = purchase.amount_minor, purchase.refunded_minor
            if before + refund_minor > total:
                raise RefundExceedsPurchase(
                    f"{before} of {total} is already refunded; {refund_minor} more would exceed the purchase.")
            postings = reverse_refund(purchase.credits, total, before, refund_minor, order_id, refund_id, now)
            surprise = _surprise_back(found.state, purchase.member_id, order_id, refund_id, purchase.rule_version,
                                      now) if before + refund_minor == total else []  # a full refund's
            back = stored_value_back(purchase, refund_minor, refund_id)
            own = [p for p in postings if p.holder == purchase.member_id] + (back[1] if back else []) + surprise
            try:
                writes = _with_ride(account, own, ride, now, self._ledger.expiry)
            except LedgerInvariantError:
                # The account may be newer than the purchase record read above (a rival refund landed in
                # between): then read both again (the commit's guard on refunded_minor would refuse it anyway).
                # If nothing moved, the ledger's own rules are broken: a bug, answered loudly, not as "busy".
                again = self._ledger.operation(found.key)
                if again is None or again.state.get("refunded_minor") == before:
                    raise
                raise Contention(f"{found.key} changed while being read") from None
            lane = purchase.lane if purchase.lane is not None else lane_of(order_id, self._spread)
            recorded = to_rfc3339(now)
            result = RefundRecorded(refund_id, order_id, refund_minor, tuple(
                Reversal(p.holder, p.level or 0, -p.amount, POSTED if p.holder == purchase.member_id else QUEUED,
                         p.asset)
                for p in postings), back[0] if back else None, -surprise[0].amount if surprise else None)
            op = Operation(key, fingerprint(request), 201, REFUNDS.dump(result), recorded,
                           {"order_id": order_id, "amount_minor": refund_minor, "requested_by": requested_by,
                            **(ride.state if ride is not None else {})})
            standing = self._standings.refund(  # tiers and statuses (docs/earning-tiers.md)
                found.state, purchase.member_id, refund_minor, before + refund_minor >= total, now,
                self._retry.run) if self._standings is not None else []
            self._ledger.commit(LedgerWrite(
                op, writes, counter=CounterGuard(found.key, "refunded_minor", before, before + refund_minor),
                deferred=[Deferred(lane, recorded, p) for p in postings if p.holder != purchase.member_id],
                records=[*(ride.records if ride is not None else ()), *standing]))
            return result

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, REFUNDS)


def _awarding(commit: Callable[[Ride], None], award: Any) -> Callable[[Ride], None]:
    """The purchase's commit with a converted lead's award (docs/leads.md): with its points, or, when the action's
    caps refuse them, without (the award is decided either way, at this first purchase)."""
    from loyalty.actions.domain import ActionCapped
    from loyalty.leads.usecases import joined

    def with_award(ride: Ride) -> None:
        try:
            commit(joined(ride, award.paid))
        except ActionCapped:
            commit(joined(ride, award.unpaid))

    return with_award


def _standing_ride(ride: Ride, standing: PurchaseStanding | None) -> Ride:
    """The purchase's ride with the buyer's standing (tiers and statuses), where the programme has them."""
    if standing is None:
        return ride
    return replace(ride, records=[*ride.records, *standing.records], state={**ride.state, **standing.state})


# --- surprises (docs/earning-surprise.md) -------------------------------------------------------------------------
def _draw_and_commit(surprises: Callable[[], SurpriseService] | None, rules: ProgramRules, result: PurchaseRecorded,
                     now: datetime, ride: Ride, commit: Callable[[Ride], None]) -> PurchaseRecorded:
    """Commit the purchase: as it is without a surprise rule; else with its draw, paid, and if the day's budget
    cannot pay it in full (the budget record's condition), again with the draw unpaid."""
    drawn = surprises().draw(rules, result.order_id, result.member_id, now) \
        if surprises is not None and rules.surprises is not None else None
    if drawn is None:
        commit(ride)
        return result
    from loyalty.surprises.domain import SurpriseBudgetSpent

    try:
        commit(_surprising(ride, drawn))
    except SurpriseBudgetSpent:
        drawn = surprises().unpaid(drawn, rules, result.member_id, now)  # type: ignore[misc]
        commit(_surprising(ride, drawn))
    return replace(result, surprise=drawn.draw.points if drawn.postings else None)


def _surprising(ride: Ride, drawn: Drawn) -> Ride:
    """The purchase's ride with its surprise draw's records and, when paid, the buyer's bonus line and state."""
    return replace(ride, postings=[*ride.postings, *drawn.postings], records=[*ride.records, *drawn.records],
                   state={**ride.state, **drawn.state})


def _surprise_back(state: Mapping[str, Any], buyer_id: str, order_id: str, refund_id: str, version: int | None,
                   now: datetime) -> list[Posting]:
    if "surprise" not in state:
        return []
    from loyalty.surprises.usecases import surprise_reversal

    return surprise_reversal(dict(state["surprise"]), buyer_id, order_id, refund_id, version, now)
# --- end surprises ---
