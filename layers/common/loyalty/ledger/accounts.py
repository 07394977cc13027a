"""Accounts: the projection kept beside a holder's chain, always equal to the sum of its entries.

An ``Account`` is the head of the chain (seq, hash) and one ``Balance`` per asset the holder has ever
had: an amount per bucket, the hold's lots (amount by the instant it becomes free), the dated lots of a bucket
that expires (amount by the instant it expires, ``ledger.expiry``) and the asset's tallies. A lot whose time has
come counts as free on every read (``Account.view``) and is moved by the next write for that holder (``post``), so
no job has to run for held points to become spendable; points whose date has passed are, the same way, gone from
every read at once and recorded as an ``expiry`` entry by the next write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from loyalty.ledger.assets import Bucket, asset
from loyalty.ledger.entries import GENESIS_HASH, is_review_lot
from loyalty.ledger.expiry import Expiry, Lots, dated_parts, due, last_day, once, ordered, policy_of, settle
from loyalty.shared.clock import parse_rfc3339


@dataclass(frozen=True)
class Balance:
    """One asset in one account. ``earned`` is ``lifetime_earned``; ``from_referrals`` the sum of its
    entries at level 1 or deeper (for assets that declare those tallies; else 0)."""

    buckets: Mapping[str, int] = field(default_factory=dict)
    lots: Mapping[str, int] = field(default_factory=dict)
    earned: int = 0
    from_referrals: int = 0
    dated: Mapping[str, int] = field(default_factory=dict)  # the bucket that expires: amount by instant it expires

    def __getitem__(self, bucket: str) -> int:
        return self.buckets.get(bucket, 0)

    def matured_lots(self, now: datetime) -> list[str]:
        """The lots whose hold has ended by ``now``, oldest first (a review's lot waits for its decision)."""
        return sorted((at for at in self.lots if not is_review_lot(at) and parse_rfc3339(at) <= now), key=parse_rfc3339)

    def matured(self, now: datetime) -> int:
        """What the lots whose hold has ended by ``now`` hold."""
        return sum(self.lots[at] for at in self.matured_lots(now))


@dataclass(frozen=True)
class BalanceView:
    """A balance as the holder sees it at an instant: lots whose hold has ended count as released. ``queued``
    is what other events have queued for the holder and the poster has not posted yet (not in the buckets)."""

    buckets: Mapping[str, int]
    earned: int
    from_referrals: int
    queued: int | None = None  # None: not looked up
    expiring: Lots = ()  # the dated lots still to expire, oldest first (ledger.expiry) …
    zone: str = "UTC"  # … and the time zone whose local days they end on (the programme's)

    def expiring_on(self) -> list[tuple[int, date]]:
        """What expires, by the local date at whose end it does, oldest first."""
        return [(amount, last_day(at, self.zone)) for at, amount in self.expiring]

    def __getitem__(self, bucket: str) -> int:
        return self.buckets.get(bucket, 0)


@dataclass(frozen=True)
class Account:
    """The projection of one holder's ledger: the chain head, a balance per asset, and the poster's marks: per
    lane of the holder's queue, the stream position of the last deferred posting applied (``ledger.deferred``); and
    the decisions of its reviews (``settled``: review id → ``approved`` or ``rejected``, docs/screening.md), which
    tell the poster where a credit or reversal that names a decided review goes."""

    holder: str
    seq: int = 0
    head_hash: str = GENESIS_HASH
    balances: Mapping[str, Balance] = field(default_factory=dict)
    marks: Mapping[int, int] = field(default_factory=dict)
    settled: Mapping[str, str] = field(default_factory=dict)

    def balance(self, name: str) -> Balance:
        return self.balances.get(name) or Balance()

    def view(self, name: str, now: datetime, expiry: Expiry = None) -> BalanceView:
        """The asset's balance at ``now``, as the next write would leave it before its own lines: matured lots moved
        to the bucket the hold releases them to (dated by ``expiry``, the programme's rule), expired points gone."""
        declared, balance, expiry = asset(name), self.balance(name), once(expiry)
        buckets = {str(bucket): balance[bucket] for bucket in declared.buckets}
        dated = dict(balance.dated)
        if declared.hold is not None:
            matured = balance.matured_lots(now)
            amount = sum(balance.lots[at] for at in matured)
            buckets[declared.hold.bucket] -= amount
            buckets[declared.hold.releases_to] += amount
            if declared.expires == declared.hold.releases_to:
                for at, part in dated_parts(((parse_rfc3339(at), balance.lots[at]) for at in matured), expiry) or ():
                    dated[at] = dated.get(at, 0) + part
        if declared.expires is None:
            return BalanceView(buckets, balance.earned, balance.from_referrals)
        dated = settle(buckets[declared.expires], dated)
        for at, part in due(dated, now):
            buckets[declared.expires] -= part
            dated.pop(at)
        if not dated:
            return BalanceView(buckets, balance.earned, balance.from_referrals)
        policy = policy_of(expiry)
        return BalanceView(buckets, balance.earned, balance.from_referrals, expiring=ordered(dated),
                           zone=policy.zone if policy is not None else "UTC")

    def available(self, name: str, now: datetime, bucket: Bucket = Bucket.AVAILABLE,
                  expiry: Expiry = None) -> int:
        """What can be spent of an asset's bucket at ``now``."""
        return self.view(name, now, expiry)[bucket]
