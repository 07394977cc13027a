"""Keeping the figures (``Aggregator``, fed by the streams) and reading a period's (``MetricsService``).

Nothing here is on a purchase's path: the aggregator reads what purchases, refunds, sign-ups and the ledger
already wrote, from their tables' streams, after the fact (docs/metrics.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from loyalty.metrics.domain import (
    Bought,
    Buyer,
    Event,
    Fact,
    Joined,
    Metrics,
    Refunded,
    joined,
    metrics_of,
    period_of,
    posted,
    purchased,
    refunded,
    today_in,
)
from loyalty.metrics.store import MetricsStore
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.once import RetryPolicy


@dataclass(frozen=True)
class Counted:
    """What a batch of events did: how many were counted now (the rest had been), and the events that could not
    be counted (a refund of an order with no purchase record: only a hand-edited table makes one)."""

    counted: int
    skipped: list[Event]


class Aggregator:
    """Counts each event the streams deliver into its day, exactly once however often it is delivered, in any
    order (each event's fact is marked counted in the same transaction that counts it)."""

    def __init__(self, store: MetricsStore, clock: Clock, zone: ZoneInfo, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._zone = zone
        self._retry = retry or RetryPolicy(budget_seconds=20.0)

    def count(self, events: Sequence[Event]) -> Counted:
        refunds = [e for e in events if isinstance(e, Refunded)]
        sales = self._retry.run(lambda: self._store.sales([e.order_id for e in refunds])) if refunds else {}
        buyers = [e.buyer for e in events if isinstance(e, Bought)] + [s.buyer for s in sales.values()]
        known = self._retry.run(lambda: self._store.buyers_of(buyers)) if buyers else {}
        nobody = Buyer(referred=False)
        facts: list[Fact] = []
        skipped: list[Event] = []
        first_days: dict[str, str] = {}
        for event in events:
            if isinstance(event, Joined):
                facts.append(joined(event.member_id, event.joined_at, self._zone, event.partner))
            elif isinstance(event, Bought):
                who = known.get(event.buyer, nobody)
                fact = purchased(event.order_id, event.buyer, event.amount_minor, event.occurred_at,
                                 who.referred, self._zone, who.partner, event.commission_minor,
                                 event.commission_held_until)
                facts.append(fact)
                first_days[event.buyer] = min(fact.day, first_days.get(event.buyer, fact.day))
            elif isinstance(event, Refunded):
                sale = sales.get(event.order_id)
                if sale is None:
                    skipped.append(event)
                    continue
                who = known.get(sale.buyer, nobody)
                facts.append(refunded(event.order_id, event.refund_id, event.amount_minor, sale.occurred_at,
                                      who.referred, self._zone, who.partner, sale.commission_minor > 0,
                                      event.commission_reversed_minor, sale.commission_held_until,
                                      buyer=sale.buyer))
            else:
                entry = posted(event.holder, event.seq, event.asset, event.kind, event.amount, event.created_at,
                               self._zone, event.bucket, event.rule)
                if entry is not None:
                    facts.append(entry)
        # A first purchase day only ever moves earlier, so lowering it again on a redelivery changes nothing: it
        # is kept apart from the counts, before them, for every purchase delivered (counted before or not).
        for buyer, day in first_days.items():
            self._retry.run(lambda b=buyer, d=day: self._store.lower_first_purchase(b, d))  # type: ignore[misc]
        now = to_rfc3339(self._clock.now())
        counted = self._retry.run(lambda: self._store.count(facts, now)) if facts else []
        return Counted(len(counted), skipped)


class MetricsService:
    def __init__(self, store: MetricsStore, clock: Clock, zone: ZoneInfo, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._zone = zone
        self._retry = retry or RetryPolicy()

    def report(self, first: str | None, last: str | None) -> Metrics:
        """The figures of the local days ``first``–``last`` (defaults: ``period_of``)."""
        period = period_of(first, last, today_in(self._zone, self._clock.now()))
        a, b = period.first.isoformat(), period.last.isoformat()

        def read() -> Metrics:
            return metrics_of(period, self._store.days(a, b), self._store.through(b), self._store.buyers(a, b),
                              self._store.first_buyers(a, b), self._zone.key)

        return self._retry.run(read)
