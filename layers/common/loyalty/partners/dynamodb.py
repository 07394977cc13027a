"""Partners and links on DynamoDB: the Partners table, one item collection per thing (single-table design).

| pk | sk | what |
|---|---|---|
| ``PARTNERS`` | ``<partner_id>`` | a partner (one partition: partners are few, admins list them) |
| ``LINK#<code>`` | ``LINK`` | a link by its code: what the landing page and sign-up resolve |
| ``OWNER#<type>#<id>`` | ``LINK#<link_id>`` | the same link under its owner: what ``GET /v1/links`` lists |
| ``OP#<key>`` | ``OP`` | the record of a write (exactly once: ``partner/<id>``, ``link/<type>/<id>/<link_id>``) |
| ``SETTINGS`` | ``LINKS`` | the disclosures, by owner type and locale |
| ``STATS#<type>#<id>`` | ``<date>#<code>`` | clicks and unique clicks of a link on a local day (+ campaign, sub_id) |
| ``SEEN#<code>#<date>`` | ``<visitor>`` | a visitor's first click of the day on the link; deleted (TTL) two days on |

The stats items are what the partner report reads: one Query of ``STATS#partner#<id>`` between two dates gives
every link's days, with the campaign and sub_id to group by.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from loyalty.partners.domain import LinkSettings, Owner, Partner
from loyalty.partners.store import Click, CodeTaken, StoredLink
from loyalty.shared.dynamo import Cancelled, Dynamo, error_code, operation_from_item, put_operation, to_item
from loyalty.shared.once import Operation, OperationRecorded

PARTNERS = "PARTNERS"


def _owner_pk(owner: Owner) -> str:
    return f"OWNER#{owner.type}#{owner.id}"


def partner_item(partner: Partner) -> dict[str, Any]:
    return {"pk": PARTNERS, "sk": partner.partner_id, "partner_id": partner.partner_id, "name": partner.name,
            "email": partner.email, "commission_bps": partner.commission_bps,
            "attribution_days": partner.attribution_days, "created_at": partner.created_at}


def partner_from_item(item: dict[str, Any]) -> Partner:
    return Partner(partner_id=item["partner_id"], name=item["name"], email=item["email"],
                   commission_bps=item["commission_bps"], attribution_days=item["attribution_days"],
                   created_at=item["created_at"])


def _link_fields(link: StoredLink) -> dict[str, Any]:
    fields = {"code": link.code, "link_id": link.link_id, "owner_type": link.owner.type, "owner_id": link.owner.id,
              "created_at": link.created_at}
    return fields | {k: v for k, v in (("campaign", link.campaign), ("sub_id", link.sub_id)) if v is not None}


def link_from_item(item: dict[str, Any]) -> StoredLink:
    return StoredLink(code=item["code"], link_id=item["link_id"], owner=Owner(item["owner_type"], item["owner_id"]),
                      campaign=item.get("campaign"), sub_id=item.get("sub_id"), created_at=item["created_at"])


class DynamoPartnerStore:
    """``partners.store.PartnerStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def operation(self, key: str) -> Operation | None:
        item = self._db.get(self._table, {"pk": f"OP#{key}", "sk": "OP"})
        if item is None:
            return None
        item.pop("sk")
        return operation_from_item({**item, "pk": key})

    def _put_operation(self, op: Operation) -> dict[str, Any]:
        put = put_operation(self._table, op)
        put["Put"]["Item"].update(to_item({"pk": f"OP#{op.key}", "sk": "OP"}))
        return put

    def partner(self, partner_id: str) -> Partner | None:
        item = self._db.get(self._table, {"pk": PARTNERS, "sk": partner_id})
        return partner_from_item(item) if item else None

    def partners(self) -> list[Partner]:
        items = self._db.query(TableName=self._table, KeyConditionExpression="pk = :pk",
                               ExpressionAttributeValues={":pk": {"S": PARTNERS}}, ConsistentRead=True)
        return [partner_from_item(i) for i in items]

    def create_partner(self, op: Operation, partner: Partner) -> None:
        try:
            self._db.transact([
                self._put_operation(op),
                {"Put": {"TableName": self._table, "Item": to_item(partner_item(partner)),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except Cancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(1):  # the partner exists only with its record
                raise OperationRecorded(op.key) from None
            raise

    def link(self, code: str) -> StoredLink | None:
        item = self._db.get(self._table, {"pk": f"LINK#{code}", "sk": "LINK"})
        return link_from_item(item) if item else None

    def links(self, owner: Owner) -> list[StoredLink]:
        items = self._db.query(TableName=self._table, KeyConditionExpression="pk = :pk AND begins_with(sk, :links)",
                               ExpressionAttributeValues={":pk": {"S": _owner_pk(owner)}, ":links": {"S": "LINK#"}},
                               ConsistentRead=True)
        return [link_from_item(i) for i in items]

    def create_link(self, op: Operation, link: StoredLink) -> None:
        fields = _link_fields(link)
        try:
            self._db.transact([
                self._put_operation(op),
                {"Put": {"TableName": self._table, "Item": to_item({"pk": f"LINK#{link.code}", "sk": "LINK", **fields}),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Put": {"TableName": self._table,
                         "Item": to_item({"pk": _owner_pk(link.owner), "sk": f"LINK#{link.link_id}", **fields}),
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        except Cancelled as cancelled:
            if cancelled.failed(0) or cancelled.failed(2):  # the owner's link exists only with its record
                raise OperationRecorded(op.key) from None
            if cancelled.failed(1):
                raise CodeTaken(link.code) from None
            raise

    def settings(self) -> LinkSettings | None:
        item = self._db.get(self._table, {"pk": "SETTINGS", "sk": "LINKS"})
        return LinkSettings(json.loads(item["disclosures"])) if item else None

    def save_settings(self, settings: LinkSettings) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item({
            "pk": "SETTINGS", "sk": "LINKS",
            "disclosures": json.dumps(settings.disclosures, ensure_ascii=False, sort_keys=True)}))

    def add_click(self, click: Click, *, unique: bool) -> None:
        link, day = click.link, click.day.isoformat()
        names = {"#clicks": "clicks", "#unique": "unique_clicks", "#day": "date", "#code": "code",
                 "#link_id": "link_id"}
        values: dict[str, Any] = {":one": {"N": "1"}, ":unique": {"N": "1" if unique else "0"},
                                  ":day": {"S": day}, ":code": {"S": link.code}, ":link_id": {"S": link.link_id}}
        sets = ["#day = :day", "#code = :code", "#link_id = :link_id"]
        for name in ("campaign", "sub_id"):
            value = getattr(link, name)
            if value is not None:
                names[f"#{name}"], values[f":{name}"] = name, {"S": value}
                sets.append(f"#{name} = :{name}")
        # ADD is atomic on the item: concurrent clicks are each counted once, without reading first.
        self._db.call("update_item", TableName=self._table,
                      Key=to_item({"pk": f"STATS#{link.owner.type}#{link.owner.id}", "sk": f"{day}#{link.code}"}),
                      UpdateExpression=f"ADD #clicks :one, #unique :unique SET {', '.join(sets)}",
                      ExpressionAttributeNames=names, ExpressionAttributeValues=values)

    def mark_visitor(self, click: Click) -> bool:
        """A conditional put: of concurrent first clicks by one visitor, exactly one writes it."""
        try:
            self._db.call("put_item", TableName=self._table, Item=to_item({
                "pk": f"SEEN#{click.link.code}#{click.day.isoformat()}", "sk": click.visitor,
                "expires_at": click.forget_after}), ConditionExpression="attribute_not_exists(pk)")
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def report_rows(self, partner_id: str, first: str, last: str) -> Iterator[dict[str, Any]]:
        """A partner's report rows (``partners.report``) of the local days ``first``–``last``."""
        return self._db.query(TableName=self._table, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                              ExpressionAttributeValues=to_item({":pk": f"STATS#partner#{partner_id}",
                                                                 ":a": f"{first}#", ":b": f"{last}$"}))
