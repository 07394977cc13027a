"""The operator's verifier (``python -m ops.verify``, ``make verify``) on moto, and against a running local server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.stub import Stubber

from localdev.dynamodb_local import free_port
from loyalty.shared.clock import FixedClock
from ops import verify
from tests.support import Api, CallAs

ROOT = Path(__file__).resolve().parents[2]
ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}


def busy_ledger(api: Api, clock: FixedClock) -> None:
    """Sign-ups in a tree, purchases, a refund, a release, a redemption, adjustments: every kind of entry."""
    api.chain("gran", "ref", "buyer")
    api.chain("solo")
    for n, (member, amount) in enumerate([("buyer", 12900), ("ref", 5000), ("buyer", 777), ("solo", 30000)]):
        assert api.purchase(f"O-{n}", member, amount).status == 201
    assert api.refund("O-0", "R-1", 4300).status == 201
    clock.advance(8 * 86400)
    assert api.redeem("solo", 250, "k-1").status == 201
    for n, (member, points) in enumerate([("gran", 40), ("ref", -15), ("solo", 5)]):
        body = {"adjustment_id": f"A-{n}", "member_id": member, "points": points, "reason": "test"}
        assert api.call("POST", "/v1/adjustments", body, **ADMIN).status == 201


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = verify.main(["--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_clean_ledger_verifies_with_a_correct_summary(api: Api, clock: FixedClock,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    busy_ledger(api, clock)
    members = ["gran", "ref", "buyer", "solo"]
    entries = {m: api.ledger(m) for m in members}
    buckets: Counter[str] = Counter()
    for member_entries in entries.values():
        for e in member_entries:
            buckets[f"points/{e['bucket']}"] += e["amount"]

    code, summary = run(capsys, "--page-size", "2")

    assert code == 0 and summary["ok"], summary
    assert summary["members"] == len(members)
    assert summary["chain_entries"] == summary["ledger_entries"] == sum(map(len, entries.values()))
    for key in ("points/available", "points/pending"):
        assert summary["account_totals"][key] == summary["chain_totals"][key] == summary["ledger_totals"][key] \
            == buckets[key]
    assert summary["account_totals"]["points/lifetime_earned"] == sum(
        api.points(m)["lifetime_earned"] for m in members)
    assert summary["mismatches"] == [] and summary["totals_problems"] == []
    assert "OK: every chain verifies" in verify.render(verify.Summary(**{
        k: v for k, v in summary.items() if k in verify.Summary.__dataclass_fields__}), "test")


def test_the_dashboards_stored_value_is_checked_against_the_members_buckets(
        api: Api, clock: FixedClock, dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Stored value (docs/wallet.md): top-ups, a payment, a refund, a withdrawal; the dashboard's outstanding principal
    and bonus equal the members' buckets, and a hand-edited figure is named."""
    api.chain("ann", "bob")
    for top_up_id, member, amount in (("T-1", "ann", 300000), ("T-2", "bob", 200000)):
        body = {"top_up_id": top_up_id, "member_id": member, "amount_minor": amount, "currency": "CNY"}
        assert api.call("POST", "/v1/top-ups", body, as_="pos", groups=("staff",)).status == 201
    assert api.purchase("O-1", "ann", 20000, stored_value_minor=20000).status == 201
    assert api.refund("O-1", "R-1", 7000).status == 201
    assert api.call("POST", "/v1/members/bob/stored-value/withdrawals", {"withdrawal_id": "W-1"}, **ADMIN).status == 201
    api.tick()
    code, summary = run(capsys)
    principal = summary["ledger_totals"]["stored_value/principal"]
    bonus = summary["ledger_totals"]["stored_value/bonus"]
    # ann: 300,000 + 9,000; paid 19,418 + 582; given back floor(× 7000/20000): 6,796 + 203; bob withdrew everything
    assert (principal, bonus) == (300000 - 19418 + 6796, 9000 - 582 + 203)
    assert code == 0 and summary["metrics"]["ok"], summary["metrics"]
    assert summary["metrics"]["stored_value"] == [principal, bonus]
    dynamodb.update_item(TableName="MetricsTable", Key={"pk": {"S": "YEAR"}, "sk": {"S": "2026"}},
                         UpdateExpression="ADD sv_bonus_minor :one", ExpressionAttributeValues={":one": {"N": "1"}})
    code, summary = run(capsys)
    assert code != 0 and not summary["metrics"]["ok"]
    assert summary["metrics"]["stored_value"] == [principal, bonus + 1]


