"""Clicks on a referral link on AWS's own engine: 1,000 clicks at once, from 100 visitors, counted exactly.

Each click is the landing page's use case (``PartnerService.land``) on DynamoDB Local, from 32 threads released
by one barrier: the visitor's mark of the day is a conditional put (of a visitor's concurrent first clicks,
exactly one wins) and the day's counters are one item's atomic ``ADD``, so neither a lost update nor a unique
visitor counted twice can happen.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config

from loyalty.partners.domain import PARTNER, Owner
from loyalty.shared.clock import FixedClock
from loyalty.shared.settings import Settings
from loyalty.wiring import build_partners
from tests.concurrency.conftest import START

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

CLICKS, VISITORS, THREADS = 1000, 100, 32
KEY = b"the link key of this test" * 3


def test_1000_clicks_at_once_are_counted_exactly(local_dynamodb: Any) -> None:
    client = boto3.client("dynamodb", endpoint_url=local_dynamodb.meta.endpoint_url,
                          config=Config(max_pool_connections=THREADS, retries={"mode": "standard", "max_attempts": 2}))
    partners = build_partners(Settings.from_env(), FixedClock(START), client, lambda: KEY)
    partners.create_partner(partner_id="P-1", name="Wang", email="w@example.com", commission_bps=500,
                            attribution_days=30)
    code = partners.create_link(Owner(PARTNER, "P-1"), link_id="L-1", campaign="spring", sub_id="post-42").result.code
    visitors = [(f"203.0.113.{n}", f"Browser/{n % 7}") for n in range(VISITORS)]
    clicks = [visitors[i % VISITORS] for i in range(CLICKS)]
    random.Random(7).shuffle(clicks)
    barrier = threading.Barrier(THREADS)

    def click_many(share: list[tuple[str, str]]) -> list[bool]:
        barrier.wait()
        landed = [partners.land(code, cookie=None, source_ip=ip, user_agent=agent, locale="en")
                  for ip, agent in share]
        assert all(landing is not None for landing in landed)
        return [landing.unique for landing in landed if landing is not None]

    with ThreadPoolExecutor(THREADS) as pool:
        uniques = [u for found in pool.map(click_many, [clicks[i::THREADS] for i in range(THREADS)]) for u in found]

    assert Counter(uniques) == {True: VISITORS, False: CLICKS - VISITORS}  # each visitor's first, once
    day = local_dynamodb.get_item(TableName="PartnersTable", ConsistentRead=True, Key={
        "pk": {"S": "STATS#partner#P-1"}, "sk": {"S": f"2026-11-23#{code}"}})["Item"]
    assert (int(day["clicks"]["N"]), int(day["unique_clicks"]["N"])) == (CLICKS, VISITORS)
    assert (day["campaign"]["S"], day["sub_id"]["S"]) == ("spring", "post-42")
    marks = local_dynamodb.query(TableName="PartnersTable", KeyConditionExpression="pk = :pk",
                                 ExpressionAttributeValues={":pk": {"S": f"SEEN#{code}#2026-11-23"}})
    assert marks["Count"] == VISITORS
