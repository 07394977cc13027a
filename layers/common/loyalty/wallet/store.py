"""What stored value needs from storage (``wallet.dynamodb`` implements it); its ledger writes go through
``ledger.store.LedgerStore``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from loyalty.ledger.accounts import Account
from loyalty.members.domain import Member
from loyalty.program.domain import ProgramRules
from loyalty.wallet.domain import WalletSettings


@dataclass(frozen=True)
class WalletCheckout:
    """What a top-up or a withdrawal reads first, in one round trip: the member, their account, the wallet's
    settings and the programme (None for each of the last two on a fresh install: the defaults)."""

    member: Member | None
    account: Account
    settings: WalletSettings | None
    program: ProgramRules | None


class WalletStore(Protocol):
    def settings(self) -> WalletSettings | None:
        """The settings an admin saved; None if none were (the defaults hold)."""
        ...

    def save_settings(self, settings: WalletSettings) -> None: ...

    def checkout(self, member_id: str) -> WalletCheckout: ...
