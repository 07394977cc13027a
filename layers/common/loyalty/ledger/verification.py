"""Verification: recompute a holder's chain and balances from its entries, and compare with the account.

Deliberately independent of ``post``: it walks the entries with its own arithmetic, so a bug in how
postings are applied shows as a mismatch here instead of being repeated. What the two share is the
assets' declarations (which buckets, holds and tallies an asset has): the rules, not the computation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import EntryKind, asset
from loyalty.ledger.entries import GENESIS_HASH, Entry, is_review_lot
from loyalty.ledger.expiry import settle
from loyalty.shared.clock import parse_rfc3339


@dataclass(frozen=True)
class ChainReport:
    """What verifying one holder's ledger found."""

    holder: str
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
    chain, sums = _Chain(), _Sums()
    for entry in entries:
        chain.add(entry)
        sums.add(entry)
    chain.end_at(account)
    mismatched = sums.against(account)
    return ChainReport(
        holder=account.holder,
        entries=chain.position,
        chain_valid=chain.first_invalid is None,
        balances_match=not mismatched,
        head_hash=chain.head,
        first_invalid_seq=chain.first_invalid,
        problems=chain.problems + mismatched,
    )


class _Chain:
    """The links: each entry at its position, linked to the one before, hashed over its content."""

    def __init__(self) -> None:
        self.position, self.head = 0, GENESIS_HASH
        self.first_invalid: int | None = None
        self.problems: list[str] = []

    def _broken(self, seq: int, problem: str) -> None:
        self.first_invalid = seq
        self.problems.append(f"seq {seq}: {problem}")

    def add(self, entry: Entry) -> None:
        self.position += 1
        if self.first_invalid is None:
            if entry.seq != self.position:
                # A deletion shows as a gap (seq k+1 at position k), an insertion as a repeat (seq k at k+1).
                self._broken(min(self.position, entry.seq), f"found seq {entry.seq} at position {self.position}")
            elif entry.prev_hash != self.head:
                self._broken(self.position, "prev_hash does not link to the previous entry")
            elif entry.computed_hash() != entry.hash:
                self._broken(self.position, "hash does not match the content")
        self.head = entry.hash

    def end_at(self, account: Account) -> None:
        """The chain must end where the account's head says."""
        if self.first_invalid is not None or (account.seq, account.head_hash) == (self.position, self.head):
            return
        if account.seq > self.position:  # entries missing after the last one found
            self.first_invalid = self.position + 1
        elif account.seq < self.position:  # entries appended behind the account's back
            self.first_invalid = account.seq + 1
        else:  # the last entry was rewritten with a recomputed hash
            self.first_invalid = self.position
        self.problems.append(f"account head is seq {account.seq} ({account.head_hash[:12]}…), "
                             f"the chain ends at seq {self.position} ({self.head[:12]}…)")


class _Sums:
    """What the entries add up to, per asset, by the assets' declarations."""

    def __init__(self) -> None:
        self.buckets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.earned: dict[str, int] = defaultdict(int)
        self.from_referrals: dict[str, int] = defaultdict(int)
        self.lots: dict[str, dict[str, int]] = defaultdict(dict)
        self.dated: dict[str, dict[str, int]] = defaultdict(dict)
        self.unknown: set[str] = set()
        self.misreleased: list[str] = []

    def add(self, entry: Entry) -> None:
        try:
            declared = asset(entry.asset)
        except KeyError:
            self.unknown.add(entry.asset)
            return
        self.buckets[entry.asset][entry.bucket] += entry.amount
        if entry.parts is not None and sum(amount for _, amount in entry.parts) != entry.amount:
            self.misreleased.append(f"seq {entry.seq}: its parts add up to {sum(a for _, a in entry.parts)}, "
                                    f"not its amount {entry.amount}")
        if declared.earned and entry.kind not in declared.not_earned:
            self.earned[entry.asset] += entry.amount
        if declared.tallies_referrals and entry.level is not None and entry.level >= 1:
            self.from_referrals[entry.asset] += entry.amount
        if declared.hold is not None and entry.bucket == declared.hold.bucket:
            problem = _hold(self.lots[entry.asset], entry)
            if problem:
                self.misreleased.append(problem)
        if declared.expires == entry.bucket:
            problem = _expiry(self.dated[entry.asset], entry)
            self.dated[entry.asset] = settle(self.buckets[entry.asset][entry.bucket], self.dated[entry.asset])
            if problem:
                self.misreleased.append(problem)

    def against(self, account: Account) -> list[str]:
        """Every way the account's stored balances differ from the sums."""
        mismatched = [f"entries of an unknown asset {name!r}" for name in sorted(self.unknown)] + self.misreleased
        for name in sorted({*account.balances, *self.buckets} - self.unknown):
            mismatched += _compare(name, account, self.buckets[name], self.earned[name], self.from_referrals[name],
                                   self.lots[name], self.dated[name])
        return mismatched


