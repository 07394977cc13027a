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
from loyalty.ledger.entries import GENESIS_HASH, Entry
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
    problems: list[str] = []
    first_invalid: int | None = None
    expected_prev, position = GENESIS_HASH, 0
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    earned: dict[str, int] = defaultdict(int)
    from_referrals: dict[str, int] = defaultdict(int)
    lots: dict[str, dict[str, int]] = defaultdict(dict)
    unknown: set[str] = set()
    misreleased: list[str] = []
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
        try:
            declared = asset(entry.asset)
        except KeyError:
            unknown.add(entry.asset)
            continue
        sums[entry.asset][entry.bucket] += entry.amount
        if declared.earned and entry.kind not in declared.not_earned:
            earned[entry.asset] += entry.amount
        if declared.tallies_referrals and entry.level is not None and entry.level >= 1:
            from_referrals[entry.asset] += entry.amount
        if declared.hold is not None and entry.bucket == declared.hold.bucket:
            problem = _hold(lots[entry.asset], entry)
            if problem:
                misreleased.append(problem)
    if first_invalid is None and (account.seq != position or account.head_hash != expected_prev):
        if account.seq > position:  # entries missing after the last one found
            first_invalid = position + 1
        elif account.seq < position:  # entries appended behind the account's back
            first_invalid = account.seq + 1
        else:  # the last entry was rewritten with a recomputed hash
            first_invalid = position
        problems.append(f"account head is seq {account.seq} ({account.head_hash[:12]}…), "
                        f"the chain ends at seq {position} ({expected_prev[:12]}…)")
    mismatched = [f"entries of an unknown asset {name!r}" for name in sorted(unknown)] + misreleased
    for name in sorted({*account.balances, *sums} - unknown):
        mismatched += _compare(name, account, sums[name], earned[name], from_referrals[name], lots[name])
    problems += mismatched
    return ChainReport(
        holder=account.holder,
        entries=position,
        chain_valid=first_invalid is None,
        balances_match=not mismatched,
        head_hash=expected_prev,
        first_invalid_seq=first_invalid,
        problems=problems,
    )


def _hold(lots: dict[str, int], entry: Entry) -> str | None:
    """Replay one entry of a held bucket on the lots: a credit or a reversal moves its own lot; a release
    empties every lot up to the one it names (the latest it ends) and must release exactly what they hold."""
    if entry.available_at is None:
        return f"seq {entry.seq}: an entry of a held bucket names no lot"
    if entry.kind is not EntryKind.RELEASE:
        lots[entry.available_at] = lots.get(entry.available_at, 0) + entry.amount
        return None
    try:
        last = parse_rfc3339(entry.available_at)
        ended = [at for at in lots if parse_rfc3339(at) <= last]
    except ValueError:
        return f"seq {entry.seq}: a release names no instant"
    released = sum(lots.pop(at) for at in ended)
    if released != -entry.amount:
        return f"seq {entry.seq}: releases {-entry.amount}, the lots it ends hold {released}"
    return None


def _compare(name: str, account: Account, sums: dict[str, int], earned: int, from_referrals: int,
             lots: dict[str, int]) -> list[str]:
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
    return found


def _lots(lots: dict[str, int]) -> str:
    return "{" + ", ".join(f"{at}: {amount}" for at, amount in sorted(lots.items())) + "}"
