"""Spending points: what a redemption is called and answers, and when it is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from loyalty.coupons.domain import CouponView
from loyalty.ledger.accounts import BalanceView
from loyalty.shared.errors import Forbidden, LoyaltyError, ValidationProblem


class InsufficientPoints(LoyaltyError):
    slug, status, title = "insufficient-points", 409, "Not enough available points"


def whose_points(caller: str, *, caller_is_staff: bool, caller_is_member: bool, member_id: str | None) -> str:
    """The member whose points a redemption spends: the caller's own, or, at the counter, the member staff name
    (``member_id``, with that member's current member code as proof they are there). A member may name only
    itself; the till, not being a member, must name someone."""
    if member_id is None:
        if not caller_is_member:
            raise ValidationProblem("The till is not a member: name the member (member_id) and send the member code "
                                    "on their card (member_code).", loc=["body", "member_id"])
        return caller
    if member_id != caller and not caller_is_staff:
        raise Forbidden("Members can only redeem their own points.")
    return member_id


def redemption_key(member_id: str, idempotency_key: str) -> str:
    return f"redemption/{member_id}/{idempotency_key}"


def redemption_id(key: str) -> str:
    """A stable, opaque id for the redemption a key names (the same for every replay)."""
    return "rdm_" + hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Redeemed:
    redemption_id: str
    points: int
    reward: str
    balances: Mapping[str, BalanceView]
    reward_id: str | None = None  # bought from the catalogue (docs/wallet.md)
    coupon: CouponView | None = None  # the coupon a coupon reward issued
