"""Defects the concurrency and fault suites found, each reproduced deterministically: now regression tests.

Each test states the behaviour the contract promises, with the race or the fault placed exactly where it
broke that promise (the docstring says what used to happen). A defect not fixed yet is marked
``xfail(strict=True)`` with the reason naming the code; when its fix lands the test passes, strict xfail
turns that into a failure, and the marker comes off. They run on moto in-process.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from localdev import template
from localdev.server import LocalGateway
from loyalty import wiring
from loyalty.http.api import Router
from loyalty.ledger.accounts import BalanceView
from loyalty.ledger.dynamodb import DynamoLedgerStore
from loyalty.redemptions.domain import Redeemed
from loyalty.redemptions.usecases import RedemptionService
from loyalty.shared.clock import FixedClock
from loyalty.shared.errors import Busy
from loyalty.shared.once import Outcome, RetryPolicy
from loyalty.shared.settings import Settings
from loyalty.wiring import Services, build
from tests.concurrency.faults import AlwaysThrottled, OneFault, ScriptedTransactions
from tests.support import Api

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _services(client: Any, retry: RetryPolicy | None = None) -> Services:
    return build(Settings.from_env(), FixedClock(START), client, retry=(lambda: retry) if retry else RetryPolicy)


def _sign_up(services: Services, member_id: str, referral_code: str | None = None) -> Any:
    return services.members.sign_up(member_id=member_id, email=f"{member_id}@example.com", display_name=member_id,
                                    locale="zh-CN", marketing_opt_in=False, birthday=None,
                                    referral_code=referral_code)


def test_a_refund_reading_the_purchase_before_a_rival_refund_retries_instead_of_failing(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: post() raised LedgerInvariantError on the stale share (a lot below zero) and the refund answered 500."""
    api.chain("gran", "ref", "buyer")
    assert api.purchase("O-1", "buyer", 10000).status == 201
    assert api.refund("O-1", "R-0", 6000).status == 201
    real_operation = DynamoLedgerStore.operation
    rival: list[Any] = []

    def operation_then_a_rival(self: DynamoLedgerStore, key: str) -> Any:
        recorded = real_operation(self, key)
        if key == "purchase/O-1" and not rival:
            # R-1 has read refunded_minor = 6000; R-2 takes the last 4000 before R-1 reads the accounts.
            rival.append(None)
            rival[0] = wiring.services().purchases.refund(order_id="O-1", refund_id="R-2", amount_minor=4000,
                                                          requested_by="pos")
        return recorded

    monkeypatch.setattr(DynamoLedgerStore, "operation", operation_then_a_rival)
    reply = api.refund("O-1", "R-1", 4000)
    assert rival and not rival[0].replayed
    assert (reply.status, reply.slug) == (422, "refund-exceeds-purchase"), reply.body


def test_a_sign_up_whose_write_timed_out_after_applying_answers_created(aws: None, dynamodb: Any) -> None:
    """Was: the retry found its own member and answered 409 member-exists."""
    services = _services(OneFault(dynamodb, "transact_write_items", "ambiguous"))
    view = _sign_up(services, "amb")
    assert view.member.member_id == "amb"


def test_a_throttled_referral_code_lookup_is_retried(aws: None, dynamodb: Any) -> None:
    """Was: member_id_for_code ran outside any retry; the Contention escaped as a 500."""
    root = _sign_up(_services(dynamodb), "root")
    services = _services(OneFault(dynamodb, "get_item", "throttle"))
    view = _sign_up(services, "kid", root.member.referral_code)
    assert view.member.path.ancestors == ("root",)


def test_a_throttled_ledger_query_is_retried(aws: None, dynamodb: Any) -> None:
    """Was: Query never mapped throttling to Contention: a raw ClientError, a 500, no retry."""
    _sign_up(_services(dynamodb), "root")
    services = _services(OneFault(dynamodb, "query", "throttle"))
    report = services.ledger.verify("root")
    assert report.chain_valid and report.balances_match


