"""Coupons on DynamoDB, in the Wallet table (pk/sk strings):

- ``TEMPLATE#`` / ``<template_id>``: a template (all of them in one partition: the console lists them with a Query);
- ``TEMPLATE#AUTO`` / ``<template_id>``: a copy of each template with an ``issue_on`` (what sign-up reads);
- ``COUPON#<member_id>`` / ``cpn_…``: a member's coupon;
- ``COUPON#<member_id>`` / ``HELD#<template_id>``: ``held``, how many of the template's coupons the member holds
  (active, not yet found expired), moved by every issue, use, void and sweep under the write's own condition;
- ``CODE#<code>`` / ``CODE``: which coupon a code is (the till has only the code).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from loyalty.coupons.domain import ACTIVE, EXPIRED, USED, Coupon, CouponLimit, CouponUsed, Template
from loyalty.ledger.store import Record
from loyalty.shared.dynamo import Dynamo, to_item

TEMPLATES, AUTOMATIC = "TEMPLATE#", "TEMPLATE#AUTO"


def template_item(template: Template, pk: str = TEMPLATES) -> dict[str, Any]:
    fields = {k: v for k, v in asdict(template).items() if v is not None and k != "template_id"}
    return {"pk": pk, "sk": template.template_id, **fields}


def template_from_item(item: dict[str, Any]) -> Template:
    return Template(
        template_id=item["sk"], name=item["name"], amount_off_minor=item.get("amount_off_minor"),
        percent_off_bps=item.get("percent_off_bps"), max_off_minor=item.get("max_off_minor"),
        min_spend_minor=item.get("min_spend_minor", 0), valid_days=item["valid_days"],
        per_member_limit=item.get("per_member_limit"), issue_on=item.get("issue_on"))


def coupon_key(member_id: str, coupon_id: str) -> dict[str, str]:
    return {"pk": f"COUPON#{member_id}", "sk": coupon_id}


def held_key(member_id: str, template_id: str) -> dict[str, str]:
    return {"pk": f"COUPON#{member_id}", "sk": f"HELD#{template_id}"}


def code_key(code: str) -> dict[str, str]:
    return {"pk": f"CODE#{code}", "sk": "CODE"}


def coupon_item(coupon: Coupon) -> dict[str, Any]:
    item = {**coupon_key(coupon.member_id, coupon.coupon_id), "code": coupon.code, "template_id": coupon.template_id,
            "member_id": coupon.member_id, "status": coupon.status, "issued_at": coupon.issued_at,
            "expires_at": coupon.expires_at}
    if coupon.used_at is not None:
        item["used_at"] = coupon.used_at
    if coupon.redemption_id is not None:
        item["redemption_id"] = coupon.redemption_id
    return item


def coupon_from_item(item: dict[str, Any]) -> Coupon:
    return Coupon(coupon_id=item["sk"], code=item["code"], template_id=item["template_id"],
                  member_id=item["member_id"], status=item["status"], issued_at=item["issued_at"],
                  expires_at=item["expires_at"], used_at=item.get("used_at"),
                  redemption_id=item.get("redemption_id"))


class DynamoCouponStore:
    """``coupons.store.CouponStore`` on the Wallet table (and the Members table's birthday index)."""

    def __init__(self, db: Dynamo, table: str, members_table: str) -> None:
        self._db, self._table, self._members = db, table, members_table

    def put_template(self, template: Template) -> None:
        automatic: dict[str, Any] = ({"Put": {"TableName": self._table,
                                              "Item": to_item(template_item(template, AUTOMATIC))}}
                                     if template.issue_on is not None else
                                     {"Delete": {"TableName": self._table,
                                                 "Key": to_item({"pk": AUTOMATIC, "sk": template.template_id})}})
        self._db.transact([{"Put": {"TableName": self._table, "Item": to_item(template_item(template))}}, automatic])

    def template(self, template_id: str) -> Template | None:
        item = self._db.get(self._table, {"pk": TEMPLATES, "sk": template_id})
        return template_from_item(item) if item else None

    def _partition(self, pk: str, *, consistent: bool = True, prefix: str | None = None) -> list[dict[str, Any]]:
        condition, values = "pk = :p", {":p": pk}
        if prefix is not None:
            condition, values[":s"] = condition + " AND begins_with(sk, :s)", prefix
        return list(self._db.query(TableName=self._table, KeyConditionExpression=condition,
                                   ExpressionAttributeValues=to_item(values), ConsistentRead=consistent))

    def templates(self) -> list[Template]:
        return [template_from_item(i) for i in self._partition(TEMPLATES)]

    def automatic(self) -> list[Template]:
        # eventually consistent: half a read unit, and a template published a second ago may wait for the next
        return [template_from_item(i) for i in self._partition(AUTOMATIC, consistent=False)]

    def coupons(self, member_id: str) -> list[Coupon]:
        return [coupon_from_item(i) for i in self._partition(f"COUPON#{member_id}", prefix="cpn_")]

    def coupon(self, member_id: str, coupon_id: str) -> Coupon | None:
        item = self._db.get(self._table, coupon_key(member_id, coupon_id))
        return coupon_from_item(item) if item else None

    def coupon_by_code(self, code: str) -> Coupon | None:
        found = self._db.get(self._table, code_key(code))
        return self.coupon(found["member_id"], found["coupon_id"]) if found else None

    def born_on(self, month_day: str) -> list[str]:
        found = self._db.query(TableName=self._members, IndexName="by_birthday",
                               KeyConditionExpression="birthday_md = :d",
                               ExpressionAttributeValues=to_item({":d": month_day}), ProjectionExpression="member_id")
        return sorted({str(i["member_id"]) for i in found})

    def issue_records(self, coupon: Coupon, template: Template) -> list[Record]:
        code = {**code_key(coupon.code), "member_id": coupon.member_id, "coupon_id": coupon.coupon_id}
        limit = template.per_member_limit
        held = Record(self._table, held_key(coupon.member_id, template.template_id), add={"held": 1},
                      at_most={"held": limit - 1} if limit is not None else {}, create=True,
                      refusal=CouponLimit(f"The member already holds {limit} active coupon(s) of {template.name}; "
                                          f"one must be used or expire first."))
        return [Record(self._table, coupon_item(coupon)), Record(self._table, code), held]

    def sweep_records(self, expired: Sequence[Coupon]) -> list[Record]:
        first = expired[0]
        swept = [Record(self._table, coupon_item(_with(c, status=EXPIRED)), expect={"status": ACTIVE})
                 for c in expired]
        return [Record(self._table, held_key(first.member_id, first.template_id), expect={},
                       add={"held": -len(expired)}), *swept]

    def use_records(self, used: Coupon) -> list[Record]:
        return [Record(self._table, coupon_item(used), expect={"status": ACTIVE},
                       refusal=CouponUsed(f"The coupon {used.code} was already used.")),
                Record(self._table, held_key(used.member_id, used.template_id), expect={}, add={"held": -1})]

    def void_records(self, restored: Coupon, redemption_id: str) -> list[Record]:
        # A void gives the coupon back even if the member was issued another since: it was theirs already.
        return [Record(self._table, coupon_item(restored), expect={"status": USED, "redemption_id": redemption_id}),
                Record(self._table, held_key(restored.member_id, restored.template_id), expect={}, add={"held": 1})]


def _with(coupon: Coupon, **changes: Any) -> Coupon:
    from dataclasses import replace

    return replace(coupon, **changes)
