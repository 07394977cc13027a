"""The append-only points ledger: entries, the per-member hash chain, and the balance projection.

Every change to a balance is an ``Entry``. Entries are never updated or deleted; a correction is a
new entry. Each member has one chain: entry ``seq`` counts 1, 2, 3 … without gaps, and each entry's
``hash`` covers its content and the previous entry's hash, so a deleted, edited, reordered or
inserted entry breaks the chain at exactly that point.

An ``Account`` is the projection kept beside the entries: the head of the chain (seq, hash) and the
balances, always equal to the sum of the entries. Pending points are held in *lots* keyed by the
instant they become available; a lot whose time has come counts as available on every read
(``Account.view``) and is turned into a pair of ``release`` entries by the next write for that member,
so no job has to run for points to become spendable.

Nothing here knows about DynamoDB or HTTP: ``post`` is a pure function from an account and the
postings of one business event to the new account and the entries to append.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from loyalty.clock import parse_rfc3339, to_rfc3339

GENESIS_HASH = "0" * 64
POINTS = "points"


class Kind(StrEnum):
    PURCHASE = "purchase"
    REFERRAL = "referral"
    RELEASE = "release"
    REFUND = "refund"
    REDEMPTION = "redemption"
    ADJUSTMENT = "adjustment"


class Bucket(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"


# Kinds that are not earnings: spending, and moving points between buckets.
_NOT_EARNED = frozenset({Kind.REDEMPTION, Kind.RELEASE})


class LedgerInvariantError(AssertionError):
    """A posting would break the ledger's own rules (a bug, never a client's fault)."""


@dataclass(frozen=True)
class Source:
    """The business event an entry comes from: ``purchase``/``refund``/``redemption``/``adjustment``/``release``."""

    type: str
    id: str


@dataclass(frozen=True)
class Entry:
    """One immutable line of a member's ledger."""

    member_id: str
    entry_id: str
    seq: int
    asset: str
    amount: int
    bucket: Bucket
    kind: Kind
    level: int | None
    source: Source
    rule_version: int | None
    created_at: str
    available_at: str | None
    prev_hash: str
    hash: str = ""

    def canonical_content(self) -> bytes:
        """The bytes the hash covers: every field but ``hash``, as sorted compact UTF-8 JSON."""
        return canonical_json(self.content())

    def content(self) -> dict[str, Any]:
        """Every field but ``hash``, as JSON values: what the hash covers and what the API shows."""
        return {
            "member_id": self.member_id,
            "entry_id": self.entry_id,
            "seq": self.seq,
            "asset": self.asset,
            "amount": self.amount,
            "bucket": str(self.bucket),
            "kind": str(self.kind),
            "level": self.level,
            "source": {"type": self.source.type, "id": self.source.id},
            "rule_version": self.rule_version,
            "created_at": self.created_at,
            "available_at": self.available_at,
            "prev_hash": self.prev_hash,
        }

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical_content()).hexdigest()

    def sealed(self) -> Entry:
        return replace(self, hash=self.computed_hash())


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8. Used for hashes and request fingerprints."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class PointsBalance:
    """A member's points, per bucket, plus the pending lots and two running totals.

    ``lifetime_earned`` sums every entry except redemptions and releases (earned, net of reversals
    and adjustments); ``from_referrals`` sums referral credits net of their refund reversals.
    """

    available: int = 0
    pending: int = 0
    lifetime_earned: int = 0
    from_referrals: int = 0
    lots: Mapping[str, int] = field(default_factory=dict)

    def matured(self, now: datetime) -> int:
        return sum(points for at, points in self.lots.items() if parse_rfc3339(at) <= now)


@dataclass(frozen=True)
class BalanceView:
    """Balances as the member sees them at an instant: lots whose hold has ended count as available."""

    available: int
    pending: int
    lifetime_earned: int
    from_referrals: int


@dataclass(frozen=True)
class Account:
    """The projection of one member's ledger: the chain head and the balances."""

    member_id: str
    seq: int = 0
    head_hash: str = GENESIS_HASH
    points: PointsBalance = field(default_factory=PointsBalance)

    def view(self, now: datetime) -> BalanceView:
        matured = self.points.matured(now)
        return BalanceView(
            available=self.points.available + matured,
            pending=self.points.pending - matured,
            lifetime_earned=self.points.lifetime_earned,
            from_referrals=self.points.from_referrals,
        )


@dataclass(frozen=True)
class Posting:
    """One line a business event asks to write for one member.

    ``available_at`` names the lot for a pending posting: the lot a credit creates or the lot a
    reversal of a still-pending credit comes out of.
    """

    member_id: str
    amount: int
    bucket: Bucket
    kind: Kind
    source: Source
    level: int | None = None
    rule_version: int | None = None
    available_at: str | None = None

    @property
    def entry_id(self) -> str:
        """Derived from the source event and the beneficiary: the same event can never write twice."""
        return f"{self.source.type}/{self.source.id}/{self.member_id}"


@dataclass(frozen=True)
class PostResult:
    account: Account
    entries: list[Entry]
    released: int  # pending points that matured and were released by this write


