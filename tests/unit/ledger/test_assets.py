"""One ledger for every asset: a new asset is a declaration, and ``post`` and ``verify`` follow it.

Stored value, bundle cards and commission have no endpoints yet (later issues add them); these tests post
them through the same engine the points go through, so the shape API-additions.md describes ("Ledger:
assets and holders") is known to be carried before any feature builds on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import ASSETS, BUNDLE, COMMISSION, POINTS, STORED_VALUE, Bucket, EntryKind, asset
from loyalty.ledger.entries import Entry, Source
from loyalty.ledger.posting import LedgerInvariantError, Posting, post
from loyalty.ledger.verification import verify
from loyalty.shared.clock import to_rfc3339

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
HELD = to_rfc3339(NOW + timedelta(days=7))


def line(asset_name: str, amount: int, bucket: Bucket, kind: EntryKind, source: Source, **extra: object) -> Posting:
    return Posting("dan", asset_name, amount, bucket, kind, source, **extra)  # type: ignore[arg-type]


def run(*events: tuple[list[Posting], datetime]) -> tuple[Account, list[Entry]]:
    entries: list[Entry]
    account, entries = Account("dan"), []
    for postings, at in events:
        result = post(account, postings, at)
        account, entries = result.account, entries + result.entries
    return account, entries


def test_the_declarations() -> None:
    assert asset("points") is POINTS and asset("stored_value") is STORED_VALUE and asset("commission") is COMMISSION
    assert asset("bundle:C-1") is BUNDLE and asset("bundle:C-2") is BUNDLE
    for name in ("bundle", "points:x", "gold", "bundle:"):
        assert name not in ASSETS
        with pytest.raises(KeyError):
            asset(name)
    assert POINTS.hold is not None and STORED_VALUE.hold is None
    assert Bucket.AVAILABLE in POINTS.may_go_below_zero and not STORED_VALUE.may_go_below_zero


def test_one_chain_across_assets_with_dense_seq() -> None:
    top_up = Source("top_up", "T-1")
    account, entries = run(
        ([line("points", 129, Bucket.PENDING, EntryKind.PURCHASE, Source("purchase", "O-1"), level=0,
               available_at=HELD)], NOW),
        ([line("stored_value", 500_000, Bucket.PRINCIPAL, EntryKind.TOP_UP, top_up),
          line("stored_value", 25_000, Bucket.BONUS, EntryKind.TOP_UP, top_up)], NOW),
        ([line("bundle:C-1", 6, Bucket.AVAILABLE, EntryKind.BUNDLE_SALE, Source("bundle_sale", "S-1"))], NOW),
    )
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert [e.entry_id for e in entries] == [
        "purchase/O-1/dan", "top_up/T-1/dan/stored_value/principal", "top_up/T-1/dan/stored_value/bonus",
        "bundle_sale/S-1/dan/bundle:C-1"]
    assert account.balance("stored_value")[Bucket.PRINCIPAL] == 500_000
    assert account.balance("stored_value")[Bucket.BONUS] == 25_000
    assert account.balance("bundle:C-1")[Bucket.AVAILABLE] == 6
    assert account.balance("points").earned == 129 and account.balance("stored_value").earned == 0
    report = verify(account, entries)
    assert (report.chain_valid, report.balances_match, report.entries) == (True, True, 4)


def test_money_and_uses_never_go_below_zero() -> None:
    account, _ = run(([line("stored_value", 100, Bucket.PRINCIPAL, EntryKind.TOP_UP, Source("top_up", "T"))], NOW))
    with pytest.raises(LedgerInvariantError):
        post(account, [line("stored_value", -101, Bucket.PRINCIPAL, EntryKind.PAYMENT, Source("purchase", "O"))], NOW)
    with pytest.raises(LedgerInvariantError):
        post(account, [line("bundle:C-1", -1, Bucket.AVAILABLE, EntryKind.BUNDLE_USE, Source("bundle_use", "U"))],
             NOW)
    spent = post(account, [line("stored_value", -100, Bucket.PRINCIPAL, EntryKind.PAYMENT, Source("purchase", "O"))],
                 NOW)
    assert spent.account.balance("stored_value")[Bucket.PRINCIPAL] == 0


def test_a_held_asset_other_than_points_is_released_the_same_way() -> None:
    commission = line("commission", 645, Bucket.PENDING, EntryKind.COMMISSION, Source("purchase", "O-1"),
                      available_at=HELD)
    payout = line("commission", -600, Bucket.AVAILABLE, EntryKind.PAYOUT, Source("payout", "P-1"))
    account, entries = run(([commission], NOW), ([payout], NOW + timedelta(days=8)))
    assert [(e.kind, e.bucket, e.amount, e.entry_id) for e in entries] == [
        (EntryKind.COMMISSION, Bucket.PENDING, 645, "purchase/O-1/dan/commission"),
        (EntryKind.RELEASE, Bucket.PENDING, -645, f"release/{HELD}/dan/commission/pending"),
        (EntryKind.RELEASE, Bucket.AVAILABLE, 645, f"release/{HELD}/dan/commission/available"),
        (EntryKind.PAYOUT, Bucket.AVAILABLE, -600, "payout/P-1/dan/commission")]
    balance = account.balance("commission")
    assert (balance[Bucket.AVAILABLE], balance[Bucket.PENDING], balance.earned) == (45, 0, 645)
    assert verify(account, entries).balances_match


def test_a_tampered_asset_name_is_reported_not_crashed_on() -> None:
    account, entries = run(([line("points", 5, Bucket.AVAILABLE, EntryKind.ADJUSTMENT, Source("adjustment", "A"))],
                            NOW))
    from dataclasses import replace

    report = verify(account, [replace(entries[0], asset="gold")])
    assert not report.chain_valid and not report.balances_match
    assert "entries of an unknown asset 'gold'" in report.problems


moves = st.lists(st.tuples(st.sampled_from(["points", "stored_value", "bundle:C-1", "commission"]),
                           st.integers(1, 1000), st.booleans(), st.integers(0, 5)), min_size=1, max_size=25)


@given(moves)
def test_every_asset_balance_equals_the_sum_of_its_entries(steps: list[tuple[str, int, bool, int]]) -> None:
    entries: list[Entry]
    account, entries, at = Account("dan"), [], NOW
    for n, (name, amount, take, days) in enumerate(steps):
        at += timedelta(days=days)
        declared = asset(name)
        bucket = declared.buckets[-1] if declared.hold is None else declared.hold.releases_to
        source = Source("step", str(n))
        if take:
            held = account.view(name, at)[bucket]
            amount = min(amount, held) if bucket not in declared.may_go_below_zero else amount
            if amount <= 0:
                continue
            posting = line(name, -amount, bucket, EntryKind.ADJUSTMENT, source)
        elif declared.hold is not None:
            posting = line(name, amount, declared.hold.bucket, EntryKind.ADJUSTMENT, source,
                           available_at=to_rfc3339(at + timedelta(days=2)))
        else:
            posting = line(name, amount, bucket, EntryKind.ADJUSTMENT, source)
        result = post(account, [posting], at)
        account, entries = result.account, entries + result.entries
    report = verify(account, entries)
    assert report.chain_valid and report.balances_match, report.problems
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    for name, balance in account.balances.items():
        for bucket in asset(name).buckets:
            assert balance[bucket] == sum(e.amount for e in entries if e.asset == name and e.bucket == bucket)
