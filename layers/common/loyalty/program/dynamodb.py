"""The programme on DynamoDB (the Program table, ``program_id``/``version``): every published version,
and at version 0 a copy of the current one (what a purchase reads, in the same round trip as the buyer)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from loyalty.program.domain import (
    DEFAULT_PROFILE,
    DEFAULT_TIME_ZONE,
    ActionRule,
    ExpiryRule,
    Multiplier,
    ProgramRules,
    StatusRule,
    SurpriseRule,
    TierRule,
)
from loyalty.program.store import ProgramChanged
from loyalty.shared.dynamo import Cancelled, Dynamo, to_item

PROGRAM_ID = "points"
CURRENT_VERSION = 0  # the table's pointer to the current version


def program_key(version: int = CURRENT_VERSION) -> dict[str, Any]:
    return {"program_id": PROGRAM_ID, "version": version}


def _multiplier_item(m: Multiplier) -> dict[str, Any]:
    found: dict[str, Any] = {"name": m.name, "bps": m.bps}
    if m.day_of_month is not None:
        found["day_of_month"] = m.day_of_month
    else:
        found.update({"from": str(m.start), "to": str(m.end)})
    return found


def _multiplier_from(item: dict[str, Any]) -> Multiplier:
    return Multiplier(name=item["name"], bps=int(item["bps"]),
                      start=date.fromisoformat(item["from"]) if "from" in item else None,
                      end=date.fromisoformat(item["to"]) if "to" in item else None,
                      day_of_month=int(item["day_of_month"]) if "day_of_month" in item else None)


def program_item(rules: ProgramRules, version: int) -> dict[str, Any]:
    """The stored version; the earning rules only where the programme has them (a plain programme's item keeps the
    size every purchase reads)."""
    item = {
        **program_key(version), "rules_version": rules.version,
        "points_per_currency_unit": rules.points_per_currency_unit,
        "referral_rates_bps": list(rules.referral_rates_bps), "hold_days": rules.hold_days,
        "currency": rules.currency, "compliance_profile": rules.compliance_profile,
    }
    if rules.timezone != DEFAULT_TIME_ZONE:
        item["timezone"] = rules.timezone
    if rules.actions:
        item["actions"] = {name: {k: v for k, v in asdict(rule).items() if v is not None}
                           for name, rule in rules.actions}
    if rules.multipliers:
        item["multipliers"] = [_multiplier_item(m) for m in rules.multipliers]
    if rules.tiers:
        item["tiers"] = [asdict(t) for t in rules.tiers]
    if rules.statuses:
        item["statuses"] = [asdict(s) for s in rules.statuses]
    if rules.surprises is not None:  # surprises: only while on (a chance of 0 is not stored)
        item["surprise"] = asdict(rules.surprises)
    if rules.expiry is not None:
        item["expiry"] = asdict(rules.expiry)
    return item


def program_from_item(item: dict[str, Any]) -> ProgramRules:
    return ProgramRules(
        version=item["rules_version"], points_per_currency_unit=item["points_per_currency_unit"],
        referral_rates_bps=tuple(item["referral_rates_bps"]), hold_days=item["hold_days"],
        currency=item["currency"], compliance_profile=item.get("compliance_profile", DEFAULT_PROFILE),
        timezone=item.get("timezone", DEFAULT_TIME_ZONE),
        actions=tuple(sorted((name, ActionRule(**rule)) for name, rule in (item.get("actions") or {}).items())),
        multipliers=tuple(_multiplier_from(m) for m in item.get("multipliers") or ()),
        tiers=tuple(TierRule(**t) for t in item.get("tiers") or ()),
        statuses=tuple(StatusRule(**s) for s in item.get("statuses") or ()),
        surprise=SurpriseRule(**{k: int(v) for k, v in item["surprise"].items()}) if item.get("surprise") else None,
        expiry=ExpiryRule(int(item["expiry"]["months"]), str(item["expiry"]["since"])) if item.get("expiry") else None,
    )


class DynamoProgramStore:
    """``program.store.ProgramStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def current(self) -> ProgramRules | None:
        found = self._db.batch_get({self._table: [program_key()]}).get(self._table, [])
        return program_from_item(found[0]) if found else None

    def version(self, version: int) -> ProgramRules | None:
        item = self._db.get(self._table, program_key(version))
        return program_from_item(item) if item else None

    def publish(self, rules: ProgramRules, *, previous: ProgramRules, previous_stored: bool) -> None:
        items: list[dict[str, Any]] = []
        if not previous_stored:  # the built-in defaults become a stored, readable version 1 on first publish
            items.append({"Put": {"TableName": self._table, "Item": to_item(program_item(previous, previous.version)),
                                  "ConditionExpression": "attribute_not_exists(version)"}})
        items.append({"Put": {"TableName": self._table, "Item": to_item(program_item(rules, rules.version)),
                              "ConditionExpression": "attribute_not_exists(version)"}})
        pointer: dict[str, Any] = {"TableName": self._table, "Item": to_item(program_item(rules, CURRENT_VERSION))}
        if previous_stored:
            pointer["ConditionExpression"] = "rules_version = :v"
            pointer["ExpressionAttributeValues"] = to_item({":v": previous.version})
        else:
            pointer["ConditionExpression"] = "attribute_not_exists(version)"
        items.append({"Put": pointer})
        try:
            self._db.transact(items)
        except Cancelled:
            raise ProgramChanged(str(rules.version)) from None
