"""The DynamoDB adapter: the only code that talks to DynamoDB.

Tables (names from the environment; key schemas in ``infra/template.yaml``):

- Members    ``pk``/``sk``: ``M#<id>``/``PROFILE`` the member; ``C#<code>``/``CODE`` a claimed referral
  code; ``M#<ancestor>``/``D#<level>#<joined_at>#<id>`` one edge per ancestor, so an ancestor can
  count and list the members below it without walking the tree.
- Accounts   ``member_id``: the chain head (``seq``, ``head_hash``) and the balances (``points``).
- Ledger     ``member_id``/``entry_id``, LSI ``by_seq`` on ``seq``: the entries. Append-only: the code
  only ever puts with ``attribute_not_exists``, and IAM grants no update or delete on this table.
- Operations ``pk``: one record per business event (purchase, refund, redemption, adjustment).
- Program    ``program_id``/``version``: every published version; version 0 is the current one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from loyalty.ledger import Account, Bucket, Entry, Kind, PointsBalance, Source
from loyalty.members import Member, Referee
from loyalty.ports import (
    TRANSIENT_CODES,
    CodeTaken,
    Contention,
    LedgerWrite,
    MemberTaken,
    NoSuchMember,
    Operation,
    OperationRecorded,
    ProgramChanged,
    Snapshot,
)
from loyalty.program import ProgramRules
from loyalty.referrals import ReferralPath
from loyalty.settings import Tables

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

PROGRAM_ID = "points"
CURRENT_VERSION = 0  # the program table's pointer to the current version
BY_SEQ = "by_seq"



def to_item(item: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as DynamoDB attribute values."""
    return {k: _serializer.serialize(v) for k, v in item.items()}


