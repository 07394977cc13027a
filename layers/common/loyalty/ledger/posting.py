"""Posting: one business event's lines for one holder become entries on its chain and a new account.

``post`` is a pure function from an account and the postings of one event to the new account and the
sealed entries to append; it knows assets only through their declarations (``ledger.assets``). Before
the event's own lines it releases every held lot whose time has come (a ``release`` pair per asset:
out of the held bucket, into the one the hold releases to) and records the points whose date has passed (one
``expiry`` entry per asset, ``ledger.expiry``), so the chain records every move a read already showed. Points that
arrive in a bucket that expires are dated by the programme's expiry rule as they arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from loyalty.ledger.accounts import Account, Balance
from loyalty.ledger.assets import ASSETS, POINTS, Asset, Bucket, EntryKind, asset
from loyalty.ledger.entries import Entry, Source, lot_of
from loyalty.ledger.expiry import Expiry, dated_parts, due, once, settle
from loyalty.shared.clock import parse_rfc3339, to_rfc3339


class LedgerInvariantError(AssertionError):
    """A posting would break the ledger's own rules (a bug, never a client's fault)."""


@dataclass(frozen=True)
class Posting:
    """One line a business event asks to write for one holder, in one bucket of one asset.

    ``available_at`` names the lot for a posting to a held bucket: the lot a credit creates, or the lot
    a reversal of a still-held credit comes out of.
    """

    holder: str
    asset: str
    amount: int
    bucket: Bucket
    kind: EntryKind
    source: Source
    level: int | None = None
    rule_version: int | None = None
    available_at: str | None = None
    parts: tuple[tuple[str, int], ...] | None = None  # the events a batched line carries (ledger.deferred)
    review: str | None = None  # held for review: its lot is the review's (docs/screening.md)
    rule: str | None = None  # the earning rule that made it, and its multiplier (``Entry.rule``)
    multiplier_bps: int | None = None
    expires: tuple[tuple[str, int], ...] | None = None  # dated parts of a credit; the lots an expiry ends

    @property
    def lot(self) -> str | None:
        return lot_of(self.available_at, self.review)

    @property
    def is_time_release(self) -> bool:
        """A line of the release pair a matured lot makes (not a review's decision, which moves its own lot)."""
        return self.kind is EntryKind.RELEASE and self.source.type == "release"


@dataclass(frozen=True)
class PostResult:
    account: Account
    entries: list[Entry]
    released: Mapping[str, int]  # per asset: held amounts that matured and were released by this write
    expired: Mapping[str, int]  # per asset: dated amounts whose time had come, recorded by this write

    def freed(self, name: str) -> int:
        """What this write's own release and expiry add to the asset's free bucket before its lines (a spend's
        no-overdraft condition is on the stored bucket less this)."""
        return self.released.get(name, 0) - self.expired.get(name, 0)


@dataclass
class _Running:
    """A balance while an event is posted."""

    buckets: dict[str, int]
    lots: dict[str, int]
    earned: int
    from_referrals: int
    dated: dict[str, int]

    @classmethod
    def of(cls, balance: Balance, declared: Asset) -> _Running:
        buckets = {str(b): balance[b] for b in declared.buckets}
        return cls(buckets, dict(balance.lots), balance.earned, balance.from_referrals, dict(balance.dated))

    def frozen(self) -> Balance:
        return Balance(dict(self.buckets), dict(self.lots), self.earned, self.from_referrals, dict(self.dated))


def entry_id(line: Posting, several_buckets: bool) -> str:
    """Derived from the source event, the holder and (for assets other than points, which came first) the
    asset: the same event can never write the same line twice. When one event moves one asset in several
    buckets of a holder (a release pair, a payment from principal and bonus), the bucket tells them apart."""
    found = f"{line.source.type}/{line.source.id}/{line.holder}"
    if line.asset != POINTS.name:
        found += f"/{line.asset}"
    if not several_buckets:
        return found
    # A review's approval moves the review's lot to the hold's (both pending): the line out of the review's lot is
    # told apart by that.
    return f"{found}/review" if line.review is not None else f"{found}/{line.bucket}"


def _releases(account: Account, now: datetime, expiry: Expiry
              ) -> tuple[list[Posting], dict[str, int], dict[str, list[str]]]:
    """The release pair of every asset with matured lots, what each releases, and the lots it empties. Points
    released into a bucket that expires are dated from the instant each lot became free."""
    lines: list[Posting] = []
    released: dict[str, int] = {}
    emptied: dict[str, list[str]] = {}
    for name in sorted(account.balances):
        declared, balance = asset(name), account.balances[name]
        if declared.hold is None:
            continue
        matured = balance.matured_lots(now)
        amount = sum(balance.lots[at] for at in matured)
        if not amount:
            continue
        last = matured[-1]  # the pair is named by the latest hold it ends: unique, since later lots end later
        source = Source("release", last)
        dated = dated_parts(((parse_rfc3339(at), balance.lots[at]) for at in matured), expiry) \
            if declared.expires == declared.hold.releases_to else None
        lines += [Posting(account.holder, name, -amount, declared.hold.bucket, EntryKind.RELEASE, source,
                          available_at=last),
                  Posting(account.holder, name, amount, declared.hold.releases_to, EntryKind.RELEASE, source,
                          available_at=last, expires=dated)]
        released[name], emptied[name] = amount, matured
    return lines, released, emptied


def _expiries(holder: str, running: Mapping[str, _Running], now: datetime) -> tuple[list[Posting], dict[str, int]]:
    """One ``expiry`` line per asset whose dated lots' time has come, naming the lots it ends (its source: the
    latest of them, like a release)."""
    lines: list[Posting] = []
    expired: dict[str, int] = {}
    for name in sorted(running):
        declared = asset(name)
        ended = due(running[name].dated, now) if declared.expires is not None else ()
        if not ended or declared.expires is None:
            continue
        expired[name] = sum(amount for _, amount in ended)
        lines.append(Posting(holder, name, -expired[name], declared.expires, EntryKind.EXPIRY,
                             Source("expiry", ended[-1][0]), expires=ended))
    return lines, expired


def _dated(line: Posting, now: datetime, expiry: Expiry) -> Posting:
    """An event's credit into a bucket that expires, dated from now (a release is dated by its lots)."""
    declared = asset(line.asset) if line.asset in ASSETS else None
    if declared is None or declared.expires != line.bucket or line.amount <= 0 or line.expires is not None \
            or line.kind in (EntryKind.RELEASE, EntryKind.EXPIRY):
        return line
    return replace(line, expires=dated_parts([(now, line.amount)], expiry))


def post(account: Account, postings: Sequence[Posting], now: datetime,
         expiry: Expiry = None) -> PostResult:
    """Apply one business event's postings for one holder: release matured lots, record what has expired, then
    append. ``expiry`` is the programme's rule (None: nothing new is dated; points already dated keep their date).

    Returns the new account and the sealed entries, chained onto the account's head. Pure.
    """
    if any(p.holder != account.holder for p in postings):
        raise LedgerInvariantError("postings for another holder")
    expiry = once(expiry)
    releases, released, emptied = _releases(account, now, expiry)
    running: dict[str, _Running] = {}
    for name, balance in account.balances.items():
        running[name] = _Running.of(balance, asset(name))
        for at in emptied.get(name, ()):
            running[name].lots.pop(at)
    chain = _Chain(account, now)
    chain.append(releases, running)
    expiries, expired = _expiries(account.holder, running, now)
    chain.append(expiries, running)
    chain.append([_dated(p, now, expiry) for p in postings], running)
    if len({e.entry_id for e in chain.entries}) != len(chain.entries):
        raise LedgerInvariantError("one event wrote the same line twice")
    balances = {name: r.frozen() for name, r in sorted(running.items())}
    return PostResult(Account(account.holder, chain.seq, chain.head, balances, account.marks, account.settled),
                      chain.entries, released, expired)


class _Chain:
    """The entries one write appends, sealed onto the account's head as its lines are applied."""

    def __init__(self, account: Account, now: datetime) -> None:
        self.holder, self.seq, self.head = account.holder, account.seq, account.head_hash
        self.created_at = to_rfc3339(now)
        self.entries: list[Entry] = []
        self._groups: Counter[tuple[Source, str]] = Counter()

    def append(self, lines: Sequence[Posting], running: dict[str, _Running]) -> None:
        self._groups.update((line.source, line.asset) for line in lines)
        for line in lines:
            try:
                declared = asset(line.asset)
            except KeyError:
                raise LedgerInvariantError(f"no asset {line.asset!r}") from None
            if line.bucket not in declared.buckets:
                raise LedgerInvariantError(f"{line.asset} has no bucket {line.bucket}")
            _apply(line, declared, running.setdefault(line.asset, _Running.of(Balance(), declared)))
            self.seq += 1
            entry = Entry(
                holder=self.holder, entry_id=entry_id(line, self._groups[(line.source, line.asset)] > 1),
                seq=self.seq, asset=line.asset, amount=line.amount, bucket=line.bucket, kind=line.kind,
                level=line.level, source=line.source, rule_version=line.rule_version, created_at=self.created_at,
                available_at=line.available_at, prev_hash=self.head, parts=line.parts, review=line.review,
                rule=line.rule, multiplier_bps=line.multiplier_bps, expires=line.expires,
            ).sealed()
            self.head = entry.hash
            self.entries.append(entry)


def _apply(line: Posting, declared: Asset, balance: _Running) -> None:
    """One line's effect on its balance, checked against what the asset allows."""
    if declared.hold is not None and line.bucket == declared.hold.bucket:
        lot = line.lot
        if lot is None:
            raise LedgerInvariantError("a posting to a held bucket names its lot")
        if not line.is_time_release:
            remaining = balance.lots.get(lot, 0) + line.amount
            if remaining < 0:
                raise LedgerInvariantError("a lot cannot go below zero")
            if remaining:
                balance.lots[lot] = remaining
            else:
                balance.lots.pop(lot, None)
    balance.buckets[line.bucket] += line.amount
    if line.amount < 0 and balance.buckets[line.bucket] < 0 and line.bucket not in declared.may_go_below_zero:
        raise LedgerInvariantError(f"{line.asset} {line.bucket} cannot go below zero")
    if declared.expires == line.bucket:
        _date(line, balance)
    if declared.earned and line.kind not in declared.not_earned:
        balance.earned += line.amount
    if declared.tallies_referrals and line.level is not None and line.level >= 1:
        balance.from_referrals += line.amount


def _date(line: Posting, balance: _Running) -> None:
    """A line's effect on the dated lots of a bucket that expires (``ledger.expiry``)."""
    if line.kind is EntryKind.EXPIRY:
        if any(balance.dated.get(at) != amount for at, amount in line.expires or ()) \
                or -line.amount != sum(amount for _, amount in line.expires or ()):
            raise LedgerInvariantError("an expiry ends exactly the dated lots it names")
        for at, _ in line.expires or ():
            balance.dated.pop(at)
    elif line.expires is not None:
        if line.amount <= 0 or sum(amount for _, amount in line.expires) > line.amount:
            raise LedgerInvariantError("only a credit is dated, and no more than it brings")
        for at, amount in line.expires:
            balance.dated[at] = balance.dated.get(at, 0) + amount
    balance.dated = settle(balance.buckets[line.bucket], balance.dated)
