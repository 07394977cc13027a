"""What recording a purchase needs from storage beyond the ledger's port (``purchases.dynamodb``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from loyalty.ledger.accounts import Account
from loyalty.members.domain import Member
from loyalty.program.domain import ProgramRules


@dataclass(frozen=True)
class Checkout:
    """What a purchase reads first, in one round trip: the buyer, their account, the current programme."""

    buyer: Member | None
    account: Account
    program: ProgramRules | None  # None on a fresh install: the built-in defaults


class PurchaseStore(Protocol):
    def checkout(self, member_id: str) -> Checkout: ...