def post(account: Account, postings: Sequence[Posting], now: datetime) -> PostResult:
    """Apply one business event's postings for one member: release matured lots, then append.

    Returns the new account and the sealed entries, chained onto the account's head. Pure.
    """
    if any(p.member_id != account.member_id for p in postings):
        raise LedgerInvariantError("postings for another member")
    balance = account.points
    lots = dict(balance.lots)
    lines: list[Posting] = []
    matured_keys = sorted(at for at in lots if parse_rfc3339(at) <= now)
    released = sum(lots.pop(at) for at in matured_keys)
    if released:
        # Both sides of the move share the seq of the first, so the pair is identifiable as one release.
        release = Source("release", str(account.seq + 1))
        last = matured_keys[-1]
        lines += [
            Posting(account.member_id, -released, Bucket.PENDING, Kind.RELEASE, release, available_at=last),
            Posting(account.member_id, released, Bucket.AVAILABLE, Kind.RELEASE, release, available_at=last),
        ]
    lines += postings

    available, pending = balance.available, balance.pending
    earned, from_referrals = balance.lifetime_earned, balance.from_referrals
    seq, head = account.seq, account.head_hash
    created_at = to_rfc3339(now)
    entries: list[Entry] = []
    for line in lines:
        if line.bucket is Bucket.PENDING:
            if line.available_at is None:
                raise LedgerInvariantError("a pending posting names its lot")
            if line.kind is not Kind.RELEASE:
                remaining = lots.get(line.available_at, 0) + line.amount
                if remaining < 0:
                    raise LedgerInvariantError("a lot cannot go below zero")
                if remaining:
                    lots[line.available_at] = remaining
                else:
                    lots.pop(line.available_at, None)
            pending += line.amount
        else:
            available += line.amount
        if line.kind not in _NOT_EARNED:
            earned += line.amount
        if line.level is not None and line.level >= 1:
            from_referrals += line.amount
        seq += 1
        entry_id = line.entry_id if line.kind is not Kind.RELEASE else f"{line.entry_id}/{line.bucket}"
        entry = Entry(
            member_id=account.member_id,
            entry_id=entry_id,
            seq=seq,
            asset=POINTS,
            amount=line.amount,
            bucket=line.bucket,
            kind=line.kind,
            level=line.level,
            source=line.source,
            rule_version=line.rule_version,
            created_at=created_at,
            available_at=line.available_at,
            prev_hash=head,
        ).sealed()
        head = entry.hash
        entries.append(entry)

    new_balance = PointsBalance(available, pending, earned, from_referrals, lots)
    return PostResult(Account(account.member_id, seq, head, new_balance), entries, released)


@dataclass(frozen=True)
class ChainReport:
    """What verifying one member's ledger found."""

    member_id: str
    entries: int
    chain_valid: bool
    balances_match: bool
    head_hash: str
    first_invalid_seq: int | None
    problems: list[str]


def verify(account: Account, entries: Iterable[Entry]) -> ChainReport:
    """Check the chain (seq dense from 1, prev_hash links, each hash) and that balances equal the sums.

    ``entries`` must come in the order they are stored by seq. ``first_invalid_seq`` is the position
    of the first entry that is not what an intact chain would have there.
    """
    problems: list[str] = []
    first_invalid: int | None = None
    expected_prev, position = GENESIS_HASH, 0
    available = pending = earned = from_referrals = 0
    for entry in entries:
        position += 1
        if first_invalid is None:
            if entry.seq != position:
                # A deletion shows as a gap (seq k+1 at position k), an insertion as a repeat (seq k at k+1).
                first_invalid = min(position, entry.seq)
                problems.append(f"seq {first_invalid}: found seq {entry.seq} at position {position}")
            elif entry.prev_hash != expected_prev:
                first_invalid = position
                problems.append(f"seq {position}: prev_hash does not link to the previous entry")
            elif entry.computed_hash() != entry.hash:
                first_invalid = position
                problems.append(f"seq {position}: hash does not match the content")
        expected_prev = entry.hash
        if entry.bucket is Bucket.PENDING:
            pending += entry.amount
        else:
            available += entry.amount
        if entry.kind not in _NOT_EARNED:
            earned += entry.amount
        if entry.level is not None and entry.level >= 1:
            from_referrals += entry.amount
    if first_invalid is None and (account.seq != position or account.head_hash != expected_prev):
        if account.seq > position:  # entries missing after the last one found
            first_invalid = position + 1
        elif account.seq < position:  # entries appended behind the account's back
            first_invalid = account.seq + 1
        else:  # the last entry was rewritten with a recomputed hash
            first_invalid = position
        problems.append(f"account head is seq {account.seq} ({account.head_hash[:12]}…), "
                        f"the chain ends at seq {position} ({expected_prev[:12]}…)")
    balance = account.points
    sums = {
        "available": (available, balance.available),
        "pending": (pending, balance.pending),
        "lifetime_earned": (earned, balance.lifetime_earned),
        "from_referrals": (from_referrals, balance.from_referrals),
        "lots": (pending, sum(balance.lots.values())),
    }
    mismatched = [f"{name}: entries sum to {got}, stored {stored}"
                  for name, (got, stored) in sums.items() if got != stored]
    problems += mismatched
    return ChainReport(
        member_id=account.member_id,
        entries=position,
        chain_valid=first_invalid is None,
        balances_match=not mismatched,
        head_hash=expected_prev,
        first_invalid_seq=first_invalid,
        problems=problems,
    )
