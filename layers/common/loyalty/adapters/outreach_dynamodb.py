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
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from loyalty.adapters.dynamodb import from_item, shard_of, to_item
from loyalty.clock import parse_rfc3339, to_rfc3339
from loyalty.outreach.plans import Holiday, ReplacementRule
from loyalty.outreach.policy import ContactHistory, OutreachSettings, Reminder

FINAL_STATUSES = ("sending", "sent", "failed", "suppressed", "dropped")


def _log_key(member_id: str, kind: str, occasion: str) -> dict[str, str]:
    return {"pk": f"MEMBER#{member_id}", "sk": f"MSG#{kind}#{occasion}"}


class ClaimLost(Exception):
    """Another dispatcher got to this message first, or the member's contact history moved."""


class OutreachStore:
    def __init__(self, client: Any, table: str, members_table: str, *, shards: int = 8) -> None:
        self._db = client
        self._table = table
        self._members = members_table
        self.shards = shards

    # --- settings --------------------------------------------------------------------------------

    def _setting(self, name: str) -> dict[str, Any] | None:
        answer = self._db.get_item(TableName=self._table, Key=to_item({"pk": "SETTINGS", "sk": name}),
                                   ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    def _put_setting(self, name: str, value: dict[str, Any]) -> None:
        self._db.put_item(TableName=self._table, Item=to_item({"pk": "SETTINGS", "sk": name, **value}))

    def settings(self) -> OutreachSettings:
        item = self._setting("OUTREACH") or {}
        known = OutreachSettings.__dataclass_fields__
        return OutreachSettings(**{k: v for k, v in item.items() if k in known})

    def save_settings(self, settings: OutreachSettings) -> None:
        self._put_setting("OUTREACH", asdict(settings))

    def replacement_rules(self) -> list[ReplacementRule]:
        item = self._setting("REPLACEMENTS") or {}
        return [ReplacementRule(**rule) for rule in json.loads(item.get("rules", "[]"))]

    def save_replacement_rules(self, rules: list[ReplacementRule]) -> None:
        self._put_setting("REPLACEMENTS", {"rules": json.dumps([asdict(r) for r in rules])})

    def holidays(self) -> list[Holiday]:
        item = self._setting("HOLIDAYS") or {}
        return [Holiday(**h) for h in json.loads(item.get("holidays", "[]"))]

    def save_holidays(self, holidays: list[Holiday]) -> None:
        self._put_setting("HOLIDAYS", {"holidays": json.dumps([asdict(h) for h in holidays], ensure_ascii=False)})

    # --- the due index ---------------------------------------------------------------------------

    def schedule(self, reminders: Sequence[Reminder]) -> None:
        """Put reminders in the due index. Idempotent: the same reminder lands on the same key."""
        for reminder in reminders:
            self._db.put_item(TableName=self._table, Item=to_item({
                "pk": f"DUE#{shard_of(reminder.member_id, self.shards):02d}",
                "sk": f"{to_rfc3339(reminder.due_at)}#{reminder.member_id}#{reminder.kind}#{reminder.occasion}",
                "message": json.dumps(reminder.to_message(), ensure_ascii=False),
            }))

    def due(self, now: datetime) -> Iterator[tuple[dict[str, str], Reminder]]:
        """Every reminder whose time has come, with its key, shard by shard, oldest first."""
        for shard in range(self.shards):
            kwargs: dict[str, Any] = {
                "TableName": self._table, "KeyConditionExpression": "pk = :p AND sk <= :s",
                "ExpressionAttributeValues": to_item({":p": f"DUE#{shard:02d}", ":s": to_rfc3339(now) + "~"}),
            }
            while True:
                answer = self._db.query(**kwargs)
                for raw in answer.get("Items", []):
                    item = from_item(raw)
                    yield {"pk": item["pk"], "sk": item["sk"]}, Reminder.from_message(json.loads(item["message"]))
                if "LastEvaluatedKey" not in answer:
                    break
                kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def forget_due(self, keys: Sequence[dict[str, str]]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": to_item(k)}} for k in keys[start:start + 25]]
            pending: dict[str, Any] = {self._table: requests}
            while pending:
                pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    # --- the send log ----------------------------------------------------------------------------

    def log(self, member_id: str, kind: str, occasion: str) -> dict[str, Any] | None:
        answer = self._db.get_item(TableName=self._table, Key=to_item(_log_key(member_id, kind, occasion)),
                                   ConsistentRead=True)
        return from_item(answer["Item"]) if "Item" in answer else None

    def logs(self, member_id: str, limit: int = 100) -> list[dict[str, Any]]:
        answer = self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :m)",
            ExpressionAttributeValues=to_item({":p": f"MEMBER#{member_id}", ":m": "MSG#"}), Limit=limit,
            ConsistentRead=True)
        return [from_item(i) for i in answer.get("Items", [])]

    def plan(self, reminder: Reminder, now: datetime, campaign_id: str | None = None) -> str:
        """Record a reminder as planned unless it already is. ``new`` if this wrote it; ``planned`` if it
        was already planned and has gone no further (queue it again: a send that failed after planning
        must not lose it, and the sender's claim sends it once however often it is queued); ``done``
        if it went further (sent, deferred, dropped …)."""
        item = {**_log_key(reminder.member_id, reminder.kind, reminder.occasion), "status": "planned",
                "reason": "planned", "updated_at": to_rfc3339(now), "due_at": to_rfc3339(reminder.due_at),
                "history": [{"at": to_rfc3339(now), "status": "planned", "reason": "planned"}]}
        if campaign_id:
            item["campaign_id"] = campaign_id
        if self._put_new(item):
            return "new"
        found = self._db.get_item(TableName=self._table, Key=to_item(_log_key(reminder.member_id, reminder.kind,
                                                                                reminder.occasion)),
                                  ConsistentRead=True, ProjectionExpression="#s",
                                  ExpressionAttributeNames={"#s": "status"}).get("Item", {})
        return "planned" if from_item(found).get("status") == "planned" else "done"

    def _put_new(self, item: dict[str, Any]) -> bool:
        """Put an item unless its key is taken. True if it was written."""
        try:
            self._db.put_item(TableName=self._table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record(self, reminder: Reminder, status: str, reason: str, now: datetime, *,
               extra: dict[str, Any] | None = None, contact: tuple[ContactHistory, ContactHistory] | None = None,
               campaign_id: str | None = None) -> None:
        """Move a message's log forward to ``status``, only from an open status (planned/deferred).

        With ``contact`` (before, after), the member's contact history moves in the same transaction,
        conditioned on its version: two dispatchers can never both spend the member's last slot.
        Raises ClaimLost when either condition fails.
        """
        entry = {"at": to_rfc3339(now), "status": status, "reason": reason}
        names = {"#s": "status", "#r": "reason", "#u": "updated_at", "#h": "history"}
        values: dict[str, Any] = {":s": status, ":r": reason, ":u": to_rfc3339(now), ":e": [entry], ":n": [],
                                  ":planned": "planned", ":deferred": "deferred"}
        sets = "#s = :s, #r = :r, #u = :u, #h = list_append(if_not_exists(#h, :n), :e)"
        for index, (key, value) in enumerate((extra or {}).items()):
            names[f"#x{index}"], values[f":x{index}"] = key, value
            sets += f", #x{index} = :x{index}"
        if campaign_id:
            names["#c"], values[":c"] = "campaign_id", campaign_id
            sets += ", #c = :c"
        update = {"Update": {
            "TableName": self._table, "Key": to_item(_log_key(reminder.member_id, reminder.kind, reminder.occasion)),
            "UpdateExpression": f"SET {sets}",
            "ConditionExpression": "attribute_not_exists(pk) OR #s IN (:planned, :deferred)",
            "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values),
        }}
        items = [update]
        if contact is not None:
            items.append({"Update": self._contact_update(reminder.member_id, *contact)})
        try:
            self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                raise ClaimLost(str(error)) from None
            raise

    def finish(self, reminder: Reminder, status: str, reason: str, now: datetime,
               extra: dict[str, Any] | None = None) -> None:
        """After a claimed send: the outcome (sent or failed). Only the claim's owner calls this."""
        entry = {"at": to_rfc3339(now), "status": status, "reason": reason}
        names = {"#s": "status", "#r": "reason", "#u": "updated_at", "#h": "history"}
        values = {":s": status, ":r": reason, ":u": to_rfc3339(now), ":e": [entry], ":sending": "sending"}
        sets = "#s = :s, #r = :r, #u = :u, #h = list_append(#h, :e)"
        for index, (key, value) in enumerate((extra or {}).items()):
            names[f"#x{index}"], values[f":x{index}"] = key, value
            sets += f", #x{index} = :x{index}"
        self._db.update_item(
            TableName=self._table, Key=to_item(_log_key(reminder.member_id, reminder.kind, reminder.occasion)),
            UpdateExpression=f"SET {sets}", ConditionExpression="#s = :sending",
            ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))

    # --- the member's contact history ------------------------------------------------------------

    def contact(self, member_id: str) -> ContactHistory:
        answer = self._db.get_item(TableName=self._table, Key=to_item({"pk": f"MEMBER#{member_id}", "sk": "CONTACT"}),
                                   ConsistentRead=True)
        if "Item" not in answer:
            return ContactHistory()
        item = from_item(answer["Item"])
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
            self._db.update_item(
                TableName=self._table, Key=to_item({"pk": f"MEMBER#{member_id}", "sk": "CONTACT"}),
                UpdateExpression=update, ConditionExpression="attribute_not_exists(#a) OR #a <= :a",
                ExpressionAttributeNames=names, ExpressionAttributeValues=to_item(values))
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise  # an older purchase arriving late does not move "latest"

    def categories(self, member_ids: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for start in range(0, len(member_ids), 100):
            keys = [{"pk": f"MEMBER#{m}", "sk": "CONTACT"} for m in member_ids[start:start + 100]]
            pending: dict[str, Any] = {self._table: {"Keys": [to_item(k) for k in keys],
                                                     "ProjectionExpression": "pk, categories"}}
            while pending:
                answer = self._db.batch_get_item(RequestItems=pending)
                for raw in answer.get("Responses", {}).get(self._table, []):
                    item = from_item(raw)
                    found[item["pk"].removeprefix("MEMBER#")] = set(item.get("categories", set()))
                pending = answer.get("UnprocessedKeys") or {}
        return found

    # --- suppressions ----------------------------------------------------------------------------

    def suppression(self, email: str) -> str | None:
        answer = self._db.get_item(TableName=self._table, Key=to_item({"pk": f"SUPPRESSED#{email.lower()}",
                                                                     "sk": "SUPPRESSED"}), ConsistentRead=True)
        return str(from_item(answer["Item"])["reason"]) if "Item" in answer else None

    def suppress(self, email: str, reason: str, now: datetime) -> None:
        self._db.put_item(TableName=self._table, Item=to_item({
            "pk": f"SUPPRESSED#{email.lower()}", "sk": "SUPPRESSED", "reason": reason, "at": to_rfc3339(now)}))

    # --- holidays and campaigns ------------------------------------------------------------------

    def fanout_started(self, key: str) -> bool:
        """Whether a holiday's or campaign's fan-out has been queued (``mark_fanout``)."""
        found = self._db.get_item(TableName=self._table, Key=to_item({"pk": key, "sk": "FANOUT"}), ConsistentRead=True)
        return "Item" in found

    def mark_fanout(self, key: str, now: datetime) -> None:
        """Record that a fan-out was queued (written after queueing it, so a failed send is tried again)."""
        self._put_new({"pk": key, "sk": "FANOUT", "at": to_rfc3339(now)})

    def create_campaign(self, campaign: dict[str, Any]) -> bool:
        return self._put_new({
            "pk": f"CAMPAIGN#{campaign['campaign_id']}", "sk": "CAMPAIGN",
            "definition": json.dumps(campaign, ensure_ascii=False, sort_keys=True),
            "targeted": 0, "sent": 0, "suppressed": 0, "dropped": 0, "failed": 0})

    def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        answer = self._db.get_item(TableName=self._table, Key=to_item({"pk": f"CAMPAIGN#{campaign_id}",
                                                                     "sk": "CAMPAIGN"}), ConsistentRead=True)
        if "Item" not in answer:
            return None
        item = from_item(answer["Item"])
        return {**json.loads(item["definition"]),
                "counts": {k: item.get(k, 0) for k in ("targeted", "sent", "suppressed", "dropped", "failed")}}

    def count(self, campaign_id: str, counter: str) -> None:
        self._db.update_item(TableName=self._table, Key=to_item({"pk": f"CAMPAIGN#{campaign_id}", "sk": "CAMPAIGN"}),
                             UpdateExpression="ADD #c :one", ExpressionAttributeNames={"#c": counter},
                             ExpressionAttributeValues=to_item({":one": 1}))

    # --- members, as outreach reads them ---------------------------------------------------------

    def birthdays(self, month_day: str) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {"TableName": self._members, "IndexName": "by_birthday",
                                  "KeyConditionExpression": "birthday_md = :d",
                                  "ExpressionAttributeValues": to_item({":d": month_day})}
        yield from self._pages(kwargs)

    def opted_in(self, shard: int, start: dict[str, Any] | None, limit: int) -> tuple[list[dict[str, Any]],
                                                                                    dict[str, Any] | None]:
        kwargs: dict[str, Any] = {"TableName": self._members, "IndexName": "by_optin",
                                  "KeyConditionExpression": "optin_shard = :s",
                                  "ExpressionAttributeValues": to_item({":s": f"{shard:02d}"}), "Limit": limit}
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = self._db.query(**kwargs)
        return [from_item(i) for i in answer.get("Items", [])], answer.get("LastEvaluatedKey")

    def _pages(self, kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
        while True:
            answer = self._db.query(**kwargs)
            yield from (from_item(i) for i in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
