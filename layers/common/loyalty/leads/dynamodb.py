"""Leads on DynamoDB: one table (``LEADS_TABLE``).

- ``FORM#<form_id>`` / ``FORM``: a submission (its submitter, fingerprint and leads), put once;
- ``LEAD#<lead_id>`` / ``LEAD``: a lead (one friend), ``version`` counting its changes; two indexes over them, each
  sorted by ``listed`` (``<created_at>#<lead_id>``): ``by_status`` (the inbox and the other lists) and the sparse
  ``erasable`` (set only while the lead's contact details are kept and it may still be erased: the schedule's);
- ``CONTACT#<kind>:<value>`` / ``CLAIM``: a contact's owner, the first lead that listed it (put only where none
  is), marked ``converted_by`` by the sign-up that converts it, dropped when its lead is erased.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from loyalty.leads.domain import CONVERTED, NEW, OPEN, Claim, Form, Lead
from loyalty.leads.store import ContactsTaken, FormTaken
from loyalty.ledger.store import Record
from loyalty.members.dynamodb import member_key
from loyalty.shared.clock import to_rfc3339
from loyalty.shared.cursors import cursor_of, start_key
from loyalty.shared.dynamo import Cancelled, Dynamo, from_item, to_item
from loyalty.shared.once import Contention

ERASABLE = "lead"  # the sparse index's one key value
OPTIONAL = ("name", "email", "phone", "note", "staff_note", "updated_at", "updated_by", "duplicate_of",
            "converted_member_id", "converted_at", "erased_at")


def lead_key(lead_id: str) -> dict[str, str]:
    return {"pk": f"LEAD#{lead_id}", "sk": "LEAD"}


def claim_key(contact: str) -> dict[str, str]:
    return {"pk": f"CONTACT#{contact}", "sk": "CLAIM"}


def lead_item(lead: Lead) -> dict[str, Any]:
    item: dict[str, Any] = {**lead_key(lead.lead_id), "lead_id": lead.lead_id, "form_id": lead.form_id,
                            "submitter": lead.submitter, "created_at": lead.created_at, "status": lead.status,
                            "listed": f"{lead.created_at}#{lead.lead_id}", "version": lead.version}
    item.update({k: getattr(lead, k) for k in OPTIONAL if getattr(lead, k) is not None})
    if lead.erasable:
        item["erasable"] = ERASABLE
    return item


def lead_from_item(item: Mapping[str, Any]) -> Lead:
    return Lead(lead_id=item["lead_id"], form_id=item["form_id"], submitter=item["submitter"],
                created_at=item["created_at"], status=item["status"], version=int(item.get("version", 0)),
                **{k: item.get(k) for k in OPTIONAL})


def form_item(form: Form) -> dict[str, Any]:
    return {"pk": f"FORM#{form.form_id}", "sk": "FORM", "form_id": form.form_id, "submitter": form.submitter,
            "created_at": form.created_at, "fingerprint": form.fingerprint, "lead_ids": list(form.lead_ids)}


def claim_from_item(item: Mapping[str, Any]) -> Claim:
    return Claim(contact=item["contact"], lead_id=item["lead_id"], submitter=item["submitter"],
                 claimed_at=item["claimed_at"], contacts=tuple(item.get("contacts", [])),
                 converted_by=item.get("converted_by"))


def award_marker(members_table: str, member_id: str, refusal: Exception) -> Record:
    """The new member's lead award, decided once: ``lead_awards`` on their profile moves from 0 to 1 in their first
    purchase's transaction (a rival first purchase fails this condition and is retried, reading it done)."""
    return Record(members_table, member_key(member_id), add={"lead_awards": 1}, at_most={"lead_awards": 0},
                  refusal=refusal)


def _start_key(cursor: str, status: str) -> dict[str, Any]:
    """The query's ExclusiveStartKey from a cursor this list gave (ValueError for anything else)."""
    return start_key(cursor, {"pk", "sk", "listed", "status"}, lambda key: key["status"] == status
                     and key["pk"].startswith("LEAD#") and key["sk"] == "LEAD")


