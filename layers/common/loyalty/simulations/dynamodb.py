"""Simulations on DynamoDB, and the queue that runs them.

- In the Earning table, ``SIMULATION#<simulation_id>``/``SIMULATION``: what was asked (the body's fingerprint, the
  period, the proposed rules), its progress and, once done, its result (a JSON string: a year's 366 days are a few
  dozen kilobytes).
- The recorded purchases are the Operations table's ``purchase/<order_id>`` records, read by a parallel Scan
  (``parts`` segments side by side), filtered to the period's recording instants and projected to the few
  attributes a replay needs. The table has no index by day; a Scan reads every operation record once (reads are
  charged for every item read, filtered or not: docs/earning-simulations.md has the cost). Pages are parsed from
  DynamoDB's wire format directly, not through boto3's deserializer: at a million purchases that is most of the
  CPU a replay takes.
- Buyers' referral paths come from the Members table (``BatchGetItem``), once per buyer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from botocore.exceptions import ClientError

from loyalty.ledger.assets import POINTS
from loyalty.members.dynamodb import member_key
from loyalty.program.dynamodb import program_from_item, program_item
from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.dynamo import CONDITION_FAILED, Dynamo, error_code, to_item
from loyalty.simulations.domain import DONE, RUNNING, Period, RecordedPurchase, Simulation

BATCH_KEYS = 100
PREFIX = "SIMULATION#"
SORT = "SIMULATION"
PURCHASE_PREFIX = "purchase/"


def simulation_key(simulation_id: str) -> dict[str, str]:
    return {"pk": f"{PREFIX}{simulation_id}", "sk": SORT}


def simulation_item(s: Simulation) -> dict[str, Any]:
    item: dict[str, Any] = {
        **simulation_key(s.simulation_id), "simulation_id": s.simulation_id, "fingerprint": s.fingerprint,
        "from": s.period.first.isoformat(), "to": s.period.last.isoformat(), "zone": s.period.zone,
        "rules": program_item(s.rules, s.rules.version), "created_at": s.created_at, "status": s.status,
        "progress": dict(s.progress),
    }
    if s.result is not None:
        item["result"] = json.dumps(s.result, separators=(",", ":"))
    if s.finished_at is not None:
        item["finished_at"] = s.finished_at
    return item


def simulation_from_item(item: dict[str, Any]) -> Simulation:
    return Simulation(
        simulation_id=item["simulation_id"], fingerprint=item["fingerprint"],
        period=Period(date.fromisoformat(item["from"]), date.fromisoformat(item["to"]), item["zone"]),
        rules=program_from_item(item["rules"]), created_at=item["created_at"], status=item["status"],
        progress={k: int(v) for k, v in (item.get("progress") or {}).items()},
        result=json.loads(item["result"]) if "result" in item else None, finished_at=item.get("finished_at"))


def _n(value: dict[str, str]) -> int:
    return int(value["N"])


def purchase_from_wire(item: dict[str, Any]) -> RecordedPurchase:
    """A purchase record as the Scan answers it (DynamoDB's attribute values), points credits only."""
    credits = []
    for wrapped in item.get("credits", {}).get("L", []):
        credit = wrapped["M"]
        if "asset" in credit and credit["asset"]["S"] != POINTS.name:
            continue  # a partner's commission: not points
        credits.append((credit["member_id"]["S"], _n(credit["level"]), _n(credit["points"])))
    return RecordedPurchase(
        order_id=item["pk"]["S"].removeprefix(PURCHASE_PREFIX), buyer=item["member_id"]["S"],
        amount_minor=_n(item["amount_minor"]), refunded_minor=_n(item["refunded_minor"]) if "refunded_minor" in item
        else 0, recorded_at=item["created_at"]["S"], credits=tuple(credits))


class DynamoSimulationStore:
    """``simulations.store.SimulationStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, earning_table: str, operations_table: str, members_table: str,
                 parts: int = 8) -> None:
        self._db = db
        self._table = earning_table
        self._operations = operations_table
        self._members = members_table
        self._parts = max(1, parts)

    @property
    def parts(self) -> int:
        return self._parts

    def simulation(self, simulation_id: str) -> Simulation | None:
        item = self._db.get(self._table, simulation_key(simulation_id))
        return simulation_from_item(item) if item else None

    def start(self, simulation: Simulation) -> bool:
        return self._db.put_new(self._table, simulation_item(simulation))

    def _update(self, simulation_id: str, expression: str, values: dict[str, Any]) -> None:
        """Change a running simulation (a finished one, by a redelivered message's twin, is left as it is)."""
        try:
            self._db.call("update_item", TableName=self._table, Key=to_item(simulation_key(simulation_id)),
                          UpdateExpression=expression, ConditionExpression="#s = :running",
                          ExpressionAttributeNames={"#s": "status", **({"#r": "result"} if "#r" in expression
                                                                       else {})},
                          ExpressionAttributeValues=to_item({**values, ":running": RUNNING}))
        except ClientError as error:
            if error_code(error) != f"{CONDITION_FAILED}Exception":
                raise

    def progress(self, simulation_id: str, progress: Mapping[str, int]) -> None:
        self._update(simulation_id, "SET progress = :p", {":p": dict(progress)})

    def finish(self, simulation_id: str, result: Mapping[str, Any], progress: Mapping[str, int],
               finished_at: str) -> None:
        self._update(simulation_id, "SET #s = :done, #r = :r, progress = :p, finished_at = :f", {
            ":done": DONE, ":r": json.dumps(result, separators=(",", ":")), ":p": dict(progress),
            ":f": finished_at})

    def purchases(self, part: int, start: str, end: str) -> Iterator[list[RecordedPurchase]]:
        kwargs: dict[str, Any] = {
            "TableName": self._operations, "Segment": part, "TotalSegments": self._parts,
            "FilterExpression": "begins_with(pk, :p) AND created_at BETWEEN :a AND :b",
            "ProjectionExpression": "pk, member_id, amount_minor, refunded_minor, created_at, credits",
            # Instants are compared as text: a second of slack each side for fractions of a second ("…00.5Z" sorts
            # before "…00Z"); the replay looks at each instant again.
            "ExpressionAttributeValues": {":p": {"S": PURCHASE_PREFIX}, ":a": {"S": _second_before(start)},
                                          ":b": {"S": _second_after(end)}},
        }
        while True:
            page = self._db.call("scan", **kwargs)
            yield [purchase_from_wire(i) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def ancestors(self, member_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        keys = [member_key(m) for m in dict.fromkeys(member_ids)]
        found: dict[str, tuple[str, ...]] = {}
        for n in range(0, len(keys), BATCH_KEYS):
            for item in self._db.batch_get({self._members: keys[n:n + BATCH_KEYS]}).get(self._members, []):
                found[item["member_id"]] = tuple(item.get("ancestors") or ())
        return found


def _second_before(instant: str) -> str:
    return to_rfc3339(parse_rfc3339(instant) - timedelta(seconds=1))


def _second_after(instant: str) -> str:
    return to_rfc3339(parse_rfc3339(instant) + timedelta(seconds=1))


class SqsWork:
    """``simulations.store.WorkQueue``: one SQS message to the simulations function per simulation."""

    def __init__(self, client: Any, url: str) -> None:
        self._sqs = client
        self._url = url

    def send(self, message: dict[str, Any]) -> None:
        self._sqs.send_message(QueueUrl=self._url, MessageBody=json.dumps(message))