def _ints(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as a plain dict; numbers are ints (nothing here is fractional)."""
    return {k: _ints(_deserializer.deserialize(v)) for k, v in item.items()}


def _transient(error: Exception) -> bool:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in TRANSIENT_CODES
    return isinstance(error, (BotoConnectionError, HTTPClientError))


# --- mapping between domain objects and items ---------------------------------------------------

def entry_item(entry: Entry) -> dict[str, Any]:
    return {
        "member_id": entry.member_id, "entry_id": entry.entry_id, "seq": entry.seq, "asset": entry.asset,
        "amount": entry.amount, "bucket": str(entry.bucket), "kind": str(entry.kind), "level": entry.level,
        "source_type": entry.source.type, "source_id": entry.source.id, "rule_version": entry.rule_version,
        "created_at": entry.created_at, "available_at": entry.available_at,
        "prev_hash": entry.prev_hash, "hash": entry.hash,
    }


def entry_from_item(item: dict[str, Any]) -> Entry:
    return Entry(
        member_id=item["member_id"], entry_id=item["entry_id"], seq=item["seq"], asset=item["asset"],
        amount=item["amount"], bucket=Bucket(item["bucket"]), kind=Kind(item["kind"]), level=item.get("level"),
        source=Source(item["source_type"], item["source_id"]), rule_version=item.get("rule_version"),
        created_at=item["created_at"], available_at=item.get("available_at"),
        prev_hash=item["prev_hash"], hash=item["hash"],
    )


MALFORMED = "malformed"


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
        member_id=text("member_id"), entry_id=text("entry_id"), seq=int(item.get("seq") or 0),
        asset=text("asset"), amount=amount if isinstance(amount, int) and not isinstance(amount, bool) else 0,
        bucket=Bucket(item["bucket"]) if item.get("bucket") in tuple(Bucket) else Bucket.AVAILABLE,
        kind=Kind(item["kind"]) if item.get("kind") in tuple(Kind) else Kind.ADJUSTMENT, level=None,
        source=Source(text("source_type"), text("source_id")), rule_version=None, created_at=text("created_at"),
        available_at=None, prev_hash=text("prev_hash"), hash=MALFORMED,
    )


def account_item(account: Account) -> dict[str, Any]:
    points = account.points
    return {
        "member_id": account.member_id, "seq": account.seq, "head_hash": account.head_hash,
        "points": {
            "available": points.available, "pending": points.pending,
            "lifetime_earned": points.lifetime_earned, "from_referrals": points.from_referrals,
            "lots": dict(points.lots),
        },
    }


def account_from_item(item: dict[str, Any]) -> Account:
    points = item.get("points", {})
    return Account(
        member_id=item["member_id"], seq=item["seq"], head_hash=item["head_hash"],
        points=PointsBalance(
            available=points.get("available", 0), pending=points.get("pending", 0),
            lifetime_earned=points.get("lifetime_earned", 0), from_referrals=points.get("from_referrals", 0),
            lots=dict(points.get("lots", {})),
        ),
    )


def member_item(member: Member) -> dict[str, Any]:
    item = {
        "pk": f"M#{member.member_id}", "sk": "PROFILE", "member_id": member.member_id, "email": member.email,
        "display_name": member.display_name, "referral_code": member.referral_code,
        "ancestors": list(member.path.ancestors), "joined_at": member.joined_at, "locale": member.locale,
        "marketing_opt_in": member.marketing_opt_in,
    }
    optional = {"birthday": member.birthday, "time_zone": member.time_zone,
                "birthday_changed_at": member.birthday_changed_at}
    item.update({k: v for k, v in optional.items() if v is not None})
    item["notices"] = member.notices
    # Sparse keys of the Members GSIs outreach reads: birthdays by day, opted-in members by shard.
    if member.birthday is not None:
        item["birthday_md"] = member.birthday[5:]
    if member.marketing_opt_in:
        item["optin_shard"] = optin_shard(member.member_id)
    return item


OPTIN_SHARDS = 16


def shard_of(key: str, shards: int) -> int:
    """A stable shard for a key, spread evenly (so no GSI or due-index partition runs hot)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % shards


def optin_shard(member_id: str) -> str:
    return f"{shard_of(member_id, OPTIN_SHARDS):02d}"


def member_from_item(item: dict[str, Any]) -> Member:
    return Member(
        member_id=item["member_id"], email=item["email"], display_name=item["display_name"],
        referral_code=item["referral_code"], path=ReferralPath(tuple(item.get("ancestors", []))),
        joined_at=item["joined_at"], locale=item["locale"], marketing_opt_in=bool(item["marketing_opt_in"]),
        birthday=item.get("birthday"), time_zone=item.get("time_zone"), notices=bool(item.get("notices", True)),
        birthday_changed_at=item.get("birthday_changed_at"),
    )


def program_item(rules: ProgramRules, version: int) -> dict[str, Any]:
    return {
        "program_id": PROGRAM_ID, "version": version, "rules_version": rules.version,
        "points_per_currency_unit": rules.points_per_currency_unit,
        "referral_rates_bps": list(rules.referral_rates_bps), "hold_days": rules.hold_days,
        "currency": rules.currency,
    }


def program_from_item(item: dict[str, Any]) -> ProgramRules:
    return ProgramRules(
        version=item["rules_version"], points_per_currency_unit=item["points_per_currency_unit"],
        referral_rates_bps=tuple(item["referral_rates_bps"]), hold_days=item["hold_days"],
        currency=item["currency"],
    )


def operation_item(op: Operation) -> dict[str, Any]:
    return {
        "pk": op.key, "fingerprint": op.fingerprint, "status": op.status,
        "response": json.dumps(op.response, separators=(",", ":")), "created_at": op.created_at, **op.state,
    }


def operation_from_item(item: dict[str, Any]) -> Operation:
    fixed = {"pk", "fingerprint", "status", "response", "created_at"}
    return Operation(
        key=item["pk"], fingerprint=item["fingerprint"], status=item["status"],
        response=json.loads(item["response"]), created_at=item["created_at"],
        state={k: v for k, v in item.items() if k not in fixed},
    )


class DynamoStore:
    """``loyalty.ports.Store`` on DynamoDB, through one low-level client."""

    def __init__(self, client: Any, tables: Tables) -> None:
        self._db = client
        self._t = tables

    # --- reads ---------------------------------------------------------------------------------

    def snapshot(self, *, members: Sequence[str] = (), accounts: Sequence[str] = (),
                 program: bool = False) -> Snapshot:
        requests: dict[str, list[dict[str, Any]]] = {}
        if members:
            requests[self._t.members] = [{"pk": f"M#{m}", "sk": "PROFILE"} for m in dict.fromkeys(members)]
        if accounts:
            requests[self._t.accounts] = [{"member_id": a} for a in dict.fromkeys(accounts)]
        if program:
            requests[self._t.program] = [{"program_id": PROGRAM_ID, "version": CURRENT_VERSION}]
        found = self._batch_get(requests)
        return Snapshot(
            members={i["member_id"]: member_from_item(i) for i in found.get(self._t.members, [])},
            accounts={
                **{a: Account(a) for a in accounts},
                **{i["member_id"]: account_from_item(i) for i in found.get(self._t.accounts, [])},
            },
            program=next((program_from_item(i) for i in found.get(self._t.program, [])), None),
        )

    def _batch_get(self, requests: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        pending = {t: {"Keys": [to_item(k) for k in keys], "ConsistentRead": True} for t, keys in requests.items()}
        # Keys DynamoDB could not serve now are asked for again at once, twice; after that the caller's
        # retry policy (with its backoff and time budget) decides, not a second loop here.
        for _ in range(3):
            if not pending:
                return found
            answer = self._call(self._db.batch_get_item, RequestItems=pending)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(from_item(i) for i in items)
            pending = answer.get("UnprocessedKeys") or {}
        if pending:
            raise Contention("reads were not served in time")
        return found

    def _call(self, operation: Any, **kwargs: Any) -> Any:
        """One DynamoDB call; throttling and timeouts become Contention for the use case to retry."""
        try:
            return operation(**kwargs)
        except (ClientError, BotoConnectionError, HTTPClientError) as error:
            if _transient(error):
                raise Contention(str(error)) from error
            raise

    def _get(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        answer = self._call(self._db.get_item, TableName=table, Key=to_item(key), ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    def operation(self, key: str) -> Operation | None:
        item = self._get(self._t.operations, {"pk": key})
        return operation_from_item(item) if item else None

    def member_id_for_code(self, code: str) -> str | None:
        item = self._get(self._t.members, {"pk": f"C#{code}", "sk": "CODE"})
        return item["member_id"] if item else None

    def program_version(self, version: int) -> ProgramRules | None:
        item = self._get(self._t.program, {"program_id": PROGRAM_ID, "version": version})
        return program_from_item(item) if item else None

    def entries_page(self, member_id: str, *, limit: int, before_seq: int | None) -> tuple[list[Entry], bool]:
        """Up to ``limit`` entries, newest first, below ``before_seq``; and whether more exist."""
        condition = "member_id = :m" + (" AND seq < :s" if before_seq is not None else "")
        values: dict[str, Any] = {":m": member_id}
        if before_seq is not None:
            values[":s"] = before_seq
        answer = self._call(
            self._db.query,
            TableName=self._t.ledger, IndexName=BY_SEQ, KeyConditionExpression=condition,
            ExpressionAttributeValues=to_item(values), ScanIndexForward=False, Limit=limit + 1, ConsistentRead=True,
        )
        items = [entry_from_item(from_item(i)) for i in answer.get("Items", [])]
        return items[:limit], len(items) > limit

    def entries(self, member_id: str) -> Iterator[Entry]:
        """Every entry of a member in seq order, read page by page, as found (see ``entry_as_found``)."""
        kwargs: dict[str, Any] = {
            "TableName": self._t.ledger, "IndexName": BY_SEQ, "KeyConditionExpression": "member_id = :m",
            "ExpressionAttributeValues": to_item({":m": member_id}), "ConsistentRead": True,
        }
        while True:
            answer = self._call(self._db.query, **kwargs)
            for item in answer.get("Items", []):
                yield entry_as_found(from_item(item))
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def referees(self, member_id: str, *, level: int, limit: int) -> list[Referee]:
        answer = self._call(
            self._db.query,
            TableName=self._t.members, KeyConditionExpression="pk = :p AND begins_with(sk, :d)",
            ExpressionAttributeValues=to_item({":p": f"M#{member_id}", ":d": f"D#{level:02d}#"}), Limit=limit,
        )
        return [
            Referee(i["member_id"], i["display_name"], i["joined_at"], i["level"])
            for i in map(from_item, answer.get("Items", []))
        ]

    def referee_counts(self, member_id: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        kwargs: dict[str, Any] = {
            "TableName": self._t.members, "KeyConditionExpression": "pk = :p AND begins_with(sk, :d)",
            "ExpressionAttributeValues": to_item({":p": f"M#{member_id}", ":d": "D#"}),
            "ProjectionExpression": "sk",
        }
        while True:
            answer = self._call(self._db.query, **kwargs)
            for item in answer.get("Items", []):
                level = int(item["sk"]["S"][2:4])
                counts[level] = counts.get(level, 0) + 1
            if "LastEvaluatedKey" not in answer:
                return counts
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    # --- writes --------------------------------------------------------------------------------

    def commit(self, write: LedgerWrite) -> None:
        """Write one business event atomically: the record, the guarded counter, accounts and entries."""
        op = write.operation
        items: list[dict[str, Any]] = [{"Put": {
            "TableName": self._t.operations, "Item": to_item(operation_item(op)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }}]
        if write.counter is not None:
            c = write.counter
            items.append({"Update": {
                "TableName": self._t.operations, "Key": to_item({"pk": c.key}),
                "UpdateExpression": "SET #n = :new", "ConditionExpression": "#n = :old",
                "ExpressionAttributeNames": {"#n": c.name},
                "ExpressionAttributeValues": to_item({":new": c.new, ":old": c.expected}),
            }})
        for part in write.accounts:
            put: dict[str, Any] = {"TableName": self._t.accounts, "Item": to_item(account_item(part.after))}
            if part.before.seq == 0:
                put["ConditionExpression"] = "attribute_not_exists(member_id)"
            else:
                put["ConditionExpression"] = "seq = :seq"
                put["ExpressionAttributeValues"] = to_item({":seq": part.before.seq})
            if part.min_available is not None:
                # The no-overdraft condition is part of the write itself, not a check before it.
                put["ConditionExpression"] = f"({put['ConditionExpression']}) AND points.available >= :min"
                put["ExpressionAttributeValues"] = {
                    **put.get("ExpressionAttributeValues", {}), **to_item({":min": part.min_available})}
            items.append({"Put": put})
            items.extend({"Put": {
                "TableName": self._t.ledger, "Item": to_item(entry_item(entry)),
                "ConditionExpression": "attribute_not_exists(entry_id)",
            }} for entry in part.entries)
        self._transact(items, first_is_record=True)

    def create_member(self, member: Member) -> None:
        items: list[dict[str, Any]] = [
            {"Put": {"TableName": self._t.members, "Item": to_item(member_item(member)),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Put": {"TableName": self._t.members,
                     "Item": to_item({"pk": f"C#{member.referral_code}", "sk": "CODE", "member_id": member.member_id}),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ]
        if member.referrer_id is not None:
            items.append({"ConditionCheck": {
                "TableName": self._t.members, "Key": to_item({"pk": f"M#{member.referrer_id}", "sk": "PROFILE"}),
                "ConditionExpression": "attribute_exists(pk)",
            }})
        for level, ancestor in enumerate(member.path.ancestors, start=1):
            items.append({"Put": {"TableName": self._t.members, "Item": to_item({
                "pk": f"M#{ancestor}", "sk": f"D#{level:02d}#{member.joined_at}#{member.member_id}",
                "member_id": member.member_id, "display_name": member.display_name,
                "joined_at": member.joined_at, "level": level,
            })}})
        try:
            self._transact(items, first_is_record=False)
        except _Cancelled as cancelled:
            if cancelled.failed(0):
                raise MemberTaken(member.member_id) from None
            if cancelled.failed(1):
                raise CodeTaken(member.referral_code) from None
            raise Contention("sign-up raced with another write") from None

    def update_member(self, member_id: str, fields: dict[str, Any]) -> None:
        """Change some of a member's profile fields (None removes one); the member must exist.

        The GSI keys that follow from them (opted-in shard, birthday day) change in the same write.
        """
        fields = dict(fields)
        if "marketing_opt_in" in fields:
            fields["optin_shard"] = optin_shard(member_id) if fields["marketing_opt_in"] else None
        if fields.get("birthday"):
            fields["birthday_md"] = fields["birthday"][5:]
        sets = {k: v for k, v in fields.items() if v is not None}
        removes = [k for k, v in fields.items() if v is None]
        names = {f"#f{i}": k for i, k in enumerate([*sets, *removes])}
        by_name = {k: n for n, k in names.items()}
        expression = ""
        if sets:
            expression += "SET " + ", ".join(f"{by_name[k]} = :v{i}" for i, k in enumerate(sets))
        if removes:
            expression += " REMOVE " + ", ".join(by_name[k] for k in removes)
        kwargs: dict[str, Any] = {
            "TableName": self._t.members, "Key": to_item({"pk": f"M#{member_id}", "sk": "PROFILE"}),
            "UpdateExpression": expression.strip(), "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
        }
        if sets:
            kwargs["ExpressionAttributeValues"] = to_item({f":v{i}": v for i, v in enumerate(sets.values())})
        try:
            self._call(self._db.update_item, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NoSuchMember(member_id) from None
            raise

    def publish_program(self, rules: ProgramRules, *, previous: ProgramRules, previous_stored: bool) -> None:
        items: list[dict[str, Any]] = []
        if not previous_stored:  # the built-in defaults become a stored, readable version 1 on first publish
            items.append({"Put": {"TableName": self._t.program,
                                  "Item": to_item(program_item(previous, previous.version)),
                                  "ConditionExpression": "attribute_not_exists(version)"}})
        items.append({"Put": {"TableName": self._t.program, "Item": to_item(program_item(rules, rules.version)),
                              "ConditionExpression": "attribute_not_exists(version)"}})
        pointer: dict[str, Any] = {"TableName": self._t.program, "Item": to_item(program_item(rules, CURRENT_VERSION))}
        if previous_stored:
            pointer["ConditionExpression"] = "rules_version = :v"
            pointer["ExpressionAttributeValues"] = to_item({":v": previous.version})
        else:
            pointer["ConditionExpression"] = "attribute_not_exists(version)"
        items.append({"Put": pointer})
        try:
            self._transact(items, first_is_record=False)
        except _Cancelled:
            raise ProgramChanged(str(rules.version)) from None

    def _transact(self, items: list[dict[str, Any]], *, first_is_record: bool) -> None:
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                if _transient(error):
                    raise Contention(str(error)) from error
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            if not first_is_record:
                raise _Cancelled(reasons) from None
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise OperationRecorded(items[0]["Put"]["Item"]["pk"]["S"]) from None
            raise Contention(",".join(reasons) or "transaction cancelled") from None
        except (BotoConnectionError, HTTPClientError) as error:
            # The write may or may not have happened; the caller re-reads, and the operation record
            # tells a replay from a first attempt.
            raise Contention(str(error)) from error


class _Cancelled(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(",".join(reasons))
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"
