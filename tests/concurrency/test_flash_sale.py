"""A flash sale in one subtree on DynamoDB Local: 2,000 purchases from 8 container processes at once, every one
crediting the same root. None may fail or wait for the root (its credits are queued, not written by the
purchase); once the poster has run, the root's chain is dense and valid and every sum is exact.
"""

from __future__ import annotations

import time
from collections import Counter
from functools import partial

import pytest

from tests.concurrency.conftest import Service, report
from tests.concurrency.test_races import assert_chain, events

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

PURCHASES = 2000
CHILDREN, GRANDCHILDREN = 10, 4  # 10 children of the root, 4 under each: 50 buyers
THREADS = 32


def test_2000_purchases_in_one_subtree_at_once_fail_none_and_post_every_credit_once(service: Service) -> None:
    parent: dict[str, str] = {}
    root = service.sign_up("root")["referral_code"]
    for c in range(CHILDREN):
        child = f"child{c}"
        code = service.sign_up(child, root)["referral_code"]
        parent[child] = "root"
        for g in range(GRANDCHILDREN):
            parent[f"grand{c}{g}"] = child
            service.sign_up(f"grand{c}{g}", code)
    buyers = sorted(parent)
    orders = [(f"FS-{n:05d}", buyers[n % len(buyers)], 1000 + (n * 7919) % 50_000) for n in range(PURCHASES)]
    before = service.transactions.mark()

    started = time.monotonic()
    replies = service.all_at_once([partial(service.purchase, *order) for order in orders], threads=THREADS)
    elapsed = time.monotonic() - started

    assert Counter(r.status for r in replies) == {201: PURCHASES}
    assert sum(c["status"] == "queued" for r in replies for c in r.body["credits"]) > PURCHASES  # the root's, …
    posting = time.monotonic()
    delivered = service.drain()
    posted_in = time.monotonic() - posting

    expected: Counter[str] = Counter()
    credits: Counter[str] = Counter()
    for reply in replies:
        for credit in reply.body["credits"]:
            expected[credit["member_id"]] += credit["points"]
            credits[credit["member_id"]] += 1
    for member in ["root", *buyers]:
        entries = assert_chain(service, member)  # dense (seq 1…n), hashes linked, balances = the entries' sums
        assert sum(events(entries).values()) == credits[member], member
        assert service.points(member) == {"available": 0, "pending": expected[member],
                                          "lifetime_earned": expected[member]}, member
    root_entries = service.ledger("root")
    report("flash sale", purchases=PURCHASES, threads=THREADS, seconds=round(elapsed, 1),
           purchases_per_second=round(PURCHASES / elapsed), busy_retried=dict(service.busy),
           records_delivered=delivered, posting_seconds=round(posted_in, 1), root_entries=len(root_entries),
           root_credits=credits["root"], **service.transactions.since(before))
