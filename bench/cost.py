"""What a million purchases cost on AWS, from the counted units and list prices, next to SaaS prices.

Prices: AWS list prices for US East (N. Virginia), us-east-1, as published in November 2026 (DynamoDB's
on-demand prices are the ones in force since the 1 November 2024 reduction). Sources are in
docs/benchmarks.md. Free tiers are left out (they vanish at a million purchases a month anyway).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bench.sizes import INDEX_OVERHEAD, KB

REGION = "us-east-1"
PRICES_AS_OF = "November 2026"
DYNAMODB_WRU = 0.625 / 1e6  # USD per write request unit, on-demand
DYNAMODB_RRU = 0.125 / 1e6  # USD per read request unit, on-demand
DYNAMODB_STORAGE_GB_MONTH = 0.25  # USD per GB-month, Standard table class (first 25 GB free)
LAMBDA_REQUEST = 0.20 / 1e6  # USD per invocation
LAMBDA_ARM_GB_SECOND = 0.0000133334  # USD per GB-second, Arm, first 7.5 billion GB-s a month
LAMBDA_MEMORY_GB = 512 / 1024  # the template's MemorySize
HTTP_API_REQUEST = 1.00 / 1e6  # USD per HTTP API request, first 300 million a month

# Billed Lambda duration per purchase, warm: stated, not measured on Lambda (no AWS account here). Two or
# three DynamoDB round trips of ~5-10 ms in-region plus the handler's own work; the local in-process figure
# is printed next to it for reference. The sensitivity column doubles it.
ASSUMED_DURATION_MS = {2: 60, 10: 100}
ASSUMED_POSTER_MS = 60  # one poster invocation: per referrer a read and a transaction, then the deletes
BATCH_ROW = "poster: 50 depth-2 purchases' credits (a batch of 50 per referrer)"
SINGLE_ROW = "poster: the depth-2 purchase's 2 credits (a batch of 1 per referrer)"


@dataclass
class Cost:
    depth: int
    wru: float  # the purchase's own and its share of the poster's
    rru: float
    duration_ms: float
    storage_bytes: int
    label: str = ""
    poster_invocations: float = 0.0  # per purchase

    @property
    def dynamodb(self) -> float:
        return self.wru * DYNAMODB_WRU + self.rru * DYNAMODB_RRU

    def lambda_(self, duration_ms: float | None = None) -> float:
        ms = self.duration_ms if duration_ms is None else duration_ms
        poster = self.poster_invocations * (LAMBDA_REQUEST + LAMBDA_MEMORY_GB * ASSUMED_POSTER_MS / 1000
                                            * LAMBDA_ARM_GB_SECOND)
        return LAMBDA_REQUEST + LAMBDA_MEMORY_GB * ms / 1000 * LAMBDA_ARM_GB_SECOND + poster

    @property
    def http_api(self) -> float:
        return HTTP_API_REQUEST

    def total(self, duration_ms: float | None = None) -> float:
        return self.dynamodb + self.lambda_(duration_ms) + self.http_api

    @property
    def storage_month_per_million(self) -> float:
        """USD per month to keep a million purchases' new items (entries, operation records)."""
        return self.storage_bytes * 1e6 / (KB**3) * DYNAMODB_STORAGE_GB_MONTH


def _new_item_bytes(notes: list[str]) -> int:
    """Storage a purchase adds: new ledger entries and the operation record."""
    total = 0
    for note in notes:
        found = re.match(r"Put (\w+) (\d+) B", note)
        if not found:
            continue
        table, size = found.group(1), int(found.group(2))
        if table in ("LedgerTable", "OperationsTable"):
            total += size + INDEX_OVERHEAD
    return total


