"""The figures on DynamoDB (the Metrics table, ``pk``/``sk``), and the stream records they are made of.

- ``DAY``/``<YYYY-MM-DD>``, ``MONTH``/``<YYYY-MM>``, ``YEAR``/``<YYYY>``: the counters of a local day, and the
  same added up by month and year (so the totals up to any day read at most a few dozen items);
- ``BUYERS#<YYYY-MM>``/``<YYYY-MM-DD>#<member>``: a member's purchases on a day (distinct buyers, repeats), and
  ``spend_minor``, what they spent that day net of refunds (segments' spend: ``segments.dynamodb.MetricsSpend``);
- ``BUYER#<member>``/``FIRST`` and ``FIRSTS#<YYYY-MM>``/``<YYYY-MM-DD>#<member>``: a member's first purchase
  day, and the members by their first purchase day (who bought before a period);
- in the Partners table, ``STATS#partner#<partner_id>``/``<YYYY-MM-DD>#<link code>#sales``: what the streams count
  of a partner's report row (``partners.report``), in the same transaction as the facts it comes from (the row's
  clicks are the landing page's item beside it, ``<YYYY-MM-DD>#<link code>``);
- ``COUNTED#<fact id>``/``COUNTED``: the mark that an event was counted, written in the same transaction as its
  counts, kept two days (``expires_at``, the table's time to live): the streams redeliver for at most one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from loyalty.ledger.assets import COMMISSION, EntryKind
from loyalty.ledger.entries import REVIEW_LOT
from loyalty.members.domain import PartnerBinding
from loyalty.members.dynamodb import member_key
from loyalty.metrics.domain import (
    COUNTERS,
    Bought,
    Buyer,
    Event,
    Fact,
    Joined,
    PartnerShare,
    Recorded,
    Refunded,
    Totals,
    summed,
)
from loyalty.metrics.store import Sale
from loyalty.purchases.domain import purchase_key
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.dynamo import Cancelled, Dynamo, from_item, table_of, to_item
from loyalty.shared.once import Contention
from loyalty.shared.settings import Tables

MAX_ITEMS = 100  # TransactWriteItems' limit
BATCH_KEYS = 100  # BatchGetItem's limit
MARK_SECONDS = 2 * 24 * 3600  # how long a counted mark is kept: twice the streams' retention
LEVELS = (("DAY", 10), ("MONTH", 7), ("YEAR", 4))


def _buyer_key(fact: Fact) -> dict[str, str]:
    return {"pk": f"BUYERS#{fact.day[:7]}", "sk": f"{fact.day}#{fact.buyer}"}


def partner_row_key(partner_id: str, day: str, code: str) -> dict[str, str]:
    """Where a partner's report row of a link's day keeps what the streams count: in the Partners table, beside the
    item the landing page counts the row's clicks in (``<day>#<code>``), never in it (a click's plain write must
    not meet the aggregator's transaction on one item); the report reads both and adds them up."""
    return {"pk": f"STATS#partner#{partner_id}", "sk": f"{day}#{code}#sales"}


def _touches(fact: Fact) -> set[tuple[str, str]]:
    keys = {(level, fact.day[:cut]) for level, cut in LEVELS}
    if fact.buyer is not None:
        key = _buyer_key(fact)
        keys.add((key["pk"], key["sk"]))
    if fact.partner is not None:
        row = partner_row_key(fact.partner.partner_id, fact.partner.day, fact.partner.code)
        keys.add((row["pk"], row["sk"]))
    return keys


def _chunks(facts: Sequence[Fact]) -> Iterator[list[Fact]]:
    """The facts in groups whose marks and counters fit one transaction."""
    chunk: list[Fact] = []
    keys: set[tuple[str, str]] = set()
    for fact in facts:
        new = _touches(fact)
        if chunk and len(chunk) + 1 + len(keys | new) > MAX_ITEMS:
            yield chunk
            chunk, keys = [], set()
        chunk.append(fact)
        keys |= new
    if chunk:
        yield chunk


def _months(first: str, last: str) -> list[str]:
    months, year, month = [], int(first[:4]), int(first[5:7])
    while f"{year:04d}-{month:02d}" <= last[:7]:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


months = _months  # the months a span of days touches (segments read the buyer rows by month)


