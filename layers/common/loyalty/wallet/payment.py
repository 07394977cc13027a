"""Stored value inside a purchase's and a refund's own write (``purchases.usecases``): the payment's lines and their
conditions, and what a refund gives back. Nothing here reads or writes: the purchase has read the buyer's account
already, and commits these lines with its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import STORED_VALUE, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.wallet.domain import BONUS, PRINCIPAL, Parts, given_back, held, payment_split, postings


@dataclass(frozen=True)
class Payment:
    parts: Parts
    lines: list[Posting]
    at_least: Mapping[tuple[str, Bucket], int]  # the stored buckets must still hold what the lines take


def pay_with_stored_value(account: Account, buyer: str, order_id: str, paid_minor: int | None,
                          now: datetime) -> Payment | None:
    """The ``payment`` lines of a purchase paying ``paid_minor`` from the buyer's stored value (None: it pays none);
    ``InsufficientFunds`` when the account holds less."""
    if paid_minor is None:
        return None
    parts = payment_split(paid_minor, held(account.view(STORED_VALUE.name, now)))
    least = {(STORED_VALUE.name, bucket): amount
             for bucket, amount in ((PRINCIPAL, parts.principal_minor), (BONUS, parts.bonus_minor)) if amount}
    return Payment(parts, postings(buyer, parts, -1, EntryKind.PAYMENT, Source("purchase", order_id)), least)


class PaidPurchase(Protocol):
    @property
    def member_id(self) -> str: ...
    @property
    def order_id(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...
    @property
    def refunded_minor(self) -> int: ...
    @property
    def stored_value(self) -> tuple[int, int] | None: ...


def stored_value_back(purchase: PaidPurchase, refund_minor: int,
                      refund_id: str) -> tuple[tuple[int, int], list[Posting]] | None:
    """What a refund gives back of the stored value its purchase paid, as (principal, bonus) and the ``refund`` lines
    (None for a purchase that paid none): in total after it, ``floor(part × refunded / amount)`` of each part. Back
    into the buyer's buckets, past the cap if need be."""
    if purchase.stored_value is None:
        return None
    paid = Parts(*purchase.stored_value)
    back = given_back(paid, purchase.amount_minor, purchase.refunded_minor, refund_minor)
    lines = postings(purchase.member_id, back, 1, EntryKind.REFUND,
                     Source("refund", f"{purchase.order_id}/{refund_id}"))
    return (back.principal_minor, back.bonus_minor), lines