def purchase_costs(units: dict[str, Any]) -> list[Cost]:
    """Depth 2 with the poster's share as a busy referrer's batches make it (50 credits per referrer a batch)
    and as a lone purchase makes it (a batch of 1); depth 10 for the purchase alone (its 10 queued credits are
    posted like depth 2's, a share per batch)."""
    rows = {r["operation"]: r for r in units["rows"]}
    costs = []
    for depth, duration in ASSUMED_DURATION_MS.items():
        name = f"purchase, referral depth {depth}"
        row, stored = rows[name], _new_item_bytes(units["details"][name])
        if depth != 2:
            costs.append(Cost(depth, row["wcu"], row["rcu"], duration, stored, "the purchase alone"))
            continue
        for label, poster, purchases in (("batched, 50 credits per referrer", rows[BATCH_ROW], 50),
                                         ("unbatched, a batch of 1", rows[SINGLE_ROW], 1)):
            costs.append(Cost(depth, row["wcu"] + poster["wcu"] / purchases, row["rcu"] + poster["rcu"] / purchases,
                              duration, stored, label, 1 / purchases))
    return costs


# What SaaS loyalty and referral apps charge (see docs/benchmarks.md for the pages and their dates).
SAAS = [
    ("Smile.io Growth", "$199/month incl. 2,500 orders, then $20 per 100 orders", 0.20, "per order beyond the plan"),
    ("Smile.io Plus", "7,500 orders included, then $5 per 100 orders", 0.05, "per order beyond the plan"),
    ("ReferralCandy Basic", "$39/month + 10.5% of referred revenue (first 3 orders of a referred customer)",
     None, "per referred order: 10.5% of its subtotal"),
    ("ReferralCandy Scale", "$249/month + 1.5% of referred revenue", None, "per referred order: 1.5% of subtotal"),
    ("LoyaltyLion", "$399-$1,500+/month (plans by monthly orders, quoted)", None, "per month, not per order"),
    ("Yotpo Loyalty", "custom, roughly $500-$3,000+/month", None, "per month, not per order"),
]


def report(units: dict[str, Any]) -> list[str]:
    lines = [f"Prices: {REGION}, list prices as of {PRICES_AS_OF}; DynamoDB on-demand ${DYNAMODB_WRU * 1e6:.3f}/M WRU, "
             f"${DYNAMODB_RRU * 1e6:.3f}/M RRU; Lambda Arm ${LAMBDA_ARM_GB_SECOND:.10f}/GB-s + "
             f"${LAMBDA_REQUEST * 1e6:.2f}/M requests at {LAMBDA_MEMORY_GB * 1024:.0f} MB; "
             f"HTTP API ${HTTP_API_REQUEST * 1e6:.2f}/M requests."]
    rows = {r["operation"]: r for r in units["rows"]}
    for cost in purchase_costs(units):
        local_ms = rows[f"purchase, referral depth {cost.depth}"]["local_ms"]
        lines.append(
            f"depth {cost.depth:>2} ({cost.label}): {cost.wru:.1f} WRU + {cost.rru:.1f} RRU per purchase → "
            f"per million purchases: "
            f"DynamoDB ${cost.dynamodb * 1e6:,.2f}, Lambda ${cost.lambda_() * 1e6:,.2f} "
            f"({cost.duration_ms:.0f} ms assumed; local in-process {local_ms:.0f} ms), HTTP API "
            f"${cost.http_api * 1e6:,.2f} = ${cost.total() * 1e6:,.2f} "
            f"(${cost.total(cost.duration_ms * 2) * 1e6:,.2f} at {cost.duration_ms * 2:.0f} ms); "
            f"${cost.total() * 1000:.4f} per 1,000 orders; storage added {cost.storage_bytes:,} B "
            f"→ ${cost.storage_month_per_million:,.2f}/month per million purchases kept")
    lines.append("SaaS, for comparison (their prices include the product around the ledger):")
    for name, plan, per_order, unit in SAAS:
        shown = f"${per_order:.2f} {unit}" if per_order is not None else unit
        lines.append(f"  {name:<20} {plan}: {shown}")
    return lines