class DynamoMetricsStore:
    """``metrics.store.MetricsStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str, tables: Tables, partners_table: str = "") -> None:
        self._db = db
        self._table = table
        self._t = tables
        self._partners = partners_table  # where partner report rows are kept (loyalty.partners)

    # --- the aggregator's side

    def _batch_get(self, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for n in range(0, len(keys), BATCH_KEYS):
            found += self._db.batch_get({table: keys[n:n + BATCH_KEYS]}).get(table, [])
        return found

    def sales(self, order_ids: Sequence[str]) -> dict[str, Sale]:
        keys = [{"pk": purchase_key(o)} for o in dict.fromkeys(order_ids)]
        return {i["pk"].removeprefix("purchase/"): Sale(i["member_id"], i["occurred_at"], *_commission(i))
                for i in self._batch_get(self._t.operations, keys)}

    def buyers_of(self, member_ids: Sequence[str]) -> dict[str, Buyer]:
        found = self._batch_get(self._t.members, [member_key(m) for m in dict.fromkeys(member_ids)])
        return {i["member_id"]: Buyer(bool(i.get("ancestors")), _binding(i)) for i in found}

    def count(self, facts: Sequence[Fact], now: str) -> list[Fact]:
        expires = int(parse_rfc3339(now).timestamp()) + MARK_SECONDS
        unique = list({f.fact_id: f for f in facts}.values())
        counted: list[Fact] = []
        for chunk in _chunks(unique):
            counted += self._count_chunk(chunk, expires)
        return counted

    def _count_chunk(self, chunk: list[Fact], expires: int) -> list[Fact]:
        pending = chunk
        while pending:
            try:
                self._db.transact(self._counting(pending, expires))
                return pending
            except Cancelled as cancelled:
                done = {f.fact_id for n, f in enumerate(pending) if cancelled.failed(n)}
                if not done:  # a conflict with another transaction: nothing was written; read again, try again
                    raise Contention(f"counting cancelled: {cancelled}") from None
                pending = [f for f in pending if f.fact_id not in done]  # counted before: leave them out
        return []

    def _counting(self, facts: list[Fact], expires: int) -> list[dict[str, Any]]:
        """One transaction: a mark per fact (only if it has none: the marks come first, so a cancellation's
        reasons say which facts were counted before), then every counter they add to."""
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._table, "ConditionExpression": "attribute_not_exists(pk)",
            "Item": to_item({"pk": f"COUNTED#{f.fact_id}", "sk": "COUNTED", "expires_at": expires})}}
            for f in facts]
        for level, _ in LEVELS:
            for period, counts in summed(facts, level.lower()).items():
                items.append(self._adding({"pk": level, "sk": period}, counts))
        buyers: dict[tuple[str, str], dict[str, int]] = {}
        for fact in facts:
            if fact.buyer is not None:
                key = _buyer_key(fact)
                row = buyers.setdefault((key["pk"], key["sk"]), {"purchases": 0, "spend_minor": 0})
                row["purchases"] += int(fact.visit)
                row["spend_minor"] += fact.spend_minor
        items += [self._adding({"pk": pk, "sk": sk}, row) for (pk, sk), row in buyers.items()]
        items += self._partner_rows(facts)
        return items

    def _partner_rows(self, facts: list[Fact]) -> list[dict[str, Any]]:
        """The partner report rows the facts add to (in the Partners table), one update per row."""
        rows: dict[tuple[str, str, str], tuple[PartnerShare, dict[str, int]]] = {}
        for fact in facts:
            share = fact.partner
            if share is None:
                continue
            _, counts = rows.setdefault((share.partner_id, share.day, share.code), (share, {}))
            for name, amount in share.counts.items():
                counts[name] = counts.get(name, 0) + amount
        if rows and not self._partners:
            raise ValueError("partner figures to count, and no Partners table (PARTNERS_TABLE)")
        found = []
        for share, counts in rows.values():
            labels = {"date": share.day, "code": share.code,
                      **{k: v for k, v in (("campaign", share.campaign), ("sub_id", share.sub_id)) if v is not None}}
            found.append(self._adding(partner_row_key(share.partner_id, share.day, share.code), counts,
                                      table=self._partners, labels=labels))
        return found

    def _adding(self, key: dict[str, str], counts: Mapping[str, int], *, table: str | None = None,
                labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Add ``counts`` to the item at ``key`` (made if missing), setting ``labels`` that describe it."""
        names = {f"#c{n}": name for n, name in enumerate(counts)}
        values: dict[str, Any] = {f":c{n}": amount for n, amount in enumerate(counts.values())}
        expression = "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(counts)))
        if labels:
            names.update({f"#l{n}": name for n, name in enumerate(labels)})
            values.update({f":l{n}": value for n, value in enumerate(labels.values())})
            expression += " SET " + ", ".join(f"#l{n} = :l{n}" for n in range(len(labels)))
        return {"Update": {"TableName": table or self._table, "Key": to_item(key), "UpdateExpression": expression,
                           "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}}

    def lower_first_purchase(self, buyer: str, day: str) -> None:
        key = {"pk": f"BUYER#{buyer}", "sk": "FIRST"}
        for _ in range(8):
            item = self._db.get(self._table, key)
            old = item.get("day") if item else None
            if old is not None and old <= day:
                return
            moves: list[dict[str, Any]] = [
                {"Put": {"TableName": self._table, "Item": to_item({**key, "day": day}),
                         **({"ConditionExpression": "attribute_not_exists(pk)"} if old is None else {
                             "ConditionExpression": "#d = :old", "ExpressionAttributeNames": {"#d": "day"},
                             "ExpressionAttributeValues": to_item({":old": old})})}},
                {"Put": {"TableName": self._table,
                         "Item": to_item({"pk": f"FIRSTS#{day[:7]}", "sk": f"{day}#{buyer}"})}},
            ]
            if old is not None:
                moves.append({"Delete": {"TableName": self._table,
                                         "Key": to_item({"pk": f"FIRSTS#{old[:7]}", "sk": f"{old}#{buyer}"})}})
            try:
                self._db.transact(moves)
                return
            except Cancelled:
                continue  # another delivery moved it in between: read it again
        raise Contention(f"the first purchase of {buyer} kept moving")

    # --- the dashboard's side

    def _query(self, pk: str, condition: str, values: dict[str, str]) -> Iterator[dict[str, Any]]:
        return self._db.query(TableName=self._table, KeyConditionExpression=f"pk = :pk AND {condition}",
                              ExpressionAttributeValues=to_item({":pk": pk, **values}))

    def days(self, first: str, last: str) -> dict[str, dict[str, int]]:
        return {i["sk"]: {c: int(i.get(c, 0)) for c in COUNTERS}
                for i in self._query("DAY", "sk BETWEEN :a AND :b", {":a": first, ":b": last})}

    def through(self, last: str) -> Totals:
        year, month = last[:4], last[:7]
        totals = Totals()
        rows = [*self._query("YEAR", "sk < :y", {":y": year}),
                *(i for i in self._query("MONTH", "sk BETWEEN :a AND :b", {":a": f"{year}-01", ":b": month})
                  if i["sk"] != month),
                *self._query("DAY", "sk BETWEEN :a AND :b", {":a": f"{month}-01", ":b": last})]
        for row in rows:
            totals = totals.plus({c: int(row.get(c, 0)) for c in COUNTERS})
        return totals

    def _by_day(self, prefix: str, first: str, last: str) -> Iterator[dict[str, Any]]:
        for month in _months(first, last):
            yield from self._query(f"{prefix}#{month}", "sk BETWEEN :a AND :b", {":a": f"{first}#", ":b": f"{last}$"})

    def buyers(self, first: str, last: str) -> dict[str, int]:
        buyers: dict[str, int] = {}
        for item in self._by_day("BUYERS", first, last):
            member = item["sk"].split("#", 1)[1]
            buyers[member] = buyers.get(member, 0) + int(item.get("purchases", 0))
        return {m: n for m, n in buyers.items() if n > 0}

    def first_buyers(self, first: str, last: str) -> set[str]:
        return {i["sk"].split("#", 1)[1] for i in self._by_day("FIRSTS", first, last)}


# --- stream records ---------------------------------------------------------------------------------

def event_from_record(record: Mapping[str, Any], tables: Tables) -> Event | None:
    """The event a stream record of the Members, Operations or Ledger table carries, None for any other
    record (a member's code or edges, a redemption's operation record …); ``KeyError``, ``ValueError`` or
    ``TypeError`` for a record that should be one and is not readable as one."""
    if record.get("eventName", "INSERT") != "INSERT":  # the mappings' filters let only new items through
        return None
    table = table_of(str(record.get("eventSourceARN", "")))
    image = from_item(record["dynamodb"]["NewImage"])
    if table == tables.members:
        if image.get("sk") != "PROFILE":
            return None
        return Joined(str(image["member_id"]), _instant(image["joined_at"]), _binding(image))
    if table == tables.operations:
        key = str(image["pk"])
        if key.startswith("purchase/"):
            return Bought(key.removeprefix("purchase/"), str(image["member_id"]), _whole(image["amount_minor"]),
                          _instant(image["occurred_at"]), *_commission(image))
        if key.startswith("refund/"):
            order_id = str(image["order_id"])
            return Refunded(order_id, key.removeprefix(f"refund/{order_id}/"), _whole(image["amount_minor"]),
                            _commission_reversed(image))
        return None
    if table == tables.ledger:
        return Recorded(str(image["member_id"]), _whole(image["seq"]), str(image["asset"]),
                        EntryKind(image["kind"]).value, _whole(image["amount"]), _instant(image["created_at"]),
                        str(image["bucket"]) if image.get("bucket") is not None else None,
                        str(image["rule"]) if image.get("rule") is not None else None)
    return None


def _binding(image: Mapping[str, Any]) -> PartnerBinding | None:
    """The partner a member's item is bound to, if any."""
    return PartnerBinding.from_dict(image["partner"]) if image.get("partner") else None


def _commission(image: Mapping[str, Any]) -> tuple[int, str | None]:
    """The commission a purchase's record credited (and when its hold ends, or ``review/<review_id>`` for one held for
    review, which the report's read resolves by the review's decision); (0, None) for none."""
    for credit in image.get("credits") or []:
        if credit.get("asset") == COMMISSION.name:
            if credit.get("review"):
                return _whole(credit["points"]), f"{REVIEW_LOT}{credit['review']}"
            return _whole(credit["points"]), credit.get("available_at")
    return 0, None


def _commission_reversed(image: Mapping[str, Any]) -> int:
    """The commission a refund's answer says it took back (a positive amount; 0 for none)."""
    reversals = json.loads(str(image["response"])).get("reversals") or []
    return sum(_whole(r["points"]) for r in reversals if r.get("asset") == COMMISSION.name)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not a whole number: {value!r}")
    return value


def _instant(value: Any) -> str:
    parse_rfc3339(str(value))  # ValueError if it is none
    return str(value)

