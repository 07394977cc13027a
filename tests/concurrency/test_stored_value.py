"""Stored value on AWS's own engine, from 8 processes at once (docs/wallet.md):

- 20 top-ups racing against the principal cap: exactly as many succeed as fit under it, the rest are
  ``422 stored-value-cap`` and write nothing; the principal ends exactly at the cap, never past it (the write's own
  conditions: the account's seq and ``at_most`` on the stored principal);
- 30 purchases racing to pay from one balance: never below zero in either bucket, successes × p ≤ what was held, and
  every refusal is ``409 insufficient-funds`` with nothing written.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import Reply, Service, report
from tests.model.test_model import chain_head

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process


def top_up(service: Service, top_up_id: str, member: str, amount: int) -> Reply:
    return service.call("POST", "/v1/top-ups", {"top_up_id": top_up_id, "member_id": member, "amount_minor": amount,
                                                "currency": "CNY"}, as_="pos", groups=("staff",))


def pay(service: Service, order_id: str, member: str, amount: int, paid: int) -> Reply:
    return service.call("POST", "/v1/purchases", {"order_id": order_id, "member_id": member, "amount_minor": amount,
                                                  "currency": "CNY", "stored_value_minor": paid},
                        as_="pos", groups=("staff",))


def held(service: Service, member: str) -> dict[str, Any]:
    reply = service.call("GET", f"/v1/members/{member}", as_="pos", groups=("staff",))
    assert reply.status == 200, reply.body
    return dict(reply.body["balances"]["stored_value"])


def verified(service: Service, holder: str) -> list[dict[str, Any]]:
    chain = service.ledger(holder)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    found = service.verify(holder)
    assert (found["chain_valid"], found["balances_match"], found["head_hash"]) == (True, True, chain_head(chain))
    return chain


def test_twenty_top_ups_racing_against_the_cap_never_pass_it(service: Service) -> None:
    service.sign_up("ann")
    assert top_up(service, "T-first", "ann", 400_000).status == 201  # 12,000 bonus (the 3 % tier)
    racers, amount = 20, 10_000  # room for exactly 10 under the 500,000 cap
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(top_up, service, f"T-{n}", "ann", amount) for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): 10, (422, "stored-value-cap"): 10}, statuses
    assert held(service, "ann") == {"principal_minor": 500_000, "bonus_minor": 12_000, "currency": "CNY"}
    chain = verified(service, "ann")
    principal = [e for e in chain if e["asset"] == "stored_value" and e["bucket"] == "principal"]
    running = 0
    for entry in principal:  # never past the cap at any point of the chain
        running += entry["amount"]
        assert running <= 500_000
    assert len(principal) == 11
    report("20 top-ups against the cap", **statuses_of(statuses), **service.transactions.since(mark))


def test_thirty_payments_racing_for_one_balance_never_overdraw_it(service: Service) -> None:
    service.sign_up("bob")
    assert top_up(service, "T-bob", "bob", 200_000).status == 201  # 2,000 bonus (the 1 % tier): 202,000 held
    racers, paid = 30, 10_000
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(pay, service, f"O-{n}", "bob", 12_000, paid)
                                   for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert set(statuses) <= {(201, None), (409, "insufficient-funds")}, statuses
    succeeded = statuses[(201, None)]
    assert succeeded * paid <= 202_000
    assert succeeded == 20  # every one that fits was paid: a refusal is only ever for want of funds
    taken = [r.body["stored_value"] for r in replies if r.status == 201]
    assert all(t["principal_minor"] + t["bonus_minor"] == paid for t in taken)
    now = held(service, "bob")
    assert now["principal_minor"] >= 0 and now["bonus_minor"] >= 0
    assert (now["principal_minor"] + sum(t["principal_minor"] for t in taken),
            now["bonus_minor"] + sum(t["bonus_minor"] for t in taken)) == (200_000, 2_000)
    chain = verified(service, "bob")
    for bucket in ("principal", "bonus"):
        running = 0
        for entry in chain:
            if entry["asset"] == "stored_value" and entry["bucket"] == bucket:
                running += entry["amount"]
                assert running >= 0
    refused = [n for n, r in enumerate(replies) if r.status == 409]
    for n in refused:  # nothing of a refused purchase was recorded
        assert not any(e["source"]["id"] == f"O-{n}" for e in chain)
    report("30 payments against one balance", **statuses_of(statuses), **service.transactions.since(mark))


def statuses_of(statuses: Counter[tuple[int, str | None]]) -> dict[str, int]:
    return {f"{status} {slug or ''}".strip(): count for (status, slug), count in statuses.items()}


# --- faults: every operation applied once or not at all ------------------------------------------------------------

class FaultRun:
    """Stored value's operations for one member through a fault-injecting client, each asked until answered (a caller
    that gave up asks again later with the same id), beside the plain arithmetic of what they must do."""

    def __init__(self, local_dynamodb: Any, rate: float) -> None:
        import random
        from datetime import UTC, datetime

        from loyalty.ledger.dynamodb import DynamoLedgerStore
        from loyalty.shared.clock import FixedClock
        from loyalty.shared.dynamo import Dynamo
        from loyalty.shared.settings import Settings
        from loyalty.wallet.dynamodb import DynamoWalletStore
        from loyalty.wallet.usecases import WalletService
        from loyalty.wiring import build
        from tests.concurrency.faults import FaultyClient

        self.settings, self.clock = Settings.from_env(), FixedClock(datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
        build(self.settings, self.clock, local_dynamodb, screening_key=lambda: b"faults").members.sign_up(
            member_id="ann", email="ann@example.com", display_name="Ann", locale="zh-CN", marketing_opt_in=False,
            birthday=None, referral_code=None)
        self.faulty = FaultyClient(local_dynamodb, rate=rate, seed=int(rate * 100) + 13)
        self.purchases = build(self.settings, self.clock, self.faulty, screening_key=lambda: b"faults").purchases
        self.wallet = WalletService(DynamoWalletStore(Dynamo(self.faulty), self.settings.tables,
                                                      self.settings.wallet_table),
                                    DynamoLedgerStore(Dynamo(self.faulty), self.settings.tables), self.clock)
        self.rng = random.Random(int(rate * 100) + 5)
        self.principal = self.bonus = 0
        self.paid: dict[str, list[int]] = {}  # order → [amount, principal part, bonus part, refunded]
        self.told_ok: list[str] = []  # operation keys the caller was told were written
        self.done: list[Any] = []  # the calls answered with a write, for replays

    def settle(self, call: Any) -> Any:
        from tests.concurrency.test_faults import answered

        return answered(call)

    def written(self, key: str, call: Any) -> None:
        self.told_ok.append(key)
        self.done.append(call)

    def top_up(self, step: int) -> None:
        amount = self.rng.choice([1_000, 200_000, 300_000, 450_000])

        def call() -> Any:
            return self.wallet.top_up(top_up_id=f"T-{step}", member_id="ann", amount_minor=amount, currency="CNY",
                                      requested_by="pos")
        told = self.settle(call)
        if self.principal + amount > 500_000:
            assert told.status == "stored-value-cap", told
            return
        assert told.ok, told
        gained = amount * next((bps for least, bps in ((500_000, 500), (300_000, 300), (200_000, 100))
                                if amount >= least), 0) // 10_000
        assert told.value.result.bonus_minor == gained
        self.principal, self.bonus = self.principal + amount, self.bonus + gained
        self.written(f"top_up/T-{step}", call)

    def pay(self, step: int) -> None:
        held = self.principal + self.bonus
        p = max(1, held * self.rng.randrange(1, 1200) // 1000)

        def call() -> Any:
            return self.purchases.record(order_id=f"O-{step}", member_id="ann", amount_minor=p + 500, currency="CNY",
                                         occurred_at=None, items=None, requested_by="pos", stored_value_minor=p)
        told = self.settle(call)
        if p > held:
            assert told.status == "insufficient-funds", told
            return
        assert told.ok, told
        share = p * self.bonus // held
        assert told.value.result.stored_value == (p - share, share)
        self.principal, self.bonus = self.principal - (p - share), self.bonus - share
        self.paid[f"O-{step}"] = [p + 500, p - share, share, 0]
        self.written(f"purchase/O-{step}", call)

    def refund(self, step: int) -> None:
        open_ = sorted(o for o, v in self.paid.items() if v[3] < v[0])
        if not open_:
            return
        order = self.rng.choice(open_)
        amount, p_part, b_part, before = self.paid[order]
        refund = self.rng.choice([amount - before, max(1, (amount - before) // 3)])

        def call() -> Any:
            return self.purchases.refund(order_id=order, refund_id=f"R-{step}", amount_minor=refund,
                                         requested_by="pos")
        told = self.settle(call)
        assert told.ok, told
        after = before + refund
        back = (p_part * after // amount - p_part * before // amount,
                b_part * after // amount - b_part * before // amount)
        assert told.value.result.stored_value == back
        self.principal, self.bonus = self.principal + back[0], self.bonus + back[1]
        self.paid[order][3] = after
        self.written(f"refund/{order}/R-{step}", call)

    def withdraw(self, step: int) -> None:
        def call() -> Any:
            return self.wallet.withdraw(member_id="ann", withdrawal_id=f"W-{step}", member_code=None,
                                        code_required=False, requested_by="boss")
        told = self.settle(call)
        assert told.ok, told
        result = told.value.result
        assert (result.principal_minor, result.bonus_forfeited_minor) == (self.principal, self.bonus)
        self.principal = self.bonus = 0
        self.written(f"withdrawal/ann/W-{step}", call)

    def replay(self, step: int) -> None:
        if self.done:
            told = self.settle(self.rng.choice(self.done))
            assert told.status == "replayed", told


@pytest.mark.parametrize("rate", [0.0, 0.2, 0.3], ids=["0pct", "20pct", "30pct"])
def test_stored_value_under_faults_applies_each_operation_once_or_not_at_all(local_dynamodb: Any, rate: float) -> None:
    """Top-ups, payments, refunds of them, withdrawals and replays through a DynamoDB client that throttles,
    conflicts and times out after committing (``tests/concurrency/faults.py``), each repeated by the caller on 503 as
    a real client does: what the caller is finally told matches what was written, and the balances and the chain are
    the plain arithmetic's."""
    from loyalty.ledger.dynamodb import DynamoLedgerStore
    from loyalty.ledger.verification import verify
    from loyalty.shared.dynamo import Dynamo

    run = FaultRun(local_dynamodb, rate)
    actions = {"top_up": run.top_up, "pay": run.pay, "refund": run.refund, "withdraw": run.withdraw,
               "replay": run.replay}
    for step in range(40):
        actions[run.rng.choices(list(actions), [4, 4, 2, 1, 2])[0]](step)

    recorded = {i["pk"]["S"] for i in local_dynamodb.scan(TableName="OperationsTable")["Items"]}
    assert recorded == set(run.told_ok)  # told written ⇔ written, once (the sign-up keeps no operation record)
    store = DynamoLedgerStore(Dynamo(local_dynamodb), run.settings.tables)
    account = store.accounts(["ann"])["ann"]
    view = account.view("stored_value", run.clock.now())
    assert (view["principal"], view["bonus"]) == (run.principal, run.bonus)
    report = verify(account, store.entries("ann"))
    assert report.chain_valid and report.balances_match, report
    print(f"\n[stored value under faults] rate {rate}: {len(run.told_ok)} writes, faults {dict(run.faulty.injected)}")
