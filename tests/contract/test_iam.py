"""Each function's IAM grants are exactly the DynamoDB actions it makes, and none can change a ledger entry.

The actions are not listed by hand: every route of every function is driven through its success and
refusal paths on moto while each boto3 call is recorded, then compared with the template.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import boto3
import pytest

from localdev import template
from tests.support import Api

TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
LEDGER_CHANGES = {"UpdateItem", "DeleteItem", "BatchWriteItem", "PartiQLUpdate", "PartiQLDelete"}


def _resource(value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if isinstance(value, dict) and "Fn::Sub" in value:
        return str(value["Fn::Sub"]).replace("${", "").replace(".Arn}", "")
    return str(value)


def granted() -> dict[str, set[tuple[str, str]]]:
    grants: dict[str, set[tuple[str, str]]] = {}
    for name, res in template.resources("AWS::Serverless::Function").items():
        pairs = set()
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                pairs |= {(a.removeprefix("dynamodb:"), _resource(r)) for a in actions for r in resources}
        grants[name] = pairs
    return grants


class Recorder:
    def __init__(self) -> None:
        self.function: str | None = None
        self.calls: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        assert self.function is not None, f"a DynamoDB call outside any function: {model.name}"
        op, record = model.name, self.calls[self.function]
        if op == "TransactWriteItems":
            for item in params["TransactItems"]:
                (kind, body), = item.items()
                record.add((TRANSACT[kind], body["TableName"]))
        elif op in ("BatchGetItem", "BatchWriteItem"):
            record |= {(op, table) for table in params["RequestItems"]}
        else:
            index = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
            record.add((op, params["TableName"] + index))


class RecordingApi(Api):
    recorder: Recorder

    def call(self, method: str, path: str, *args: Any, **kwargs: Any):  # type: ignore[override]
        target, _ = self.gateway.match(method, path.split("?")[0])
        self.recorder.function = target.function.logical_id if target else None
        try:
            return super().call(method, path, *args, **kwargs)
        finally:
            self.recorder.function = None


def exercise(api: Api, clock: Any) -> None:
    """Every route, through its writes, replays and refusals."""
    admin, staff = {"as_": "boss", "groups": ("admin",)}, {"as_": "pos", "groups": ("staff",)}
    alice, _bob = api.chain("alice", "bob")
    api.call("POST", "/v1/members", {"email": "e@example.com", "display_name": "Eve", "referral_code": "ZZZZZZZZ"},
             as_="eve")
    api.call("GET", "/v1/members/me", as_="bob")
    api.call("GET", "/v1/members/alice", **staff)
    api.call("GET", "/v1/members/me/referrals", as_="alice")
    api.call("GET", "/v1/members/alice/referrals", **staff)
    assert alice["referral_code"]
    api.call("GET", "/v1/program", as_="bob")
    api.call("GET", "/v1/program/versions/1", as_="bob")
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500],
                                    "hold_days": 1, "currency": "CNY"}, **admin)
    api.call("GET", "/v1/program/versions/2", as_="bob")
    api.purchase("O-1", "bob", 10000)
    api.purchase("O-1", "bob", 10000)
    api.refund("O-1", "R-1", 5000)
    api.refund("O-1", "R-1", 5000)
    clock.advance(2 * 86400)
    api.redeem("bob", 10, "k-1")
    api.redeem("bob", 10, "k-1")
    api.redeem("bob", 10**6, "k-2")
    api.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "bob", "points": 5, "reason": "r"},
             **admin)
    api.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "bob", "points": 5, "reason": "r"},
             **admin)
    api.call("GET", "/v1/members/me/ledger?limit=2", as_="bob")
    api.call("GET", "/v1/members/nobody/ledger", **staff)
    api.call("GET", "/v1/members/bob/ledger/verify", **admin)
    api.call("GET", "/openapi.json")
    api.call("GET", "/docs")
    api.call("GET", "/no/such/route")


@pytest.fixture
def recorded(api: Api, clock: Any) -> dict[str, set[tuple[str, str]]]:
    recorder = Recorder()
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.dynamodb", recorder)  # type: ignore[union-attr]
    from loyalty import wiring

    wiring.configure()  # the next request builds its client from the recording session
    recording = RecordingApi(api.gateway)
    recording.recorder = recorder
    exercise(recording, clock)
    return dict(recorder.calls)


def test_each_function_is_granted_exactly_the_actions_it_makes(recorded: dict[str, set[tuple[str, str]]]) -> None:
    grants = granted()
    assert set(grants) == {spec.logical_id for spec in template.functions()}
    for function, pairs in grants.items():
        assert recorded.get(function, set()) == pairs, function


def test_no_function_can_change_or_delete_a_ledger_entry() -> None:
    for function, pairs in granted().items():
        assert not {(a, r) for a, r in pairs if r.startswith("LedgerTable") and (a in LEDGER_CHANGES or "*" in a)}, \
            function
        assert all("*" not in a and "*" not in r for a, r in pairs), function


def test_the_ledger_table_denies_changes_to_everyone() -> None:
    ledger = template.load()["Resources"]["LedgerTable"]["Properties"]
    statements = ledger["ResourcePolicy"]["PolicyDocument"]["Statement"]
    denied = {a.removeprefix("dynamodb:") for s in statements if s["Effect"] == "Deny" and s["Principal"] == "*"
              for a in s["Action"]}
    assert denied >= LEDGER_CHANGES
    assert ledger["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert ledger["DeletionProtectionEnabled"] is True