def test_a_program_publish_whose_write_timed_out_publishes_one_version(aws: None, dynamodb: Any) -> None:
    """Was: the retry published again on top of its own write: two identical versions."""
    services = _services(OneFault(dynamodb, "transact_write_items", "ambiguous"))
    published = services.program.publish(points_per_currency_unit=2, referral_rates_bps=[1000], hold_days=7,
                                         currency="CNY", expected_version=None)
    assert published.version == 2
    assert _services(dynamodb).program.current().version == 2


def test_a_request_under_sustained_throttling_answers_busy_within_the_function_timeout(
        aws: None, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: the adapter's own BatchGetItem loop slept inside each of RetryPolicy's attempts (10.6 s on average)."""
    clock = {"now": 0.0}

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    worst = RetryPolicy(sleep=sleep, jitter=lambda: 1.0, monotonic=lambda: clock["now"])  # every back-off at its cap
    client = AlwaysThrottled(dynamodb)
    services = _services(client, worst)
    with pytest.raises(Busy):
        services.adjustments.adjust(adjustment_id="A-1", member_id="root", points=5, reason="x", requested_by="admin")
    timeout = template.load()["Globals"]["Function"]["Timeout"]
    assert clock["now"] < timeout, f"{clock['now']:.2f} s asleep before answering busy; the function has {timeout} s"
    assert client.calls["transact_write_items"] == 0


def test_two_members_calling_the_parallel_local_gateway_at_once_each_act_as_themselves(
        aws: None, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Imported here, with the functions' environment set: Powertools reads its settings at import.
    import functions.redemptions.app as redemptions

    """Was: LocalGateway(serialize=False) ran handlers in concurrent threads of one process, and Powertools keeps
    the event being handled in state shared by every resolver (BaseRouter.current_event): two requests handled
    at once read each other's claims, so one member could act as another. Now every invocation is serialized."""
    gateway = LocalGateway(clock)
    both_inside = threading.Barrier(2)
    real_caller = Router.caller
    acted_as: list[str] = []

    def caller_once_both_are_inside(router: Router) -> Any:
        # Both requests are past routing and validation here (requests run one at a time never meet: go on).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait(timeout=2)
        return real_caller(router)

    def redeem(self: RedemptionService, *, member_id: str, idempotency_key: str, points: int,
               reward: str, member_code: str | None = None, by: str | None = None,
               reward_id: str | None = None) -> Outcome[Redeemed]:
        acted_as.append(member_id)
        empty = BalanceView({"available": 0, "pending": 0}, 0, 0)
        return Outcome(Redeemed(f"rdm_{idempotency_key}", points, reward, {"points": empty}))

    monkeypatch.setattr(redemptions.router, "caller", lambda: caller_once_both_are_inside(redemptions.router))
    monkeypatch.setattr(RedemptionService, "redeem", redeem)

    def request(sub: str) -> None:
        headers = {"authorization": f"Bearer {gateway.mint(sub, [])['token']}", "content-type": "application/json",
                   "idempotency-key": f"k-{sub}"}
        gateway.invoke("POST", "/v1/redemptions", headers, b'{"points": 1, "reward": "wash"}')

    threads = [threading.Thread(target=request, args=(sub,)) for sub in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(acted_as) == ["alice", "bob"]


def test_busy_is_only_answered_when_nothing_was_written(aws: None, dynamodb: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Was: the 8th attempt, applied behind a timeout, answered 503 busy, 'nothing was written'."""
    _sign_up(_services(dynamodb), "dan")
    script: list[str] = ["conflict"] * (RetryPolicy().attempts - 1) + ["ambiguous"]
    services = _services(ScriptedTransactions(dynamodb, script), RetryPolicy(sleep=lambda _: None))
    try:
        outcome = services.adjustments.adjust(adjustment_id="A-1", member_id="dan", points=5, reason="x",
                                         requested_by="admin")
    except Busy:
        outcome = None
    written = dynamodb.get_item(TableName="OperationsTable", Key={"pk": {"S": "adjustment/A-1"}})
    assert ("Item" in written) == (outcome is not None), "busy was answered for an adjustment that was written"
    assert outcome is not None and outcome.result.amount == 5