def test_a_tampered_entry_is_named_with_its_first_invalid_seq(api: Api, clock: FixedClock, dynamodb: Any,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    busy_ledger(api, clock)
    second = api.ledger("buyer")[1]
    key = {"member_id": {"S": "buyer"}, "seq": {"N": str(second["seq"])}}
    dynamodb.update_item(TableName="LedgerTable", Key=key, UpdateExpression="SET amount = :a",
                         ExpressionAttributeValues={":a": {"N": "1000000"}})

    code, summary = run(capsys)

    assert code == 1 and not summary["ok"]
    assert [(m["member_id"], m["first_invalid_seq"]) for m in summary["mismatches"]] == [("buyer", second["seq"])]
    assert summary["mismatched_members"] == 1


def test_a_hand_edited_balance_is_named(api: Api, clock: FixedClock, dynamodb: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    busy_ledger(api, clock)
    dynamodb.update_item(TableName="AccountsTable", Key={"member_id": {"S": "ref"}},
                         UpdateExpression="SET balances.points.buckets.available = "
                                          "balances.points.buckets.available + :x",
                         ExpressionAttributeValues={":x": {"N": "500"}})

    assert verify.main([]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH member ref: first_invalid_seq=None: points/available: entries sum to" in out
    assert "TOTALS points/available: accounts hold" in out and out.rstrip().endswith("MISMATCH: see above")


def test_entries_of_a_member_without_an_account_are_found(api: Api, clock: FixedClock, dynamodb: Any,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    busy_ledger(api, clock)
    item = dynamodb.query(TableName="LedgerTable", KeyConditionExpression="member_id = :m",
                          ExpressionAttributeValues={":m": {"S": "solo"}})["Items"][0]
    dynamodb.put_item(TableName="LedgerTable", Item={**item, "member_id": {"S": "ghost"}})

    code, summary = run(capsys)

    assert code == 1 and summary["orphan_members"] == 1
    assert [m["member_id"] for m in summary["mismatches"]] == ["ghost"]
    assert "the chains hold" in " ".join(summary["totals_problems"])


def test_an_interrupted_run_resumes_from_its_checkpoint_with_the_same_totals(
        api: Api, clock: FixedClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    busy_ledger(api, clock)
    code, whole = run(capsys, "--page-size", "1")
    assert code == 0
    checkpoint = tmp_path / "verify.json"

    stopped = [run(capsys, "--page-size", "1", "--checkpoint", str(checkpoint), "--max-pages", "3")]
    stopped.append(run(capsys, "--page-size", "1", "--checkpoint", str(checkpoint), "--max-pages", "4"))
    assert [code for code, _ in stopped] == [3, 3]
    assert stopped[1][1]["phase"] == "ledger" and stopped[1][1]["pages"] == 7  # past the accounts pass
    code, resumed = run(capsys, "--page-size", "1", "--checkpoint", str(checkpoint))

    assert code == 0
    same = ("members", "chain_entries", "ledger_entries", "account_totals", "chain_totals", "ledger_totals", "pages")
    assert {k: resumed[k] for k in same} == {k: whole[k] for k in same}
    assert json.loads(checkpoint.read_text())["summary"]["phase"] == "done"
    code, again = run(capsys, "--page-size", "1", "--checkpoint", str(checkpoint))  # a finished walk starts afresh
    assert code == 0 and again["pages"] == whole["pages"]


def test_a_checkpoint_of_other_tables_is_refused(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = tmp_path / "verify.json"
    assert verify.main(["--checkpoint", str(checkpoint), "--max-pages", "1"]) == 3
    monkeypatch.setenv("LEDGER_TABLE", "SomeOtherLedger")
    assert verify.main(["--checkpoint", str(checkpoint)]) == 2
    assert "checkpoint of other tables" in capsys.readouterr().err


def test_the_stack_outputs_name_the_tables(api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    busy_ledger(api, clock)
    cloudformation = boto3.client("cloudformation")
    outputs = [{"OutputKey": name, "OutputValue": table} for name, table in
               [("ApiUrl", "https://example.com"), ("MembersTableName", "MembersTable"),
                ("AccountsTableName", "AccountsTable"), ("LedgerTableName", "LedgerTable"),
                ("OperationsTableName", "OperationsTable"), ("ProgramTableName", "ProgramTable"),
                ("CreditQueueTableName", "CreditQueueTable")]]
    stack = {"StackName": "loyalty", "CreationTime": clock.now(), "StackStatus": "CREATE_COMPLETE", "Outputs": outputs}
    with Stubber(cloudformation) as stub:  # answers checked against the CloudFormation API's own model
        stub.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "loyalty"})
        monkeypatch.setattr(verify, "cloudformation_client", lambda: cloudformation)
        for name in verify.ENVIRONMENT.values():
            monkeypatch.delenv(name, raising=False)

        code, summary = run(capsys, "--stack", "loyalty")

        stub.assert_no_pending_responses()
    assert code == 0 and summary["where"] == "stack loyalty" and summary["members"] == 4
    assert summary["anchor"] is None  # a stack without an AnchorBucketName output (deployed before the anchor)
    assert summary["tables"]["ledger"] == "LedgerTable"


@pytest.mark.e2e
@pytest.mark.xdist_group("e2e")
def test_make_verify_finds_the_running_local_server(tmp_path: Path) -> None:
    """`make run` in one terminal, `make verify` (no arguments) in another."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("AWS_") and k not in verify.ENVIRONMENT.values() and k != "LOCAL_DYNAMODB_ENDPOINT"}
    server = subprocess.Popen([sys.executable, "-m", "localdev"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env={**clean, "PORT": str(port), "LOCAL_ACCESS_LOG": "0"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/local/clock", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, "the local server did not start"
                time.sleep(0.2)  # waiting for the server to answer
        tokens = {sub: requests.post(f"{base}/local/tokens", json={"sub": sub, "groups": groups}, timeout=5)
                  .json()["token"] for sub, groups in (("alice", []), ("pos", ["staff"]))}
        assert requests.post(f"{base}/v1/members", json={"email": "alice@example.com", "display_name": "A"},
                             headers={"Authorization": f"Bearer {tokens['alice']}"}, timeout=10).status_code == 201
        purchase = {"order_id": "O-1", "member_id": "alice", "amount_minor": 12900, "currency": "CNY",
                    "occurred_at": requests.get(f"{base}/local/clock", timeout=5).json()["now"]}
        assert requests.post(f"{base}/v1/purchases", json=purchase, timeout=10,
                             headers={"Authorization": f"Bearer {tokens['pos']}"}).status_code == 201
        # an hour on: the anchor's schedule publishes a digest of the heads, which the verifier checks the chains by
        assert requests.post(f"{base}/local/clock", json={"advance_seconds": 3600}, timeout=60).status_code == 200

        result = subprocess.run([sys.executable, "-m", "ops.verify"], cwd=ROOT, env={**clean, "PORT": str(port)},
                                capture_output=True, text=True, timeout=60)
    finally:
        server.terminate()
        server.wait(10)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "of the local server at http://127.0.0.1:" in result.stdout
    assert "members (accounts)   1" in result.stdout and "points/pending                       129" in result.stdout
    assert "anchor: latest digest" in result.stdout and "(1 heads" in result.stdout, result.stdout
    assert "1 heads found in the live chains" in result.stdout


def test_what_is_queued_and_not_yet_posted_is_reported_apart(api: Api, clock: FixedClock,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    api.chain("gran", "ref", "buyer")
    with api.poster_held():
        assert api.purchase("O-1", "buyer", 12900).status == 201  # ref 12 and gran 6, queued
        code, summary = run(capsys, "--no-anchor")
        assert code == 0 and summary["ok"], summary  # balances are the posted entries only
        assert summary["queue"] == {"postings": 2, "points": {"points": 18}, "oldest": "2026-11-23T09:30:00Z",
                                    "not_postings": 0}
    code, summary = run(capsys, "--no-anchor")
    assert code == 0 and summary["queue"] == {"postings": 0, "points": {}, "oldest": None, "not_postings": 0}
    assert "queued, not yet posted  0 postings (nothing)" in verify.render(
        verify.Summary(**{k: v for k, v in summary.items() if k in verify.Summary.__dataclass_fields__}), "test",
        queue=summary["queue"])
