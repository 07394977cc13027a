"""The ledger on DynamoDB: the Accounts and Ledger tables, and the one transaction an event commits.

- Accounts ``member_id``: the chain head (``seq``, ``head_hash``) and ``balances``, one map per asset:
  ``{"buckets": {bucket: amount}, "lots": {instant: amount}, "lifetime_earned", "from_referrals"}``.
- Ledger ``member_id``/``seq``: the entries, keyed by their place in the holder's chain, so a chain reads in
  order without an index and a position can only be written once. Append-only: the code only ever puts with
  ``attribute_not_exists``, and IAM grants no update or delete on this table.

The key attribute is called ``member_id`` in both tables (members were the first holders); it holds the
holder's key, which for a member is its id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from loyalty.ledger.accounts import Account, Balance
from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.deferred import Deferred, Delivered, queue_key
from loyalty.ledger.entries import Entry, Source
from loyalty.ledger.expiry import ExpiryPolicy
from loyalty.ledger.posting import Posting
from loyalty.ledger.store import AccountWrite, LedgerWrite, Record
from loyalty.shared.dynamo import (
    Cancelled,
    Dynamo,
    from_item,
    operation_from_item,
    put_operation,
    to_item,
)
from loyalty.shared.once import Contention, Operation, OperationRecorded
from loyalty.shared.settings import Tables

MALFORMED = "malformed"


# --- items -----------------------------------------------------------------------------------------

def entry_item(entry: Entry) -> dict[str, Any]:
    item = {
        "member_id": entry.holder, "entry_id": entry.entry_id, "seq": entry.seq, "asset": entry.asset,
        "amount": entry.amount, "bucket": str(entry.bucket), "kind": str(entry.kind), "level": entry.level,
        "source_type": entry.source.type, "source_id": entry.source.id, "rule_version": entry.rule_version,
        "created_at": entry.created_at, "available_at": entry.available_at,
        "prev_hash": entry.prev_hash, "hash": entry.hash,
    }
    if entry.parts is not None:  # compact: a busy referrer's batch lists hundreds
        item["parts"] = [[source_id, amount] for source_id, amount in entry.parts]
    if entry.review is not None:
        item["review"] = entry.review
    for name in ("rule", "multiplier_bps"):
        if getattr(entry, name) is not None:
            item[name] = getattr(entry, name)
    if entry.expires is not None:
        item["expires"] = [[at, amount] for at, amount in entry.expires]
    return item


def entry_from_item(item: dict[str, Any]) -> Entry:
    parts, expires = item.get("parts"), item.get("expires")
    return Entry(
        holder=item["member_id"], entry_id=item["entry_id"], seq=item["seq"], asset=item["asset"],
        amount=item["amount"], bucket=Bucket(item["bucket"]), kind=EntryKind(item["kind"]), level=item.get("level"),
        source=Source(item["source_type"], item["source_id"]), rule_version=item.get("rule_version"),
        created_at=item["created_at"], available_at=item.get("available_at"),
        prev_hash=item["prev_hash"], hash=item["hash"],
        parts=tuple((str(s), int(a)) for s, a in parts) if parts is not None else None,
        review=str(item["review"]) if item.get("review") is not None else None,
        rule=str(item["rule"]) if item.get("rule") is not None else None,
        multiplier_bps=item.get("multiplier_bps"),
        expires=tuple((str(at), int(a)) for at, a in expires) if expires is not None else None,
    )


def entry_as_found(item: dict[str, Any]) -> Entry:
    """An entry as verification must see it: an item edited out of shape (a string amount, an unknown
    bucket, a missing field) is still an entry at its place in the chain, one whose hash can never match,
    so verification reports it instead of failing on it."""
    try:
        entry = entry_from_item(item)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in (entry.amount, entry.seq)) \
                and isinstance(entry.hash, str):
            return entry
    except (KeyError, ValueError, TypeError):
        pass

    def text(name: str) -> str:
        return str(item.get(name, ""))

    amount = item.get("amount")
    return Entry(
        holder=text("member_id"), entry_id=text("entry_id"), seq=int(item.get("seq") or 0),
        asset=text("asset"), amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else 0,
        bucket=Bucket(item["bucket"]) if item.get("bucket") in tuple(Bucket) else Bucket.AVAILABLE,
        kind=EntryKind(item["kind"]) if item.get("kind") in tuple(EntryKind) else EntryKind.ADJUSTMENT, level=None,
        source=Source(text("source_type"), text("source_id")), rule_version=None, created_at=text("created_at"),
        available_at=None, prev_hash=text("prev_hash"), hash=MALFORMED,
    )


def account_key(holder: str) -> dict[str, Any]:
    return {"member_id": holder}


def account_item(account: Account) -> dict[str, Any]:
    item = {
        "member_id": account.holder, "seq": account.seq, "head_hash": account.head_hash,
        "balances": {name: {"buckets": dict(b.buckets), "lots": dict(b.lots), "lifetime_earned": b.earned,
                            "from_referrals": b.from_referrals, **({"dated": dict(b.dated)} if b.dated else {})}
                     for name, b in account.balances.items()},
    }
    if account.marks:
        # strings: a stream sequence number may have 40 digits, a DynamoDB number keeps 38
        item["marks"] = {str(lane): str(position) for lane, position in sorted(account.marks.items())}
    if account.settled:
        item["settled"] = dict(account.settled)
    return item


def account_from_item(item: dict[str, Any]) -> Account:
    return Account(
        holder=item["member_id"], seq=item["seq"], head_hash=item["head_hash"],
        balances={name: Balance(dict(b.get("buckets", {})), dict(b.get("lots", {})), b.get("lifetime_earned", 0),
                                b.get("from_referrals", 0), dict(b.get("dated", {})))
                  for name, b in item.get("balances", {}).items()},
        marks={int(lane): int(position) for lane, position in item.get("marks", {}).items()},
        settled={str(review): str(outcome) for review, outcome in item.get("settled", {}).items()},
    )


def deferred_item(deferred: Deferred) -> dict[str, Any]:
    """A queued posting in the CreditQueue table (the stream delivers it; the poster deletes it once applied)."""
    p = deferred.posting
    item: dict[str, Any] = {
        "pk": deferred.key, "sk": deferred.sort_key, "asset": p.asset, "amount": p.amount, "bucket": str(p.bucket),
        "kind": str(p.kind), "source_type": p.source.type, "source_id": p.source.id,
    }
    for name, value in (("level", p.level), ("rule_version", p.rule_version), ("available_at", p.available_at),
                        ("review", p.review), ("rule", p.rule)):  # rule: a queued action's (docs/leads.md)
        if value is not None:
            item[name] = value
    return item


def deferred_from_item(item: dict[str, Any]) -> Deferred:
    """A queued posting from its item; ``ValueError`` when the item is not one (its key must be the one its own
    fields give, or the poster could never delete it once posted)."""
    holder, lane = str(item["pk"]).rsplit("#", 1)
    posting = Posting(
        holder=holder, asset=str(item["asset"]), amount=int(item["amount"]), bucket=Bucket(item["bucket"]),
        kind=EntryKind(item["kind"]), source=Source(str(item["source_type"]), str(item["source_id"])),
        level=int(item["level"]) if item.get("level") is not None else None,
        rule_version=int(item["rule_version"]) if item.get("rule_version") is not None else None,
        available_at=str(item["available_at"]) if item.get("available_at") is not None else None,
        review=str(item["review"]) if item.get("review") is not None else None,
        rule=str(item["rule"]) if item.get("rule") is not None else None)
    found = Deferred(lane=int(lane), recorded_at=str(item["sk"]).split("#", 1)[0], posting=posting)
    if found.sort_key != item["sk"] or not isinstance(item["amount"], int):
        raise ValueError(f"{item['pk']}/{item['sk']} is not a queued posting")
    return found


def delivered_from_record(record: dict[str, Any]) -> Delivered:
    """A stream record of the CreditQueue table (``NewImage``, typed) as a delivered posting; ``ValueError``
    (or ``KeyError``) when it is not one."""
    data = record["dynamodb"]
    return Delivered(deferred_from_item(from_item(data["NewImage"])), int(data["SequenceNumber"]))


def record_item(record: Record) -> dict[str, Any]:
    """A feature's record as a transaction's item: conditioned on its key (``pk``) being new, or on what it holds;
    an update (``add``) moves numbers of the existing item (or, ``create``, of a new one) where its conditions hold."""
    part: dict[str, Any] = {"TableName": record.table}
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if record.expect is None and record.add is None:
        part["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        conditions = _record_conditions(record, names, values)
        if conditions:
            part["ConditionExpression"] = " AND ".join(conditions)
    if record.add is not None:
        moves = []
        for n, (name, delta) in enumerate(sorted(record.add.items())):
            names[f"#d{n}"], values[f":d{n}"] = name, delta
            moves.append(f"#d{n} :d{n}")
        part["UpdateExpression"] = "ADD " + ", ".join(moves)
    if names:
        part["ExpressionAttributeNames"] = names
    if values:
        part["ExpressionAttributeValues"] = to_item(values)
    if record.add is not None:
        return {"Update": {**part, "Key": to_item(dict(record.item))}}
    if record.delete:
        return {"Delete": {**part, "Key": to_item(dict(record.item))}}
    return {"Put": {**part, "Item": to_item(dict(record.item))}}


def _record_conditions(record: Record, names: dict[str, str], values: dict[str, Any]) -> list[str]:
    """What a record's stored item must hold: it exists (unless an update may ``create`` it), has the values
    ``expect`` names, each ``at_least`` number at least that and each ``at_most`` one at most that (a number never
    written is zero)."""
    conditions = []
    if not (record.create and record.add is not None and record.expect is None):
        names["#pk"] = "pk"
        conditions.append("attribute_exists(#pk)")
    for n, (name, value) in enumerate(sorted((record.expect or {}).items())):
        names[f"#e{n}"], values[f":e{n}"] = name, value
        conditions.append(f"#e{n} = :e{n}")
    for n, (name, least) in enumerate(sorted(record.at_least.items())):
        names[f"#l{n}"], values[f":l{n}"] = name, least
        conditions.append(f"#l{n} >= :l{n}")
    for n, (name, most) in enumerate(sorted(record.at_most.items())):
        names[f"#m{n}"], values[f":m{n}"] = name, most
        conditions.append(f"(attribute_not_exists(#m{n}) OR #m{n} <= :m{n})" if most >= 0 else f"#m{n} <= :m{n}")
    return conditions


def accounts_from(found: list[dict[str, Any]], holders: Sequence[str]) -> dict[str, Account]:
    """The accounts of a batch read, with an empty account for each holder that has none yet."""
    return {**{h: Account(h) for h in holders}, **{i["member_id"]: account_from_item(i) for i in found}}


# --- the store -------------------------------------------------------------------------------------

class DynamoLedgerStore:
    """``ledger.store.LedgerStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, tables: Tables, read_threads: int = 8,
                 expiry: Callable[[], ExpiryPolicy | None] | None = None) -> None:
        self._db = db
        self._t = tables
        self._read_threads = read_threads  # for a queue's lanes (in-process emulators are faster without threads)
        self._expiry = expiry  # the programme's expiry rule, as the wiring reads it (None: points never expire)

    def expiry(self) -> ExpiryPolicy | None:
        return self._expiry() if self._expiry is not None else None

    def accounts(self, holders: Sequence[str]) -> dict[str, Account]:
        unique = list(dict.fromkeys(holders))
        found = self._db.batch_get({self._t.accounts: [account_key(h) for h in unique]})
        return accounts_from(found.get(self._t.accounts, []), unique)

    def operation(self, key: str) -> Operation | None:
        item = self._db.get(self._t.operations, {"pk": key})
        return operation_from_item(item) if item else None

    def entries_page(self, holder: str, *, limit: int, before_seq: int | None) -> tuple[list[Entry], bool]:
        condition = "member_id = :m" + (" AND seq < :s" if before_seq is not None else "")
        values: dict[str, Any] = {":m": holder}
        if before_seq is not None:
            values[":s"] = before_seq
        answer = self._db.call(
            "query", TableName=self._t.ledger, KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values), ScanIndexForward=False, Limit=limit + 1, ConsistentRead=True,
        )
        items = [entry_from_item(from_item(i)) for i in answer.get("Items", [])]
        return items[:limit], len(items) > limit

    def entries(self, holder: str) -> Iterator[Entry]:
        for item in self._db.query(TableName=self._t.ledger, KeyConditionExpression="member_id = :m",
                                   ExpressionAttributeValues=to_item({":m": holder}), ConsistentRead=True):
            yield entry_as_found(item)

    def entry_hash(self, holder: str, seq: int) -> str | None:
        """The stored hash of the holder's entry at ``seq`` (anchoring checks a chain only grew)."""
        item = self._db.get(self._t.ledger, {"member_id": holder, "seq": seq})
        return str(item["hash"]) if item and "hash" in item else None

    def heads(self, page_size: int) -> Iterator[list[tuple[str, int, str]]]:
        """Every account's chain head ``(holder, seq, head_hash)``, one Scan page at a time (anchoring reads them).
        An account with no entry yet (kept only to remember a review's decision) has no chain: it is left out."""
        kwargs: dict[str, Any] = {"TableName": self._t.accounts, "Limit": page_size, "ConsistentRead": True,
                                  "ProjectionExpression": "member_id, seq, head_hash"}
        while True:
            answer = self._db.call("scan", **kwargs)
            yield [(i["member_id"], i["seq"], i["head_hash"]) for i in map(from_item, answer.get("Items", []))
                   if i["seq"] > 0]
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def queued(self, holder: str, spread: int) -> dict[str, int]:
        """One Query per lane, a few at a time, eventually consistent (half a read unit each): a second's lag
        is nothing to what queued means."""
        from concurrent.futures import ThreadPoolExecutor

        def lane_total(lane: int) -> list[tuple[str, int]]:
            found = self._db.query(
                TableName=self._t.queue, KeyConditionExpression="pk = :k", ConsistentRead=False,
                ExpressionAttributeValues=to_item({":k": queue_key(holder, lane)}), ProjectionExpression="#a, #n",
                ExpressionAttributeNames={"#a": "asset", "#n": "amount"})
            # An item edited out of shape is no posting (the poster parks it): not counted.
            return [(str(i.get("asset")), i["amount"]) for i in found
                    if isinstance(i.get("amount"), int) and not isinstance(i.get("amount"), bool)]

        totals: dict[str, int] = {}
        with ThreadPoolExecutor(max_workers=max(1, min(self._read_threads, spread))) as pool:
            for found in pool.map(lane_total, range(spread)):
                for asset, amount in found:
                    totals[asset] = totals.get(asset, 0) + amount
        return totals

    def forget(self, applied: Sequence[Deferred]) -> None:
        """Delete applied postings from the queue, 25 to a request."""
        keys = [{"pk": d.key, "sk": d.sort_key} for d in applied]
        for start in range(0, len(keys), 25):
            self._db.delete_many(self._t.queue, keys[start:start + 25])

    def _account_put(self, part: AccountWrite) -> dict[str, Any]:
        """The account's new item, conditioned on the account as read (seq, decisions) and on its stored buckets."""
        put: dict[str, Any] = {"TableName": self._t.accounts, "Item": to_item(account_item(part.after))}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if part.before.seq == 0:  # new, or kept only to remember reviews' decisions (no entries yet)
            condition, values[":seq"] = "(attribute_not_exists(member_id) OR seq = :seq)", 0
        else:
            condition, values[":seq"] = "seq = :seq", part.before.seq
        # A review's decision may write no entry (nothing left in its lot): the decisions it remembers must be
        # the ones read, or two writes at one seq would lose one (``settled`` only grows).
        if part.before.settled:
            names["#s"] = "settled"
            values[":settled"] = len(part.before.settled)
            condition += " AND size(#s) = :settled"
        else:
            condition += " AND attribute_not_exists(settled)"
        # Conditions on stored buckets (no overdraft) are part of the write itself, not a check before it.
        for n, ((asset, bucket), least) in enumerate(sorted(part.at_least.items())):
            names.update({"#b": "balances", "#k": "buckets", f"#a{n}": asset, f"#u{n}": str(bucket)})
            values[f":least{n}"] = least
            condition = f"({condition}) AND #b.#a{n}.#k.#u{n} >= :least{n}"
        for n, ((asset, bucket), most) in enumerate(sorted(part.at_most.items())):
            names.update({"#b": "balances", "#k": "buckets", f"#m{n}": asset, f"#v{n}": str(bucket)})
            values[f":most{n}"] = most
            # a bucket never written is zero: within any cap that is not below zero
            found = f"#b.#m{n}.#k.#v{n}"
            condition = (f"({condition}) AND (attribute_not_exists({found}) OR {found} <= :most{n})"
                         if most >= 0 else f"({condition}) AND {found} <= :most{n}")
        put["ConditionExpression"] = condition
        if names:
            put["ExpressionAttributeNames"] = names
        if values:
            put["ExpressionAttributeValues"] = to_item(values)
        return put

    def commit(self, write: LedgerWrite) -> None:
        """Write one business event atomically: the record, the guarded counter, accounts and entries, and the
        postings it defers."""
        items: list[dict[str, Any]] = []
        if write.operation is not None:
            items.append(put_operation(self._t.operations, write.operation))
        if write.counter is not None:
            c = write.counter
            items.append({"Update": {
                "TableName": self._t.operations, "Key": to_item({"pk": c.key}),
                "UpdateExpression": "SET #n = :new", "ConditionExpression": "#n = :old",
                "ExpressionAttributeNames": {"#n": c.name},
                "ExpressionAttributeValues": to_item({":new": c.new, ":old": c.expected}),
            }})
        for part in write.accounts:
            items.append({"Put": self._account_put(part)})
            items.extend({"Put": {
                "TableName": self._t.ledger, "Item": to_item(entry_item(entry)),
                "ConditionExpression": "attribute_not_exists(seq)",
            }} for entry in part.entries)
        items.extend({"Put": {
            "TableName": self._t.queue, "Item": to_item(deferred_item(deferred)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }} for deferred in write.deferred)
        first_record = len(items)
        items.extend(record_item(record) for record in write.records)
        try:
            self._db.transact(items)
        except Cancelled as cancelled:
            if write.operation is not None and cancelled.failed(0):
                raise OperationRecorded(write.operation.key) from None
            for n, record in enumerate(write.records):
                if record.refusal is not None and cancelled.failed(first_record + n):
                    raise record.refusal from None
            raise Contention(str(cancelled) or "transaction cancelled") from None
