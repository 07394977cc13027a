"""A purchase container reads the programme once per ``PROGRAM_CACHE_SECONDS``, not once per purchase."""

from __future__ import annotations

from typing import Any

from loyalty.purchases.dynamodb import DynamoPurchaseStore
from loyalty.shared.settings import Tables

TABLES = Tables(members="Members", accounts="Accounts", ledger="Ledger", operations="Operations", program="Program",
                queue="CreditQueue")
PROGRAM = {"pk": "current", "rules_version": 3, "points_per_currency_unit": 2, "referral_rates_bps": [1000],
           "hold_days": 7, "currency": "CNY"}


class Recording:
    def __init__(self) -> None:
        self.tables: list[set[str]] = []

    def batch_get(self, requests: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        self.tables.append(set(requests))
        return {"Program": [PROGRAM]} if "Program" in requests else {}


def test_the_programme_is_read_again_only_once_it_is_older_than_the_cache() -> None:
    db, now = Recording(), [100.0]
    store = DynamoPurchaseStore(db, TABLES, program_ttl=1.0, monotonic=lambda: now[0])  # type: ignore[arg-type]
    versions = []
    for moment in (100.0, 100.5, 100.99, 101.0, 101.2):
        now[0] = moment
        checkout = store.checkout("dan")
        versions.append(checkout.program.version if checkout.program else None)
    assert ["Program" in t for t in db.tables] == [True, False, False, True, False]
    assert versions == [3, 3, 3, 3, 3]


def test_without_a_cache_every_purchase_reads_the_programme() -> None:
    db = Recording()
    store = DynamoPurchaseStore(db, TABLES)  # type: ignore[arg-type]
    for _ in range(3):
        store.checkout("dan")
    assert all("Program" in t for t in db.tables)
