"""The benchmarks' counted figures (``make bench``) hold: a purchase stays at one read plus one transaction
above the floor, nothing but DynamoDB is called, and a hot referrer's account stays far from 400 KB; in the
flash-sale simulation, deferred credits (as built: lanes, the poster's batches, marks and deletes) keep a purchase at
one read and one transaction, and post each credit once.

The benchmark runs in a fresh interpreter, as ``make bench`` does (it installs counting hooks on boto3's
default session), and so does the flash sale's quick mode. Counts and outcomes only: times are printed by
``make bench``, never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
sys.path[:0] = ["layers/common", "."]
from bench import hot_referrer, units
print(json.dumps({"units": units.run(), "hotref": hot_referrer.analyse()}, default=str))
"""


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_measured_operation_succeeded_and_called_only_dynamodb(figures: dict[str, Any]) -> None:
    rows = figures["units"]["rows"]
    assert len(rows) >= 20
    for row in rows:
        assert 200 <= row["status"] < 300, row
        assert row["other_services"] == {}, row


def test_a_purchase_is_one_read_and_one_transaction_at_any_depth(figures: dict[str, Any]) -> None:
    rows = {r["operation"]: r for r in figures["units"]["rows"]}
    for depth in range(11):
        assert rows[f"purchase, referral depth {depth}"]["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
    # operation record + the buyer's account and entry + one queued credit per referrer: grows with depth
    wcu = [rows[f"purchase, referral depth {d}"]["wcu"] for d in range(11)]
    assert wcu == sorted(wcu) and wcu[0] < wcu[-1]


def test_paying_with_stored_value_stays_one_read_and_one_transaction(figures: dict[str, Any]) -> None:
    """docs/wallet.md: the payment is part of the purchase's own write, and reads nothing more (the buyer's account is
    read already); it writes the payment's entries beside the purchase's."""
    rows = {r["operation"]: r for r in figures["units"]["rows"]}
    paying, plain = rows["purchase paying part with stored value (depth 0)"], rows["purchase, referral depth 0"]
    assert paying["calls"] == plain["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert paying["wcu"] > plain["wcu"]  # two entries more (principal and bonus)
    assert rows["top-up (stored value, with its bonus)"]["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}


def test_a_surprise_adds_no_request_and_a_refused_one_a_second_transaction(figures: dict[str, Any]) -> None:
    """docs/earning-surprise.md: a draw is part of the purchase's own transaction (the draw record, the budget, the
    bonus line) and reads nothing more once the container has the day's commitment; a hit the budget cannot pay is
    written again without it."""
    rows = {r["operation"]: r for r in figures["units"]["rows"]}
    paid, plain = rows["purchase with a surprise paid (depth 0)"], rows["purchase, referral depth 0"]
    refused = rows["purchase with a surprise the day's budget refuses (depth 0)"]
    assert paid["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert refused["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 2}
    assert paid["wcu"] > plain["wcu"]


def test_expiry_adds_no_request_to_a_purchase_and_one_read_to_a_write_that_dates(figures: dict[str, Any]) -> None:
    """docs/earning-expiry.md: a purchase dates what it releases by the programme it already read; a redemption that
    releases held points reads the rule once (an extra BatchGetItem); a member read reads it with the member."""
    rows = {r["operation"]: r for r in figures["units"]["rows"]}
    dated = rows["purchase releasing points it dates (expiry, depth 0)"]
    assert dated["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
    redemption = rows["redemption releasing points it dates (reads the expiry rule)"]
    plain = rows["redemption"]  # nothing to release: nothing to date, no read of the rule
    assert plain["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert redemption["calls"] == {"BatchGetItem": 2, "TransactWriteItems": 1}


def test_the_poster_writes_a_busy_referrer_once_per_batch(figures: dict[str, Any]) -> None:
    rows = {r["operation"]: r for r in figures["units"]["rows"]}
    single = rows["poster: the depth-2 purchase's 2 credits (a batch of 1 per referrer)"]
    batch = rows["poster: 50 depth-2 purchases' credits (a batch of 50 per referrer)"]
    # per referrer: one read of the account, one transaction, the deletes (25 to a request)
    assert single["calls"] == {"BatchGetItem": 2, "TransactWriteItems": 2, "BatchWriteItem": 2}
    assert batch["calls"] == {"BatchGetItem": 2, "TransactWriteItems": 2, "BatchWriteItem": 4}
    assert batch["wcu"] / 50 < single["wcu"] / 2  # per credit, a batch costs less than a credit alone


def test_a_busy_referrers_account_fits_dynamodbs_item_even_with_the_longest_hold(figures: dict[str, Any]) -> None:
    # Sized with the adapter's own item mapping; that lots are hourly is tested in tests/integration/test_story.py.
    hot = figures["hotref"]
    assert hot["year_lots"] < hot["max_lots"]
    assert hot["week_account_bytes"] < 5 * 1024


FLASH = """
import json, sys
sys.path[:0] = ["layers/common", "."]
from bench import flash_sale
result = flash_sale.run(quick=True)
flash_sale.report(result)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def flash() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", FLASH], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_flash_sale_in_one_subtree_fails_today_and_posts_every_credit_once_when_deferred(
        flash: dict[str, Any]) -> None:
    runs = {(r["design"], r["rate"], r["spread"]): r for r in flash["runs"]}
    deferred = runs[("B", 1_000.0, flash["limits"]["spread"])]  # the default CreditSpread
    assert deferred["failed"] == {} and deferred["absorbed"] == deferred["offered"] > 0
    posted = deferred["deferred"]
    assert posted["credits_made"] == posted["credits_posted"] == deferred["credits"] > 0  # once: it raises if twice
    assert posted["points_made"] == posted["points_posted"]
    assert posted["dead_lettered"] == 0
    today = runs[("A", 1_000.0, None)]
    assert today["failed"].get("503 busy", 0) > 0  # optimistic conflicts on the root's account
    assert today["absorbed"] < today["offered"] / 2


def test_the_deferred_purchase_is_one_read_and_one_transaction_at_any_depth(flash: dict[str, Any]) -> None:
    for depth in (2, 10):
        assert flash["requests"][f"B/{depth}"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
        assert flash["requests"][f"A/{depth}"] == {"BatchGetItem": 2, "TransactWriteItems": 1}
