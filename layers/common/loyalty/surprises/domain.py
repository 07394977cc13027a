"""Surprise draws: each local day has a 32-byte secret whose SHA-256 is published before the day and the secret
itself after it, so anyone can recompute every draw of the day.

A day's secret is ``HMAC-SHA256(master, "loyalty surprise day " + ISO date)`` (the master is a Secrets Manager
secret); a draw is ``h = HMAC-SHA256(day secret, order_id)``: a hit when ``int(h[0:4], big) mod 10000 <
chance_bps``, worth ``min_points + int(h[4:8], big) mod (max_points - min_points + 1)``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date

from loyalty.program.domain import SurpriseRule
from loyalty.shared.errors import LoyaltyError

SURPRISE_RULE = "surprise"  # the buyer's surprise entry's ``rule``
DAY_LABEL = b"loyalty surprise day "


class SurpriseBudgetSpent(LoyaltyError):
    """Raised by a purchase's own transaction when the day's budget cannot pay a hit in full: the purchase is then
    written again without the surprise (never answered to a client)."""

    slug, status, title = "surprise-budget-spent", 409, "The day's surprise budget cannot pay this surprise"


class DayNotOver(LoyaltyError):
    slug, status, title = "day-not-over", 409, "The day's secret is revealed only after the day ended"


def day_secret(master: bytes, day: date) -> bytes:
    """The day's 32-byte secret."""
    return hmac.new(master, DAY_LABEL + day.isoformat().encode(), hashlib.sha256).digest()


def commitment(secret: bytes) -> str:
    """What is published before the day: SHA-256 of the secret's bytes, hex."""
    return hashlib.sha256(secret).hexdigest()


@dataclass(frozen=True)
class Draw:
    """One purchase's draw: whether it hit, what it is worth, whether the day's budget paid it, and the rule it was
    drawn under (so the reveal lets anyone recompute it)."""

    order_id: str
    hit: bool
    points: int
    paid: bool
    chance_bps: int
    min_points: int
    max_points: int


def draw(secret: bytes, order_id: str, rule: SurpriseRule) -> Draw:
    """The draw of ``order_id`` under the day's ``secret`` (not yet paid)."""
    h = hmac.new(secret, order_id.encode(), hashlib.sha256).digest()
    hit = int.from_bytes(h[0:4], "big") % 10_000 < rule.chance_bps
    points = rule.min_points + int.from_bytes(h[4:8], "big") % (rule.max_points - rule.min_points + 1)
    return Draw(order_id, hit, points if hit else 0, False, rule.chance_bps, rule.min_points, rule.max_points)
