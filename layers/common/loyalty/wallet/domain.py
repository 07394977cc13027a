"""Stored value's money rules, as pure functions (docs/wallet.md has the worked examples).

A member's stored value is the ledger asset ``stored_value`` in minor units of the programme's currency, kept in two
buckets: ``principal`` (what the member paid in, theirs to withdraw) and ``bonus`` (what a top-up tier added, the
shop's gift, forfeited on withdrawal). Neither goes below zero (the asset's declaration).

- A top-up of A earns ``floor(A × bonus_bps / 10000)`` of the highest tier whose ``min_minor`` A reaches; the
  principal after it may not pass ``max_principal_minor`` (the registered-card limit).
- A payment of p takes ``floor(p × bonus / (principal + bonus))`` from bonus and the rest from principal.
- A refund of R of a purchase of A gives back, in total after every refund so far, exactly ``floor(part × R / A)``
  of each part the purchase paid (like points' ``reversed_so_far``); it may take principal past the cap.
- A withdrawal pays back all the principal and forfeits all the bonus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from loyalty.ledger.accounts import BalanceView
from loyalty.ledger.assets import STORED_VALUE, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.shared.errors import LoyaltyError, ValidationProblem

BPS = 10_000
PRINCIPAL, BONUS = Bucket.PRINCIPAL, Bucket.BONUS


class StoredValueCap(LoyaltyError):
    slug, status, title = "stored-value-cap", 422, "The top-up would take the principal past the cap"


class InsufficientFunds(LoyaltyError):
    slug, status, title = "insufficient-funds", 409, "Not enough stored value"


@dataclass(frozen=True)
class Tier:
    min_minor: int
    bonus_bps: int


@dataclass(frozen=True)
class WalletSettings:
    """The top-up bonus tiers (highest threshold first) and the principal a member may hold."""

    top_up_bonus: tuple[Tier, ...]
    max_principal_minor: int

    def __post_init__(self) -> None:
        problems = settings_problems(self)
        if problems:
            raise ValidationProblem(problems[0][1], loc=problems[0][0])
        object.__setattr__(self, "top_up_bonus",
                           tuple(sorted(self.top_up_bonus, key=lambda t: t.min_minor, reverse=True)))

    def bonus_bps(self, amount_minor: int) -> int:
        """The basis points of the highest tier ``amount_minor`` reaches (0 below every tier)."""
        for tier in self.top_up_bonus:  # highest threshold first
            if amount_minor >= tier.min_minor:
                return tier.bonus_bps
        return 0

    def bonus(self, amount_minor: int) -> int:
        """The bonus a top-up of ``amount_minor`` earns: ``floor(amount × bonus_bps / 10000)``."""
        return amount_minor * self.bonus_bps(amount_minor) // BPS

    def next_tier(self, amount_minor: int) -> Tier | None:
        """The lowest tier above ``amount_minor`` that pays more than the tier it reaches (what to offer at the till);
        None when no tier pays more."""
        reached = self.bonus_bps(amount_minor)
        above = [t for t in self.top_up_bonus if t.min_minor > amount_minor and t.bonus_bps > reached]
        return min(above, key=lambda t: t.min_minor) if above else None

    def quote(self, amount_minor: int, principal_minor: int) -> Quote:
        """What a top-up of ``amount_minor`` would earn for a member holding ``principal_minor``, the next tier up, and
        how much principal the cap leaves room for (zero when a refund put the member past it)."""
        up = self.next_tier(amount_minor)
        return Quote(amount_minor, self.bonus(amount_minor), self.bonus_bps(amount_minor),
                     None if up is None else NextTier(up.min_minor, up.bonus_bps, up.min_minor - amount_minor,
                                                      self.bonus(up.min_minor)),
                     principal_minor, max(0, self.max_principal_minor - principal_minor), self.max_principal_minor)

    def to_dict(self) -> dict[str, Any]:
        return {"top_up_bonus": [{"min_minor": t.min_minor, "bonus_bps": t.bonus_bps} for t in self.top_up_bonus],
                "max_principal_minor": self.max_principal_minor}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WalletSettings:
        return cls(tuple(Tier(int(t["min_minor"]), int(t["bonus_bps"])) for t in data.get("top_up_bonus") or []),
                   int(data["max_principal_minor"]))


@dataclass(frozen=True)
class NextTier:
    min_minor: int
    bonus_bps: int
    more_minor: int  # what the top-up would need to reach it
    bonus_minor: int  # what a top-up of exactly min_minor earns


@dataclass(frozen=True)
class Quote:
    """A top-up previewed at the till, before the member pays: written nowhere."""

    amount_minor: int
    bonus_minor: int
    bonus_bps: int
    next: NextTier | None
    principal_minor: int
    room_minor: int
    max_principal_minor: int

    @property
    def fits(self) -> bool:
        return self.amount_minor <= self.room_minor


def settings_problems(settings: WalletSettings) -> list[tuple[list[str | int], str]]:
    """What is wrong with the settings (where, what); empty when they are fine."""
    found: list[tuple[list[str | int], str]] = []
    seen: set[int] = set()
    for n, tier in enumerate(settings.top_up_bonus):
        for name in ("min_minor", "bonus_bps"):
            value = getattr(tier, name)
            if isinstance(value, bool) or not isinstance(value, int):
                found.append((["body", "top_up_bonus", n, name], f"{name} is a whole number"))
        if not 0 <= tier.bonus_bps <= BPS:
            found.append((["body", "top_up_bonus", n, "bonus_bps"], "bonus_bps is between 0 and 10000"))
        if tier.min_minor <= 0:
            found.append((["body", "top_up_bonus", n, "min_minor"], "min_minor is above 0"))
        if tier.min_minor in seen:
            found.append((["body", "top_up_bonus", n, "min_minor"], "each tier's min_minor is distinct"))
        seen.add(tier.min_minor)
    if isinstance(settings.max_principal_minor, bool) or not isinstance(settings.max_principal_minor, int) \
            or settings.max_principal_minor < 0:
        found.append((["body", "max_principal_minor"], "max_principal_minor is a whole number, 0 or more"))
    return found


# The defaults a fresh install runs (API-additions.md): 5,000.00 → 5 %, 3,000.00 → 3 %, 2,000.00 → 1 %; cap 5,000.00.
DEFAULT_SETTINGS = WalletSettings((Tier(500000, 500), Tier(300000, 300), Tier(200000, 100)), 500000)


@dataclass(frozen=True)
class Parts:
    """An amount of stored value as its two parts."""

    principal_minor: int = 0
    bonus_minor: int = 0

    @property
    def total(self) -> int:
        return self.principal_minor + self.bonus_minor


def held(view: BalanceView | None) -> Parts:
    """What a member's stored value holds now."""
    if view is None:
        return Parts()
    return Parts(view[PRINCIPAL], view[BONUS])


