"""The benchmarks' counted figures (``make bench``) hold: a purchase stays at one read plus one transaction
above the floor, nothing but DynamoDB is called, and a hot referrer's account stays far from 400 KB.

The benchmark runs in a fresh interpreter, as ``make bench`` does (it installs counting hooks on boto3's
default session). Counts only: times are printed by ``make bench``, never asserted.
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


def test_a_purchase_is_one_read_and_one_transaction_and_one_more_read_with_referrers(
        figures: dict[str, Any]) -> None:
    rows = {r["operation"]: r for r in figures["units"]["rows"]}
    assert rows["purchase, referral depth 0"]["calls"] == {"BatchGetItem": 1, "TransactWriteItems": 1}
    for depth in range(1, 11):
        assert rows[f"purchase, referral depth {depth}"]["calls"] == {"BatchGetItem": 2, "TransactWriteItems": 1}
    # operation record + (account, entry) per credited member: the write units grow with depth
    wcu = [rows[f"purchase, referral depth {d}"]["wcu"] for d in range(11)]
    assert wcu == sorted(wcu) and wcu[0] < wcu[-1]


def test_a_busy_referrers_account_fits_dynamodbs_item_even_with_the_longest_hold(figures: dict[str, Any]) -> None:
    # Sized with the adapter's own item mapping; that lots are hourly is tested in tests/integration/test_story.py.
    hot = figures["hotref"]
    assert hot["year_lots"] < hot["max_lots"]
    assert hot["week_account_bytes"] < 5 * 1024
