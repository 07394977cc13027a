"""Spending points: what a redemption is called and answers, and when it is refused."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from loyalty.ledger.accounts import BalanceView
from loyalty.shared.errors import LoyaltyError


class InsufficientPoints(LoyaltyError):
    slug, status, title = "insufficient-points", 409, "Not enough available points"


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
