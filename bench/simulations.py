"""A simulation of a year of a 100,000-member shop: 1,000,000 purchases replayed (docs/earning-simulations.md).

What a run does on AWS, page by page, on this machine: each Scan page (1 MB of purchase records read, their
projected attributes answered) is decoded from JSON as botocore does, parsed by ``simulations.dynamodb`` and
replayed into the tally by ``simulations.domain`` under both the current and a proposed programme (a higher
referral rate, three levels, a member day), with every buyer's referral path known (as the run's ``BatchGetItem``
of Members gives it). The pages are generated (seeded) and not timed; what is timed is the function's CPU work.
The network is not here: the read's duration on AWS is estimated from the pages and the segments read side by side.

The read's cost follows DynamoDB's rules: a Scan is charged for every item it reads, filtered out or projected
away or not, at 0.5 RRU per 4 KB (eventually consistent), summed per page; the buyers' paths are strongly
consistent ``BatchGetItem`` reads, 1 RRU per member item.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.sizes import item_size
from loyalty.members.domain import MAX_LEVELS
from loyalty.program.domain import DEFAULT_PROGRAM, Multiplier
from loyalty.shared.clock import to_rfc3339
from loyalty.simulations.domain import Period, Tally, replay
from loyalty.simulations.dynamodb import purchase_from_wire

MEMBERS, PURCHASES = 100_000, 1_000_000
PAGE_BYTES = 1024 * 1024  # a Scan page reads at most 1 MB of items
SEGMENTS = 8  # SIMULATION_SCAN_SEGMENTS in the template
# What one segment's page takes DynamoDB to serve, end to end, from a Lambda in the same region (a conservative
# figure: 1 MB pages of a parallel Scan are commonly served in 50–150 ms).
PAGE_SECONDS_ON_AWS = 0.15
RRU_PRICE_PER_MILLION = 0.125  # USD, on-demand read request units (us-east-1)
FIRST = date(2025, 12, 1)  # a year of purchases: 2025-12-01 .. 2026-11-30 (local dates)


def _members(rng: random.Random) -> list[tuple[str, ...]]:
    """Each member's referral path, nearest first: 60 % were referred by an earlier member."""
    paths: list[tuple[str, ...]] = []
    for n in range(MEMBERS):
        if n and rng.random() < 0.6:
            referrer = rng.randrange(n)
            paths.append((f"m-{referrer:06d}", *paths[referrer])[:MAX_LEVELS])
        else:
            paths.append(())
    return paths


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _record(rng: random.Random, n: int, paths: list[tuple[str, ...]], start: datetime) -> dict[str, Any]:
    """One purchase record as the Operations table keeps it (the attributes ``PurchaseRecord.state`` writes)."""
    buyer = rng.randrange(MEMBERS)
    amount = rng.choice((990, 2_500, 4_900, 12_900, 29_900, 68_800, 150_000))
    refunded = 0 if rng.random() > 0.08 else rng.choice((amount, amount // 2, amount // 3))
    recorded = start + timedelta(seconds=rng.randrange(365 * 86_400))
    at, hold = to_rfc3339(recorded), to_rfc3339((recorded + timedelta(days=7)).replace(minute=0, second=0))
    plan = DEFAULT_PROGRAM.credit_plan(f"m-{buyer:06d}", paths[buyer], amount)
    credits = [{"M": {"member_id": {"S": member}, "level": _n(level), "points": _n(points),
                      "bucket": {"S": "pending"}, "available_at": {"S": hold}, "rule_version": _n(1),
                      "status": {"S": "posted" if level == 0 else "queued"}}} for member, level, points in plan]
    return {"pk": {"S": f"purchase/POS-{n:09d}"}, "fingerprint": {"S": "f" * 64}, "status": _n(201),
            "response": {"S": "{}"}, "created_at": {"S": at}, "member_id": {"S": f"m-{buyer:06d}"},
            "amount_minor": _n(amount), "currency": {"S": "CNY"}, "refunded_minor": _n(refunded),
            "credits": {"L": credits}, "items": {"L": []}, "occurred_at": {"S": at},
            "requested_by": {"S": "pos-terminal-01"}, "lane": _n(n % 8), "rule_version": _n(1)}


PROJECTED = ("pk", "member_id", "amount_minor", "refunded_minor", "created_at", "credits")


def run(purchases: int = PURCHASES, seed: int = 14) -> dict[str, Any]:
    rng = random.Random(seed)
    paths = _members(rng)
    ancestors = {f"m-{n:06d}": path for n, path in enumerate(paths)}
    start = datetime.combine(FIRST, datetime.min.time(), UTC) - timedelta(hours=8)  # local midnight in Shanghai
    period = Period(FIRST, FIRST + timedelta(days=364), "Asia/Shanghai")
    proposed = replace(DEFAULT_PROGRAM, referral_rates_bps=(1500, 500, 200),
                       multipliers=(Multiplier("Member day", 30_000, day_of_month=8),))
    tally = Tally()
    timed = 0.0
    pages = read_bytes = page_rru = 0.0
    done = 0
    while done < purchases:
        page, size = [], 0
        while done < purchases and size < PAGE_BYTES:
            record = _record(rng, done, paths, start)
            size += item_size(record)
            page.append({k: record[k] for k in PROJECTED})
            done += 1
        wire = json.dumps({"Items": page, "Count": len(page), "ScannedCount": len(page)}).encode()
        pages += 1
        read_bytes += size
        page_rru += -(-size // 4096) * 0.5
        began = time.process_time()
        parsed = [purchase_from_wire(i) for i in json.loads(wire)["Items"]]
        replay(proposed, period, parsed, ancestors, tally)
        timed += time.process_time() - began
    result = tally.result(period)
    member_rru = len(tally.buyers)  # 1 RRU per member item (< 4 KB), strongly consistent
    return {"purchases": tally.purchases, "members": len(tally.buyers), "cpu_seconds": timed, "pages": int(pages),
            "read_mb": read_bytes / 1e6, "scan_rru": page_rru, "member_rru": member_rru,
            "current": result["current"]["points_issued"], "proposed": result["proposed"]["points_issued"],
            "more_bps": result["earners"]["more_bps"]}


def report(found: dict[str, Any]) -> list[str]:
    pages_per_segment = -(-found["pages"] // SEGMENTS)
    io_seconds = pages_per_segment * PAGE_SECONDS_ON_AWS
    rru = found["scan_rru"] + found["member_rru"]
    return [
        f"replayed {found['purchases']:,} purchases of {found['members']:,} buyers (a year, 100,000 members): "
        f"current {found['current']:,} points, proposed {found['proposed']:,} "
        f"({found['more_bps'] / 100:.2f} % of earners earn more)",
        f"CPU on this machine: {found['cpu_seconds']:.1f} s for JSON decoding, parsing and replaying "
        f"({found['cpu_seconds'] / found['purchases'] * 1e6:.1f} µs per purchase; the function has one full vCPU)",
        f"read: {found['pages']:,} Scan pages, {found['read_mb']:,.0f} MB of purchase records; "
        f"{SEGMENTS} segments side by side → {pages_per_segment} pages each, about {io_seconds:.0f} s at "
        f"{PAGE_SECONDS_ON_AWS * 1000:.0f} ms a page (estimated, overlapping the CPU work)",
        f"read cost: {found['scan_rru']:,.0f} RRU for the Scan (0.5 per 4 KB read) + {found['member_rru']:,} RRU "
        f"for the buyers' paths = {rru:,.0f} RRU, about ${rru / 1e6 * RRU_PRICE_PER_MILLION:.3f} on demand "
        f"(the Scan also reads the table's other operation records: refunds, redemptions …, at the same rate)",
        f"within the 15-minute limit: {'yes' if found['cpu_seconds'] + io_seconds < 900 else 'NO'} "
        f"(CPU + reads ≈ {found['cpu_seconds'] + io_seconds:.0f} s, counted one after the other)",
    ]


if __name__ == "__main__":
    for line in report(run()):
        print(line)
