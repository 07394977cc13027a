"""What the catalogue needs from storage (``rewards.dynamodb`` implements it)."""

from __future__ import annotations

from typing import Protocol

from loyalty.ledger.store import Record
from loyalty.rewards.domain import Reward


class RewardStore(Protocol):
    def put(self, reward: Reward) -> None: ...

    def reward(self, reward_id: str) -> Reward | None: ...

    def rewards(self) -> list[Reward]: ...

    def take_one(self, reward: Reward) -> Record:
        """The record that takes one unit of the reward's stock in a redemption's transaction."""
        ...
