"""Selling bundle cards, using them and refunding what is left, each one event in one transaction, exactly once.

A sale is the purchase of the card's price (``PurchaseService.record``) with the card riding in the same
transaction: the buyer's ``bundle_sale`` entry of the uses and the card's item. A use is one ``bundle_use`` entry of
-1 whose write is conditioned on the card's stored balance (at least 1) and on the account as read: two tills using the
last use at once cannot both succeed. A refund is a refund of the sale's purchase (``PurchaseService.refund``: the
points, referral credits and commission reversed pro rata) with the unused uses taken back in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from loyalty.bundles.domain import (
    BundleExpired,
    BundleRefunded,
    BundleUsedUp,
    Card,
    CardView,
    Product,
    SaleRecorded,
    UseRecorded,
    card_id_of,
    card_of_asset,
    expiry,
)
from loyalty.bundles.store import BundleStore
from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting, post
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.purchases.domain import PurchaseRecord
from loyalty.purchases.usecases import BUNDLE_SALE_STATE, PurchaseService, Ride, Rider
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

USES = ResultCodec(UseRecorded)


def held(store: BundleStore, account: Account, retry: RetryPolicy | None = None) -> list[CardView]:
    """The cards with uses left on this account (expired ones too: they can still be refunded), oldest sale first. An
    account without a card reads nothing."""
    ids = sorted(c for c in map(card_of_asset, account.balances) if c is not None and account.balance(
        f"bundle:{c}")[Bucket.AVAILABLE] > 0)
    if not ids:
        return []
    cards = (retry or RetryPolicy()).run(lambda: store.cards(ids))
    views = [CardView(cards[c], cards[c].remaining(account)) for c in ids if c in cards]
    return sorted(views, key=lambda v: (v.card.sold_at, v.card.card_id))
USES_REFUNDED = "uses_refunded"  # in a bundle refund's operation record


class BundleService:
    def __init__(self, store: BundleStore, purchases: PurchaseService, ledger: LedgerStore, clock: Clock,
                 retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._purchases = purchases
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()

    # --- products ---------------------------------------------------------------------------------

    def save_product(self, *, product_id: str, name: str, uses: int, price_minor: int, valid_days: int) -> Product:
        """Put a product's terms (cards sold already keep the terms they were sold with)."""
        product = Product(product_id, name, uses, price_minor, valid_days, to_rfc3339(self._clock.now()))
        self._retry.run(lambda: self._store.save_product(product))
        return product

    def products(self) -> list[Product]:
        return self._retry.run(self._store.products)

    # --- cards ------------------------------------------------------------------------------------

    def _card(self, card_id: str) -> Card:
        card = self._retry.run(lambda: self._store.card(card_id))
        if card is None:
            raise NotFound(f"No bundle card {card_id}.")
        return card

    def card(self, card_id: str) -> CardView:
        card = self._card(card_id)
        account = self._retry.run(lambda: self._ledger.accounts([card.member_id]))[card.member_id]
        return CardView(card, card.remaining(account))

    def sell(self, *, sale_id: str, member_id: str, product_id: str, requested_by: str) -> Outcome[SaleRecorded]:
        """Sell a card of the product to the member: a purchase of its price with the card in the same write, exactly
        once by ``sale_id`` (a ``sale_id`` an ordinary purchase took is refused: ``409 idempotency-mismatch``)."""
        product = self._retry.run(lambda: self._store.product(product_id))
        if product is None:
            raise NotFound(f"No bundle product {product_id}.")
        card_id = card_id_of(sale_id)
        sold: list[Card] = []

        def ride(account: Account, _: PurchaseRecord | None, now: datetime) -> Ride:
            card = Card(card_id, product.product_id, product.name, product.uses, product.price_minor, member_id,
                        sale_id, to_rfc3339(now), to_rfc3339(expiry(now, product.valid_days)))
            sold[:] = [card]
            line = Posting(member_id, card.asset, product.uses, Bucket.AVAILABLE, EntryKind.BUNDLE_SALE,
                           Source("purchase", sale_id))
            return Ride(postings=[line], records=[self._store.card_record(card)], state={BUNDLE_SALE_STATE: card_id})

        outcome = self._purchases.record(
            order_id=sale_id, member_id=member_id, amount_minor=product.price_minor, currency=None, occurred_at=None,
            items=[{"sku": product.product_id, "name": product.name, "quantity": 1,
                    "amount_minor": product.price_minor}],
            requested_by=requested_by,
            rider=Rider({"bundle_sale": {"member_id": member_id, "product_id": product_id}}, ride))
        card = sold[0] if sold and not outcome.replayed else self._card(card_id)
        return Outcome(SaleRecorded(card.card_id, card.product_id, card.uses, card.expires_at, card.price_minor),
                       outcome.replayed)

    def use(self, *, card_id: str, use_id: str, requested_by: str) -> Outcome[UseRecorded]:
        """One use of the card, exactly once by ``use_id`` (per card): ``409 bundle-expired`` from ``expires_at`` on,
        ``409 bundle-used-up`` when nothing is left, whatever races (the write's own condition decides)."""
        key = f"bundle-use/{card_id}/{use_id}"
        request = {"card_id": card_id}
        read: list[Card] = []

        def attempt() -> UseRecorded:
            now = self._clock.now()
            card = read[0] if read else self._card(card_id)
            read[:] = [card]
            if card.expired(now):
                raise BundleExpired(f"Bundle card {card_id} expired at {card.expires_at}.")
            account = self._ledger.accounts([card.member_id])[card.member_id]
            remaining = card.remaining(account)
            if remaining < 1:
                raise BundleUsedUp(f"Bundle card {card_id} has no uses left.")
            line = Posting(card.member_id, card.asset, -1, Bucket.AVAILABLE, EntryKind.BUNDLE_USE,
                           Source("bundle_use", f"{card_id}/{use_id}"))
            result = post(account, [line], now, self._ledger.expiry)
            answer = UseRecorded(card_id, remaining - 1)
            recorded = to_rfc3339(now)
            self._ledger.commit(LedgerWrite(
                Operation(key, fingerprint(request), 201, USES.dump(answer), recorded,
                          {"card_id": card_id, "member_id": card.member_id, "requested_by": requested_by}),
                [AccountWrite(account, result.account, result.entries,
                              at_least={(card.asset, Bucket.AVAILABLE): 1})]))
            return answer

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, USES)

    def refund(self, *, card_id: str, refund_id: str, requested_by: str) -> Outcome[BundleRefunded]:
        """Refund the card's unused uses, expired or not: ``floor(price × remaining / uses)`` of the sale's purchase,
        reversed as that purchase's refund, with the uses taken back in the same write. Nothing left → ``409
        bundle-used-up``."""
        card = self._card(card_id)
        taken: list[int] = []

        def ride(account: Account, _: PurchaseRecord | None, now: datetime) -> Ride:
            remaining = card.remaining(account)
            if remaining < 1:
                raise BundleUsedUp(f"Bundle card {card_id} has no uses left to refund.")
            taken[:] = [remaining]
            line = Posting(card.member_id, card.asset, -remaining, Bucket.AVAILABLE, EntryKind.REFUND,
                           Source("refund", f"{card.sale_id}/{refund_id}"))
            return Ride(postings=[line], state={"card_id": card_id, USES_REFUNDED: remaining},
                        amount_minor=card.refund_minor(remaining))

        outcome = self._purchases.refund(order_id=card.sale_id, refund_id=refund_id, amount_minor=0,
                                         requested_by=requested_by,
                                         rider=Rider({"bundle_card": card_id}, ride))
        if taken and not outcome.replayed:
            uses = taken[0]
        else:
            found = self._retry.run(lambda: self._ledger.operation(f"refund/{card.sale_id}/{refund_id}"))
            uses = int(found.state.get(USES_REFUNDED, 0)) if found is not None else 0
        return Outcome(BundleRefunded(refund_id, uses, outcome.result.amount_minor), outcome.replayed)
