"""The catalogue: an admin prices rewards; a redemption by ``reward_id`` spends the price and takes one unit of
stock in its own transaction (``redemptions.usecases``), and a coupon reward issues its coupon there too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from loyalty.coupons.domain import CouponView
from loyalty.coupons.usecases import CouponService
from loyalty.ledger.store import Record
from loyalty.rewards.domain import Reward
from loyalty.rewards.store import RewardStore
from loyalty.shared.errors import NotFound
from loyalty.shared.once import RetryPolicy


@dataclass(frozen=True)
class Taken:
    """What a reward's redemption writes beside the points: the stock it takes, the coupon it issues."""

    records: Sequence[Record]
    coupon: CouponView | None


class RewardService:
    def __init__(self, store: RewardStore, coupons: CouponService, retry: RetryPolicy | None = None) -> None:
        self._store, self._coupons = store, coupons
        self._retry = retry or RetryPolicy()

    def put(self, reward: Reward) -> Reward:
        if reward.coupon_template_id is not None and self._coupons.template(reward.coupon_template_id) is None:
            from loyalty.shared.errors import ValidationProblem

            raise ValidationProblem(f"No coupon template {reward.coupon_template_id}.",
                                    loc=["body", "coupon_template_id"])
        self._retry.run(lambda: self._store.put(reward))
        return reward

    def rewards(self) -> list[Reward]:
        return sorted(self._retry.run(self._store.rewards), key=lambda r: r.reward_id)

    def reward(self, reward_id: str) -> Reward:
        found = self._store.reward(reward_id)
        if found is None:
            raise NotFound(f"No reward {reward_id} in the catalogue.")
        return found

    def take(self, reward: Reward, member_id: str, key: str, now: datetime) -> Taken:
        """The records a redemption of the reward writes in its transaction (read again on each of its tries)."""
        records = [self._store.take_one(reward)] if reward.stock is not None else []
        coupon = None
        if reward.coupon_template_id is not None:
            template = self._coupons.template(reward.coupon_template_id)
            if template is None:
                raise NotFound(f"The reward's coupon template {reward.coupon_template_id} is gone.")
            issued, issue = self._coupons.issue_records(template, member_id, key, now)
            records += issue
            coupon = CouponView.of(issued, now)
        return Taken(records, coupon)