class DynamoLeadStore:
    """``leads.store.LeadStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def form(self, form_id: str) -> Form | None:
        item = self._db.get(self._table, {"pk": f"FORM#{form_id}", "sk": "FORM"})
        if not item:
            return None
        return Form(item["form_id"], item["submitter"], item["created_at"], item["fingerprint"],
                    tuple(item.get("lead_ids", [])))

    def leads(self, lead_ids: Sequence[str]) -> list[Lead]:
        if not lead_ids:
            return []
        found = self._db.batch_get({self._table: [lead_key(i) for i in dict.fromkeys(lead_ids)]})
        by_id = {i["lead_id"]: lead_from_item(i) for i in found.get(self._table, [])}
        return [by_id[i] for i in lead_ids if i in by_id]

    def lead(self, lead_id: str) -> Lead | None:
        item = self._db.get(self._table, lead_key(lead_id))
        return lead_from_item(item) if item else None

    def submit(self, form: Form, leads: Sequence[Lead]) -> None:
        new = "attribute_not_exists(pk)"
        items: list[dict[str, Any]] = [{"Put": {"TableName": self._table, "Item": to_item(form_item(form)),
                                                "ConditionExpression": new}}]
        items += [{"Put": {"TableName": self._table, "Item": to_item(lead_item(lead)), "ConditionExpression": new}}
                  for lead in leads]
        claimed: list[str] = []
        for lead in leads:
            if lead.status != NEW:
                continue
            for contact in lead.contacts():
                claimed.append(contact)
                items.append({"Put": {"TableName": self._table, "ConditionExpression": new, "Item": to_item({
                    **claim_key(contact), "contact": contact, "lead_id": lead.lead_id, "submitter": lead.submitter,
                    "claimed_at": lead.created_at, "contacts": lead.contacts()})}})
        try:
            self._db.transact(items)
        except Cancelled as cancelled:
            if cancelled.failed(0):
                raise FormTaken(form.form_id) from None
            first = 1 + len(leads)
            taken = [c for n, c in enumerate(claimed) if cancelled.failed(first + n)]
            if taken:
                raise ContactsTaken(taken) from None
            raise Contention(f"form {form.form_id} raced with another write") from None

    def claims(self, contacts: Sequence[str]) -> list[Claim]:
        if not contacts:
            return []
        found = self._db.batch_get({self._table: [claim_key(c) for c in dict.fromkeys(contacts)]})
        return [claim_from_item(i) for i in found.get(self._table, [])]

    def _put_if(self, before: Lead, after: Lead) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": to_item(lead_item(after)),
                        "ConditionExpression": "version = :v",
                        "ExpressionAttributeValues": to_item({":v": before.version})}}

    def save(self, before: Lead, after: Lead) -> None:
        try:
            self._db.transact([self._put_if(before, after)])
        except Cancelled:
            raise Contention(after.lead_id) from None

    def erase(self, before: Lead, after: Lead) -> None:
        # Only the lead's own claims, and only while no sign-up converted them (a duplicate lead owns none).
        drops = [{"Delete": {"TableName": self._table, "Key": to_item(claim_key(c)),
                             "ConditionExpression": "attribute_not_exists(converted_by) AND "
                                                    "(attribute_not_exists(pk) OR lead_id = :l)",
                             "ExpressionAttributeValues": to_item({":l": before.lead_id})}}
                 for c in before.contacts()] if before.duplicate_of is None else []
        try:
            self._db.transact([self._put_if(before, after), *drops])
        except Cancelled:
            raise Contention(after.lead_id) from None

    def listed(self, status: str, *, limit: int, after: str | None) -> tuple[list[Lead], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": "by_status", "KeyConditionExpression": "#s = :s", "Limit": limit,
            "ExpressionAttributeNames": {"#s": "status"}, "ExpressionAttributeValues": to_item({":s": status}),
            "ScanIndexForward": status == NEW}
        if after is not None:
            kwargs["ExclusiveStartKey"] = _start_key(after, status)
        answer = self._db.call("query", **kwargs)
        last = answer.get("LastEvaluatedKey")
        return [lead_from_item(from_item(i)) for i in answer.get("Items", [])], cursor_of(last) if last else None

    def erasable_before(self, instant: datetime, limit: int) -> list[Lead]:
        answer = self._db.call(
            "query", TableName=self._table, IndexName="erasable", Limit=limit,
            KeyConditionExpression="erasable = :k AND listed < :s",
            ExpressionAttributeValues=to_item({":k": ERASABLE, ":s": to_rfc3339(instant)}))
        return [lead_from_item(from_item(i)) for i in answer.get("Items", [])]

    def converting(self, claim: Claim, member_id: str, now: datetime) -> list[dict[str, Any]]:
        at = to_rfc3339(now)
        items: list[dict[str, Any]] = [{"Update": {
            "TableName": self._table, "Key": to_item(claim_key(contact)), "UpdateExpression": "SET converted_by = :m",
            "ConditionExpression": "attribute_exists(pk) AND lead_id = :l AND attribute_not_exists(converted_by)",
            "ExpressionAttributeValues": to_item({":m": member_id, ":l": claim.lead_id})}}
            for contact in claim.contacts or (claim.contact,)]
        open_statuses = {f":o{n}": s for n, s in enumerate(OPEN)}
        items.append({"Update": {
            "TableName": self._table, "Key": to_item(lead_key(claim.lead_id)),
            "UpdateExpression": "SET #s = :c, converted_member_id = :m, converted_at = :t, version = version + :one "
                                "REMOVE erasable",
            "ConditionExpression": f"#s IN ({', '.join(open_statuses)})",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": to_item({":c": CONVERTED, ":m": member_id, ":t": at, ":one": 1,
                                                  **open_statuses})}})
        return items