def payment_split(paid_minor: int, holding: Parts) -> Parts:
    """The parts a payment of ``paid_minor`` takes: ``floor(p × bonus / (principal + bonus))`` of bonus, the rest of
    principal (each within what is held: ``p ≤ principal + bonus``). ``InsufficientFunds`` when it is more than held."""
    if paid_minor > holding.total:
        raise InsufficientFunds(f"{paid_minor} to pay from stored value, {holding.total} held "
                                f"({holding.principal_minor} principal, {holding.bonus_minor} bonus).")
    bonus = paid_minor * holding.bonus_minor // holding.total if holding.total else 0
    return Parts(paid_minor - bonus, bonus)


def given_back(paid: Parts, amount_minor: int, refunded_before: int, refund_minor: int) -> Parts:
    """What a refund of ``refund_minor`` (after ``refunded_before`` of a purchase of ``amount_minor``) gives back of
    each part: in total after it, ``floor(part × refunded / amount)``."""
    after = refunded_before + refund_minor

    def share(part: int) -> int:
        return part * after // amount_minor - part * refunded_before // amount_minor

    return Parts(share(paid.principal_minor), share(paid.bonus_minor))


def postings(holder: str, parts: Parts, sign: int, kind: EntryKind, source: Source) -> list[Posting]:
    """A line per non-zero part, ``sign`` 1 into stored value, -1 out of it."""
    return [Posting(holder, STORED_VALUE.name, sign * amount, bucket, kind, source)
            for bucket, amount in ((PRINCIPAL, parts.principal_minor), (BONUS, parts.bonus_minor)) if amount]


def top_up_key(top_up_id: str) -> str:
    return f"top_up/{top_up_id}"


def withdrawal_key(member_id: str, withdrawal_id: str) -> str:
    return f"withdrawal/{member_id}/{withdrawal_id}"


@dataclass(frozen=True)
class TopUpRecorded:
    top_up_id: str
    member_id: str
    amount_minor: int
    bonus_minor: int
    currency: str
    balances: Mapping[str, BalanceView] = field(default_factory=dict)


@dataclass(frozen=True)
class WithdrawalRecorded:
    withdrawal_id: str
    member_id: str
    principal_minor: int
    bonus_forfeited_minor: int
