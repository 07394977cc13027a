"""The rewards catalogue: what points buy, at what price, and how many are left."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.shared.errors import LoyaltyError


class OutOfStock(LoyaltyError):
    slug, status, title = "out-of-stock", 409, "This reward is out of stock"


@dataclass(frozen=True)
class Reward:
    reward_id: str
    name: str
    points: int
    stock: int | None  # units left; None: unlimited (no stock is kept)
    coupon_template_id: str | None = None
