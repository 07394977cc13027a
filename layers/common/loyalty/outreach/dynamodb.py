"""Outreach state in DynamoDB (the Outreach table, ``pk``/``sk``), and member reads it needs.

- ``DUE#<shard>`` / ``<due_at>#<member>#<kind>#<occasion>``: reminders waiting for their time, sorted
  by it, in a fixed number of shards (by member) so writes spread over partitions and the dispatcher
  finds everything due with one query per shard, however long it has been since it last ran.
- ``MEMBER#<id>`` / ``MSG#<kind>#<occasion>``: the send log, one item per (member, kind, occasion);
  its status moves planned → deferred* → sending → sent|failed, or → suppressed|dropped, and only
  forward, by conditional writes: that is what makes every email go out at most once.
- ``MEMBER#<id>`` / ``CONTACT``: recent marketing sends (the cap), last purchase, categories bought.
- ``SUPPRESSED#<email>``: addresses SES reported as bounced or complained.
- ``SETTINGS`` / ``OUTREACH`` | ``REPLACEMENTS`` | ``HOLIDAYS``: what the admin configures.
- ``CAMPAIGN#<id>`` / ``CAMPAIGN``: a campaign, its filter and its counters.
- ``HOLIDAY#<id>`` / ``FANOUT``: the marker that a holiday's fan-out has begun.
- ``QUARANTINE#DUE`` / ``<shard>#<due item's key>``: due items that could not be read or queued, with why.

Past 300 lines on purpose: it is the one adapter of one port over one table, and its parts share the key
layout above and the client; split by part it would be five classes implementing one Protocol between them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from loyalty.ledger.assets import POINTS
from loyalty.ledger.dynamodb import entry_from_item
from loyalty.ledger.entries import Entry
from loyalty.members.dynamodb import OPTIN_SHARDS
from loyalty.outreach.plans import Holiday, ReplacementRule
from loyalty.outreach.policy import ContactHistory, OutreachSettings, Reminder
from loyalty.outreach.store import ClaimLost, Planned
from loyalty.purchases.domain import PurchaseRecord
from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.dynamo import Dynamo, error_code, from_item, operation_from_item, shard_of, table_of, to_item
from loyalty.shared.once import Contention

QUARANTINE = "QUARANTINE#DUE"  # due items that could not be queued, kept with why (outside every DUE# shard)
UNPROCESSED_TRIES = 5  # rounds of unprocessed keys or items before the caller's retry (a queue's redelivery) decides


def _log_key(member_id: str, kind: str, occasion: str) -> dict[str, str]:
    return {"pk": f"MEMBER#{member_id}", "sk": f"MSG#{kind}#{occasion}"}


def due_item(reminder: Reminder, shards: int) -> dict[str, Any]:
    """A reminder's item in the due index (the same reminder lands on the same key): for ``schedule``, and for a
    feature that plans an email in its own transaction (feedback's replies and alerts)."""
    return {"pk": f"DUE#{shard_of(reminder.member_id, shards):02d}",
            "sk": f"{to_rfc3339(reminder.due_at)}#{reminder.member_id}#{reminder.kind}#{reminder.occasion}",
            "message": json.dumps(reminder.to_message(), ensure_ascii=False)}


def purchase_from_stream(record: dict[str, Any]) -> PurchaseRecord | None:
    """The purchase a DynamoDB stream record of the Operations table inserts, if it is one."""
    image = record.get("dynamodb", {}).get("NewImage")
    if record.get("eventName") != "INSERT" or not image:
        return None
    item = from_item(image)
    if not str(item.get("pk", "")).startswith("purchase/"):
        return None
    op = operation_from_item(item)
    return PurchaseRecord.from_state(op.key.removeprefix("purchase/"), op.state, op.created_at)


def entry_from_stream(record: dict[str, Any], ledger_table: str) -> Entry | None:
    """The points entry a DynamoDB stream record of the Ledger table inserts, if it is one (docs/earning-expiry.md:
    what it dates plans the member's expiry notices)."""
    image = record.get("dynamodb", {}).get("NewImage")
    if record.get("eventName") != "INSERT" or not image \
            or table_of(str(record.get("eventSourceARN", ""))) != ledger_table:
        return None
    entry = entry_from_item(from_item(image))
    return entry if entry.asset == POINTS.name else None


class DynamoOutreachStore:
    """``outreach.store.OutreachStore`` on DynamoDB."""

    optin_shards = OPTIN_SHARDS

    def __init__(self, db: Dynamo, table: str, members_table: str, *, shards: int = 8) -> None:
        self._db = db
        self._table = table
        self._members = members_table
        self.shards = shards

    # --- settings --------------------------------------------------------------------------------

    def _setting(self, name: str) -> dict[str, Any] | None:
        return self._db.get(self._table, {"pk": "SETTINGS", "sk": name})

    def _put_setting(self, name: str, value: dict[str, Any]) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item({"pk": "SETTINGS", "sk": name, **value}))

    def settings(self) -> OutreachSettings:
        item = self._setting("OUTREACH") or {}
        known = OutreachSettings.__dataclass_fields__
        return OutreachSettings(**{k: v for k, v in item.items() if k in known})

    def save_settings(self, settings: OutreachSettings) -> None:
        self._put_setting("OUTREACH", asdict(settings))

    def replacement_rules(self) -> list[ReplacementRule]:
        item = self._setting("REPLACEMENTS") or {}
        return [ReplacementRule.from_dict(rule) for rule in json.loads(item.get("rules", "[]"))]

    def save_replacement_rules(self, rules: list[ReplacementRule]) -> None:
        # Unescaped: a guide in Chinese as \uXXXX would take twice the bytes of its UTF-8 (one item: 400 KB at most).
        self._put_setting("REPLACEMENTS", {"rules": json.dumps([asdict(r) for r in rules], ensure_ascii=False)})

    def holidays(self) -> list[Holiday]:
        item = self._setting("HOLIDAYS") or {}
        return [Holiday(**h) for h in json.loads(item.get("holidays", "[]"))]

    def save_holidays(self, holidays: list[Holiday]) -> None:
        self._put_setting("HOLIDAYS", {"holidays": json.dumps([asdict(h) for h in holidays], ensure_ascii=False)})

    # --- the due index ---------------------------------------------------------------------------

    def _due_shard(self, shard: int) -> str:
        return f"DUE#{shard:02d}"

    def schedule(self, reminders: Sequence[Reminder]) -> None:
        """Put reminders in the due index. Idempotent: the same reminder lands on the same key."""
        for reminder in reminders:
            self._db.call("put_item", TableName=self._table, Item=to_item(due_item(reminder, self.shards)))

    def due(self, now: datetime) -> Iterator[tuple[dict[str, str], Reminder | None]]:
        """Every reminder whose time has come, with its key, shard by shard, oldest first (None for an item
        that is not a readable reminder: the caller sets it aside rather than stopping at it)."""
        for shard in range(self.shards):
            for item in self._db.query(
                    TableName=self._table, KeyConditionExpression="pk = :p AND sk <= :s",
                    ExpressionAttributeValues=to_item({":p": self._due_shard(shard), ":s": to_rfc3339(now) + "~"})):
                try:
                    reminder: Reminder | None = Reminder.from_message(json.loads(item["message"]))
                except (KeyError, TypeError, ValueError):
                    reminder = None
                yield {"pk": item["pk"], "sk": item["sk"]}, reminder

    def quarantine_due(self, key: dict[str, str], reason: str, now: datetime) -> None:
        item = self._db.get(self._table, key)
        if item is not None:
            self._db.call("put_item", TableName=self._table, Item=to_item(
                {**item, "pk": QUARANTINE, "sk": f"{key['pk']}#{key['sk']}", "reason": reason,
                 "quarantined_at": to_rfc3339(now)}))
        self.forget_due([key])

    def next_due(self) -> datetime | None:
        """When the earliest reminder in the index is due (one item read per shard)."""
        earliest: datetime | None = None
        for shard in range(self.shards):
            answer = self._db.call("query", TableName=self._table, KeyConditionExpression="pk = :p", Limit=1,
                                   ExpressionAttributeValues=to_item({":p": self._due_shard(shard)}))
            for item in map(from_item, answer.get("Items", [])):
                at = parse_rfc3339(item["sk"].split("#", 1)[0])
                earliest = at if earliest is None else min(earliest, at)
        return earliest

    def forget_due(self, keys: Sequence[dict[str, str]]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": to_item(k)}} for k in keys[start:start + 25]]
            pending: dict[str, Any] = {self._table: requests}
            for _ in range(UNPROCESSED_TRIES):
                pending = self._db.call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
            else:  # left in the index: the next run queues them again, and the send log sends each once
                raise Contention("the due index could not be cleared in time")

    # --- the send log ----------------------------------------------------------------------------

    def log(self, member_id: str, kind: str, occasion: str) -> dict[str, Any] | None:
        return self._db.get(self._table, _log_key(member_id, kind, occasion))

    def logs(self, member_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """The member's send log: each item with its ``kind`` and ``occasion``."""
        answer = self._db.call(
            "query", TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :m)",
            ExpressionAttributeValues=to_item({":p": f"MEMBER#{member_id}", ":m": "MSG#"}), Limit=limit,
            ConsistentRead=True)
        found = []
        for item in map(from_item, answer.get("Items", [])):
            _, kind, occasion = item["sk"].split("#", 2)
            found.append({**item, "kind": kind, "occasion": occasion})
        return found

    def plan(self, reminder: Reminder, now: datetime, campaign_id: str | None = None) -> Planned:
        """Record a reminder as planned unless it already is. ``new`` if this wrote it; ``planned`` if it
        was already planned and has gone no further (queue it again: a send that failed after planning
        must not lose it, and the sender's claim sends it once however often it is queued); ``done``
        if it went further (sent, deferred, dropped …)."""
        key = _log_key(reminder.member_id, reminder.kind, reminder.occasion)
        item = {**key, "status": "planned", "reason": "planned", "updated_at": to_rfc3339(now),
                "due_at": to_rfc3339(reminder.due_at),
                "history": [{"at": to_rfc3339(now), "status": "planned", "reason": "planned"}]}
        if campaign_id:
            item["campaign_id"] = campaign_id
        if self._db.put_new(self._table, item):
            return "new"
        found = self._db.get(self._table, key, ProjectionExpression="#s", ExpressionAttributeNames={"#s": "status"})
        return "planned" if (found or {}).get("status") == "planned" else "done"

    def record(self, reminder: Reminder, status: str, reason: str, now: datetime, *,
               extra: dict[str, Any] | None = None, contact: tuple[ContactHistory, ContactHistory] | None = None,
               campaign_id: str | None = None) -> None:
        """Move a message's log forward to ``status``, only from an open status (planned/deferred).

        With ``contact`` (before, after), the member's contact history moves in the same transaction,
        conditioned on its version: two dispatchers can never both spend the member's last slot.
        Raises ClaimLost when either condition fails.
        """
        if campaign_id:
            extra = {**(extra or {}), "campaign_id": campaign_id}
        update = self._log_update(reminder, status, reason, now, extra,
                                  condition="attribute_not_exists(pk) OR #s IN (:planned, :deferred)",
                                  values={":planned": "planned", ":deferred": "deferred", ":n": []},
                                  history="list_append(if_not_exists(#h, :n), :e)")
        items = [{"Update": update}]
        if contact is not None:
            items.append({"Update": self._contact_update(reminder.member_id, *contact)})
        try:
            self._db.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ClaimLost(str(error)) from None
            raise

    def finish(self, reminder: Reminder, status: str, reason: str, now: datetime,
               extra: dict[str, Any] | None = None) -> None:
        """After a claimed send: the outcome (sent or failed). Only the claim's owner calls this."""
        self._db.call("update_item", **self._log_update(reminder, status, reason, now, extra,
                                                        condition="#s = :sending", values={":sending": "sending"},
                                                        history="list_append(#h, :e)"))

    def _log_update(self, reminder: Reminder, status: str, reason: str, now: datetime,
                    extra: dict[str, Any] | None, *, condition: str, values: dict[str, Any],
                    history: str) -> dict[str, Any]:
        """The update that moves a send log item to ``status``, appends to its history and sets ``extra``."""
        entry = {"at": to_rfc3339(now), "status": status, "reason": reason}
        names = {"#s": "status", "#r": "reason", "#u": "updated_at", "#h": "history"}
        values = {**values, ":s": status, ":r": reason, ":u": to_rfc3339(now), ":e": [entry]}
        sets = f"#s = :s, #r = :r, #u = :u, #h = {history}"
        for index, (key, value) in enumerate((extra or {}).items()):
            names[f"#x{index}"], values[f":x{index}"] = key, value
            sets += f", #x{index} = :x{index}"
        return {"TableName": self._table,
                "Key": to_item(_log_key(reminder.member_id, reminder.kind, reminder.occasion)),
                "UpdateExpression": f"SET {sets}", "ConditionExpression": condition,
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}

    # --- the member's contact history ------------------------------------------------------------

    def contact(self, member_id: str) -> ContactHistory:
        item = self._db.get(self._table, {"pk": f"MEMBER#{member_id}", "sk": "CONTACT"})
        if item is None:
            return ContactHistory()
        return ContactHistory(tuple(parse_rfc3339(t) for t in item.get("marketing_sent", [])),
                              item.get("last_order_id"), item.get("version", 0))

    def _contact_update(self, member_id: str, before: ContactHistory, after: ContactHistory) -> dict[str, Any]:
        """Record the member's marketing sends, only if nothing touched the history since it was read."""
        update: dict[str, Any] = {
            "TableName": self._table, "Key": to_item({"pk": f"MEMBER#{member_id}", "sk": "CONTACT"}),
            "UpdateExpression": "SET #m = :m, #v = :new",
            "ExpressionAttributeNames": {"#m": "marketing_sent", "#v": "version"},
            "ExpressionAttributeValues": to_item({":m": [to_rfc3339(t) for t in after.marketing_sent],
                                                  ":new": after.version}),
        }
        if before.version == 0:
            update["ConditionExpression"] = "attribute_not_exists(#v)"
        else:
            update["ConditionExpression"] = "#v = :old"
            update["ExpressionAttributeValues"].update(to_item({":old": before.version}))
        return update

    def note_purchase(self, member_id: str, order_id: str, recorded_at: str, categories: list[str]) -> None:
        """Remember the member's latest purchase (win-back) and what they buy (campaign filters)."""
        names = {"#o": "last_order_id", "#a": "last_order_at", "#v": "version"}
        values: dict[str, Any] = {":o": order_id, ":a": recorded_at, ":one": 1, ":zero": 0}
        update = "SET #o = :o, #a = :a, #v = if_not_exists(#v, :zero) + :one"
        if categories:
            names["#c"], values[":c"] = "categories", set(categories)
            update += " ADD #c :c"
        try:
            self._db.call(
                "update_item", TableName=self._table, Key=to_item({"pk": f"MEMBER#{member_id}", "sk": "CONTACT"}),
                UpdateExpression=update, ConditionExpression="attribute_not_exists(#a) OR #a <= :a",
                ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise  # an older purchase arriving late does not move "latest"

    def categories(self, member_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for start in range(0, len(member_ids), 100):
            keys = [{"pk": f"MEMBER#{m}", "sk": "CONTACT"} for m in member_ids[start:start + 100]]
            pending: dict[str, Any] = {self._table: {"Keys": [to_item(k) for k in keys],
                                                     "ProjectionExpression": "pk, categories"}}
            for _ in range(UNPROCESSED_TRIES):
                answer = self._db.call("batch_get_item", RequestItems=pending)
                for raw in answer.get("Responses", {}).get(self._table, []):
                    item = from_item(raw)
                    found[item["pk"].removeprefix("MEMBER#")] = set(item.get("categories", set()))
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
            else:
                raise Contention("categories were not served in time")
        return found

    # --- suppressions ----------------------------------------------------------------------------

    def suppression(self, email: str) -> str | None:
        item = self._db.get(self._table, {"pk": f"SUPPRESSED#{email.lower()}", "sk": "SUPPRESSED"})
        return str(item["reason"]) if item else None

    def suppress(self, email: str, reason: str, now: datetime) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item({
            "pk": f"SUPPRESSED#{email.lower()}", "sk": "SUPPRESSED", "reason": reason, "at": to_rfc3339(now)}))

    # --- holidays and campaigns ------------------------------------------------------------------

    def fanout_started(self, key: str) -> bool:
        """Whether a holiday's or campaign's fan-out has been queued (``mark_fanout``)."""
        return self._db.get(self._table, {"pk": key, "sk": "FANOUT"}) is not None

    def mark_fanout(self, key: str, now: datetime) -> None:
        """Record that a fan-out was queued (written after queueing it, so a failed send is tried again)."""
        self._db.put_new(self._table, {"pk": key, "sk": "FANOUT", "at": to_rfc3339(now)})

    def create_campaign(self, campaign: dict[str, Any]) -> bool:
        return self._db.put_new(self._table, {
            "pk": f"CAMPAIGN#{campaign['campaign_id']}", "sk": "CAMPAIGN",
            "definition": json.dumps(campaign, ensure_ascii=False, sort_keys=True),
            "targeted": 0, "sent": 0, "suppressed": 0, "dropped": 0, "failed": 0})

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        item = self._db.get(self._table, {"pk": f"CAMPAIGN#{campaign_id}", "sk": "CAMPAIGN"})
        if item is None:
            return None
        return {**json.loads(item["definition"]),
                "counts": {k: item.get(k, 0) for k in ("targeted", "sent", "suppressed", "dropped", "failed")}}

    def count(self, campaign_id: str, counter: str) -> None:
        self._db.call("update_item", TableName=self._table,
                      Key=to_item({"pk": f"CAMPAIGN#{campaign_id}", "sk": "CAMPAIGN"}),
                      UpdateExpression="ADD #c :one", ExpressionAttributeNames={"#c": counter},
                      ExpressionAttributeValues=to_item({":one": 1}))

    # --- members, as outreach reads them ---------------------------------------------------------

    def birthdays(self, month_day: str) -> Iterator[dict[str, Any]]:
        yield from self._db.query(TableName=self._members, IndexName="by_birthday",
                                  KeyConditionExpression="birthday_md = :d",
                                  ExpressionAttributeValues=to_item({":d": month_day}))

    def opted_in(self, shard: int, start: dict[str, Any] | None, limit: int) -> tuple[list[dict[str, Any]],
                                                                                    dict[str, Any] | None]:
        kwargs: dict[str, Any] = {"TableName": self._members, "IndexName": "by_optin",
                                  "KeyConditionExpression": "optin_shard = :s",
                                  "ExpressionAttributeValues": to_item({":s": f"{shard:02d}"}), "Limit": limit}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = self._db.call("query", **kwargs)
        return [from_item(i) for i in answer.get("Items", [])], answer.get("LastEvaluatedKey")
