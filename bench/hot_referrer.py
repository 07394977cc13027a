"""The hot referrer: one member credited on every purchase in a large subtree.

Every credit to referrer R writes, in the purchase's one transaction: R's Accounts item (a Put of the
whole item, which carries one pending lot per hour in which a hold ends) and R's
new entries in the Ledger table under R's partition key (the credit, plus a release pair whenever some
of R's lots have matured since R's last write, which for a busy referrer is almost every time). Entries
are keyed by seq, so no index copies them (and no LSI item collection limits a chain's length).
Transactional writes count twice. The items are built with
the adapter's own mapping (``account_item``/``entry_item``), with production-shaped ids, and sized with
``bench.sizes``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench.sizes import INDEX_OVERHEAD, MAX_ITEM, item_size, read_units, write_units

PARTITION_WCU = 1000  # write units per second one partition serves
PARTITION_RCU = 3000  # read units per second one partition serves (strongly consistent)
HOLD = timedelta(days=7)
MAX_HOLD = timedelta(days=365)  # the largest hold_days the program accepts
MEMBER = "5f0c6a1e-2b7d-4c8e-9a3f-1d2e3f4a5b6c"  # a Cognito sub
BUYER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
ORDER = "POS-2026-000123"
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def account_bytes(lots: int) -> int:
    """Size of R's Accounts item carrying ``lots`` pending lots (one per hour, realistic balances)."""
    from loyalty.ledger.accounts import Account, Balance
    from loyalty.ledger.dynamodb import account_item
    from loyalty.shared.clock import to_rfc3339
    from loyalty.shared.dynamo import to_item

    last = (NOW + MAX_HOLD).replace(minute=0)
    lot_map = {to_rfc3339(last - timedelta(hours=i)): 1_200 + i % 900 for i in range(lots)}
    pending = sum(lot_map.values())
    points = Balance({"pending": pending, "available": 123_456}, lot_map, earned=987_654, from_referrals=876_543)
    account = Account(MEMBER, seq=40_000, head_hash="ab" * 32, balances={"points": points})
    return item_size(to_item(account_item(account)))


def entry_bytes() -> dict[str, int]:
    """Sizes of R's entries for one credit: the referral credit and the two sides of a release."""
    from loyalty.ledger.accounts import Account, Balance
    from loyalty.ledger.assets import Bucket, EntryKind
    from loyalty.ledger.dynamodb import entry_item
    from loyalty.ledger.entries import Source
    from loyalty.ledger.posting import Posting, post
    from loyalty.shared.clock import to_rfc3339
    from loyalty.shared.dynamo import to_item

    matured = to_rfc3339(NOW.replace(minute=0))
    points = Balance({"available": 1000, "pending": 50}, {matured: 50}, earned=1050)
    account = Account(MEMBER, seq=40_000, head_hash="ab" * 32, balances={"points": points})
    credit = Posting(MEMBER, "points", 12, Bucket.PENDING, EntryKind.REFERRAL, Source("purchase", ORDER), level=1,
                     rule_version=3, available_at=to_rfc3339((NOW + HOLD).replace(minute=0)))
    result = post(account, [credit], NOW)
    sizes = {e.kind.value + ("/" + e.bucket.value if e.kind is EntryKind.RELEASE else ""):
             item_size(to_item(entry_item(e))) for e in result.entries}
    return sizes


def analyse() -> dict[str, Any]:
    entries = entry_bytes()
    credit = entries["referral"]
    release = [v for k, v in entries.items() if k.startswith("release")]
    base = account_bytes(0)
    per_lot = (account_bytes(1000) - base) / 1000
    max_lots = int((MAX_ITEM - base) // per_lot)
    # Holds end on the hour: what is pending at any moment ends within the next hold, one lot per hour.
    week_lots, year_lots = int(HOLD / timedelta(hours=1)), int(MAX_HOLD / timedelta(hours=1))

    def ledger_wcu(with_release: bool) -> int:
        sizes = [credit, *(release if with_release else [])]
        return sum(write_units(s, transactional=True) for s in sizes)

    rows = []
    for lots in (0, 24, week_lots, 1_000, year_lots):
        size = account_bytes(lots)
        account_wcu = write_units(size, transactional=True)
        rows.append({
            "lots": lots, "account_bytes": size, "account_wcu": account_wcu,
            "account_rcu": read_units(size), "per_partition_credits_per_s": PARTITION_WCU / account_wcu,
            "credits_per_s_at_read_limit": PARTITION_RCU / read_units(size),
        })
    ledger_plain, ledger_release = ledger_wcu(False), ledger_wcu(True)
    per_credit_storage = credit + INDEX_OVERHEAD + sum(r + INDEX_OVERHEAD for r in release)
    return {
        "entries": entries, "account_base_bytes": base, "bytes_per_lot": per_lot, "max_lots": max_lots,
        "week_lots": week_lots, "week_account_bytes": account_bytes(week_lots),
        "year_lots": year_lots, "year_account_bytes": account_bytes(year_lots),
        "ledger_wcu_per_credit": ledger_plain, "ledger_wcu_per_credit_with_release": ledger_release,
        "ledger_credits_per_s": PARTITION_WCU / ledger_plain,
        "ledger_credits_per_s_with_release": PARTITION_WCU / ledger_release,
        "accounts": rows, "storage_bytes_per_credit": per_credit_storage,
    }


def report(result: dict[str, Any]) -> list[str]:
    lines = [
        "entry sizes (bytes): " + ", ".join(f"{k} {v}" for k, v in result["entries"].items()),
        f"Accounts item: {result['account_base_bytes']} B + {result['bytes_per_lot']:.1f} B per pending lot; "
        f"holds end on the hour: a 7-day hold keeps ≤ {result['week_lots']} lots ({result['week_account_bytes']:,} B), "
        f"the longest (365-day) hold ≤ {result['year_lots']:,} lots ({result['year_account_bytes']:,} B); "
        f"400 KB would hold {result['max_lots']:,} — whatever the purchase rate",
        f"Ledger partition: {result['ledger_wcu_per_credit']} WCU per credit "
        f"({result['ledger_wcu_per_credit_with_release']} with a release pair) → "
        f"{result['ledger_credits_per_s']:.0f} ({result['ledger_credits_per_s_with_release']:.0f}) credits/s "
        f"at {PARTITION_WCU} WCU/s",
        f"Ledger storage: {result['storage_bytes_per_credit']:,} B per credit with a release pair (no index copies "
        f"them, so no item collection limit: a chain may grow without bound)",
        "  lots  account bytes  WCU/credit  RCU/read  credits/s (1,000 WCU/s)  credits/s (3,000 RCU/s)",
    ]
    for row in result["accounts"]:
        lines.append(f"  {row['lots']:>6,} {row['account_bytes']:>13,} {row['account_wcu']:>11} "
                     f"{row['account_rcu']:>9.0f} {row['per_partition_credits_per_s']:>24.1f} "
                     f"{row['credits_per_s_at_read_limit']:>24.0f}")
    return lines
