"""What recording a purchase needs from storage beyond the ledger's port (``purchases.dynamodb``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from loyalty.ledger.accounts import Account
from loyalty.ledger.store import Record
from loyalty.members.domain import Member
from loyalty.program.domain import ProgramRules
from loyalty.screening.domain import Verdict
from loyalty.screening.review import Review
from loyalty.tiers.domain import Standing


@dataclass(frozen=True)
class Checkout:
    """What a purchase reads first, in one round trip: the buyer, their account, the current programme."""

    buyer: Member | None
    account: Account
    program: ProgramRules | None  # None on a fresh install: the built-in defaults
    # tiers: the buyer's standing as stored, read only under a programme with tiers or statuses (docs/earning-tiers.md)
    standing: Standing | None = None


class PurchaseStore(Protocol):
    def checkout(self, member_id: str) -> Checkout: ...


class PurchaseScreen(Protocol):
    """Screening as a purchase needs it (``screening.usecases.Screener``): what the device and card it sends show,
    the records that open a review of a held credit, and remembering the buyer's device and card."""

    def purchase(self, *, member_id: str, ancestors: Sequence[str], partner: str | None, device_id: str | None,
                 card: str | None) -> dict[str, Verdict]: ...

    def opened(self, review: Review) -> list[Record]: ...

    def remember(self, *, member_id: str, tag: str, email: str | None = None, phone: str | None = None,
                 device_id: str | None = None, card: str | None = None, code: str | None = None) -> None: ...