def _hold(lots: dict[str, int], entry: Entry) -> str | None:
    """Replay one entry of a held bucket on the lots: a credit, a reversal or a review's decision moves its own lot
    (a review's lot is ``review/<review_id>``); a release empties every lot up to the one it names (the latest it
    ends; a review's lot never ends by time) and must release exactly what they hold."""
    lot = entry.lot
    if lot is None:
        return f"seq {entry.seq}: an entry of a held bucket names no lot"
    if entry.kind is not EntryKind.RELEASE or entry.source.type != "release":
        lots[lot] = lots.get(lot, 0) + entry.amount
        return None
    try:
        last = parse_rfc3339(lot)
        ended = [at for at in lots if not is_review_lot(at) and parse_rfc3339(at) <= last]
    except ValueError:
        return f"seq {entry.seq}: a release names no instant"
    released = sum(lots.pop(at) for at in ended)
    if released != -entry.amount:
        return f"seq {entry.seq}: releases {-entry.amount}, the lots it ends hold {released}"
    return None


def _expiry(dated: dict[str, int], entry: Entry) -> str | None:
    """Replay one entry of a bucket that expires on its dated lots (``ledger.expiry``): a credit adds the parts it
    dates; an ``expiry`` ends exactly the lots it names, none of them before its time."""
    parts = entry.expires or ()
    if entry.kind is not EntryKind.EXPIRY:
        if parts and (entry.amount <= 0 or sum(amount for _, amount in parts) > entry.amount):
            return f"seq {entry.seq}: dates more than it brings"
        for at, amount in parts:
            dated[at] = dated.get(at, 0) + amount
        return None
    try:
        early = [at for at, _ in parts if parse_rfc3339(at) > parse_rfc3339(entry.created_at)]
    except ValueError:
        return f"seq {entry.seq}: an expiry names no instant"
    ended = sum(dated.pop(at, 0) for at, _ in parts)
    if early or ended != -entry.amount or ended != sum(amount for _, amount in parts):
        return f"seq {entry.seq}: expires {-entry.amount}, the dated lots it names hold {ended}" + (
            f" (and {', '.join(early)} had not come)" if early else "")
    return None


def _compare(name: str, account: Account, sums: dict[str, int], earned: int, from_referrals: int,
             lots: dict[str, int], dated: dict[str, int]) -> list[str]:
    """One asset's stored balance against what its entries add up to."""
    declared, stored = asset(name), account.balance(name)
    if name not in account.balances and not any(sums.values()):
        return []
    pairs = {f"{name}/{bucket}": (sums.get(bucket, 0), stored[bucket]) for bucket in declared.buckets}
    pairs.update({f"{name}/{bucket}": (amount, 0) for bucket, amount in sums.items() if bucket not in declared.buckets})
    if declared.earned:
        pairs[f"{name}/lifetime_earned"] = (earned, stored.earned)
    if declared.tallies_referrals:
        pairs[f"{name}/from_referrals"] = (from_referrals, stored.from_referrals)
    found = [f"{key}: entries sum to {got}, stored {kept}" for key, (got, kept) in pairs.items() if got != kept]
    if declared.hold is not None:
        expected = {at: amount for at, amount in lots.items() if amount}
        kept_lots = {at: amount for at, amount in stored.lots.items() if amount}
        if expected != kept_lots:
            found.append(f"{name}/lots: the entries leave {_lots(expected)}, stored {_lots(kept_lots)}")
    if declared.expires is not None and dict(stored.dated) != dated:
        found.append(f"{name}/dated: the entries leave {_lots(dated)}, stored {_lots(dict(stored.dated))}")
    return found


def _lots(lots: dict[str, int]) -> str:
    return "{" + ", ".join(f"{at}: {amount}" for at, amount in sorted(lots.items())) + "}"
