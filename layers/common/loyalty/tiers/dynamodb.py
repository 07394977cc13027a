"""A member's standing on DynamoDB, in the Earning table: ``STANDING#<member_id>`` / ``standing``.

Attributes: ``months`` (a map "YYYY-MM" → net spend in minor units, 13 months kept), ``tier``, ``since``,
``review_at`` (RFC 3339), ``open`` (purchases not fully refunded), ``counted_by`` (the referrer counting this
member as a qualified referral), ``qualified`` (this member's qualified referrals) and ``version``.

A purchase or a refund puts the whole item under the condition that ``version`` is still what it read; a referee's
purchase moves the referrer's ``qualified`` (and ``version``) with an ``ADD`` that may create the item, so a buyer's
put that read an older version is refused and retried rather than losing the referral.
"""

from __future__ import annotations

from typing import Any

from loyalty.ledger.store import Record
from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.dynamo import Dynamo
from loyalty.tiers.domain import Standing

STANDING_SK = "standing"


def standing_key(member_id: str) -> dict[str, str]:
    return {"pk": f"STANDING#{member_id}", "sk": STANDING_SK}


def standing_item(standing: Standing) -> dict[str, Any]:
    item: dict[str, Any] = {**standing_key(standing.member_id), "months": dict(standing.months),
                            "open": standing.open_purchases, "qualified": standing.qualified,
                            "version": standing.version}
    if standing.tier is not None:
        item["tier"] = standing.tier
    if standing.since is not None:
        item["since"] = to_rfc3339(standing.since)
    if standing.review_at is not None:
        item["review_at"] = to_rfc3339(standing.review_at)
    if standing.counted_by is not None:
        item["counted_by"] = standing.counted_by
    return item


def standing_from_item(item: dict[str, Any]) -> Standing:
    return Standing(
        member_id=str(item["pk"]).removeprefix("STANDING#"),
        months={str(k): int(v) for k, v in (item.get("months") or {}).items()},
        tier=item.get("tier"),
        since=parse_rfc3339(item["since"]) if item.get("since") else None,
        review_at=parse_rfc3339(item["review_at"]) if item.get("review_at") else None,
        open_purchases=int(item.get("open", 0)), counted_by=item.get("counted_by"),
        qualified=int(item.get("qualified", 0)), version=int(item.get("version", 0)))


def standing_write(table: str, before: Standing, after: Standing) -> Record:
    """The buyer's standing as ``after`` (its version one on), only if it is still as ``before`` was read."""
    item = standing_item(after)
    item["version"] = before.version + 1
    return Record(table, item, expect={"version": before.version} if before.version else None)


def referral_count(table: str, referrer_id: str, delta: int) -> Record:
    """The referrer's qualified count moved by ``delta`` (the item made if the referrer has none yet)."""
    return Record(table, standing_key(referrer_id), add={"qualified": delta, "version": 1}, create=True)


class DynamoStandingStore:
    """``tiers.store.StandingStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def standing(self, member_id: str) -> Standing | None:
        item = self._db.get(self._table, standing_key(member_id))
        return standing_from_item(item) if item else None
