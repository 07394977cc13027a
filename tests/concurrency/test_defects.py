"""Defects the concurrency and fault suites found in the product code, each reproduced deterministically.

Each test states the behaviour the contract promises and is marked ``xfail(strict=True)`` until the
product is fixed: when a fix lands the test passes, strict xfail turns that into a failure, and the
marker comes off. They run on moto in-process, the failure placed exactly where the race or the
fault would put it.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

import loyalty.adapters.dynamodb as dynamodb_adapter
import loyalty.usecases.ledger as ledger_usecases
from localdev import template
from localdev.server import LocalGateway
from loyalty import wiring
from loyalty.adapters.dynamodb import DynamoStore
from loyalty.clock import FixedClock
from loyalty.errors import Busy
from loyalty.settings import Settings
from loyalty.usecases.ledger import LedgerService
from loyalty.usecases.once import Outcome, RetryPolicy
from loyalty.wiring import Services, build
from tests.concurrency.faults import AlwaysThrottled, OneFault, ScriptedTransactions
from tests.support import Api

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def _services(client: Any) -> Services:
    return build(Settings.from_env(), FixedClock(START), client)


def _sign_up(services: Services, member_id: str, referral_code: str | None = None) -> Any:
    return services.members.sign_up(member_id=member_id, email=f"{member_id}@example.com", display_name=member_id,
                                    locale="zh-CN", marketing_opt_in=False, birthday=None,
                                    referral_code=referral_code)


@pytest.mark.xfail(strict=True, reason=(
    "record_refund reads the purchase record (refunded_minor) and the accounts in two reads "
    "(layers/common/loyalty/usecases/ledger.py, record_refund: self._store.operation(...) then "
    "self._store.snapshot(accounts=...)); when a rival refund commits between them, post() reverses the stale "
    "share from a lot the rival already emptied and raises LedgerInvariantError('a lot cannot go below zero', "
    "ledger.py post) instead of Contention, so the request answers 500 instead of retrying (and then 422)."))
def test_a_refund_reading_the_purchase_before_a_rival_refund_retries_instead_of_failing(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.chain("gran", "ref", "buyer")
    assert api.purchase("O-1", "buyer", 10000).status == 201
    assert api.refund("O-1", "R-0", 6000).status == 201
    real_operation = DynamoStore.operation
    rival: list[Any] = []

    def operation_then_a_rival(self: DynamoStore, key: str) -> Any:
        recorded = real_operation(self, key)
        if key == "purchase/O-1" and not rival:
            # R-1 has read refunded_minor = 6000; R-2 takes the last 4000 before R-1 reads the accounts.
            rival.append(None)
            rival[0] = wiring.services().ledger.record_refund(order_id="O-1", refund_id="R-2", amount_minor=4000,
                                                              requested_by="pos")
        return recorded

    monkeypatch.setattr(DynamoStore, "operation", operation_then_a_rival)
    reply = api.refund("O-1", "R-1", 4000)
    assert rival and not rival[0].replayed
    assert (reply.status, reply.slug) == (422, "refund-exceeds-purchase"), reply.body


@pytest.mark.xfail(strict=True, reason=(
    "A sign-up whose TransactWriteItems commits but whose answer is lost (timeout) is retried by "
    "MembershipService.sign_up (layers/common/loyalty/usecases/members.py, self._retry.run(create_member)); the "
    "retry finds its own member and DynamoStore.create_member raises MemberTaken, so the caller is told "
    "409 member-exists for the sign-up that was just applied (it should recognise its own write, e.g. by the "
    "referral code it drew, and answer 201)."))
def test_a_sign_up_whose_write_timed_out_after_applying_answers_created(aws: None, dynamodb: Any) -> None:
    services = _services(OneFault(dynamodb, "transact_write_items", "ambiguous"))
    view = _sign_up(services, "amb")
    assert view.member.member_id == "amb"


@pytest.mark.xfail(strict=True, reason=(
    "MembershipService.sign_up reads the referral code with store.member_id_for_code outside any retry "
    "(layers/common/loyalty/usecases/members.py, sign_up); DynamoStore._get turns a throttled GetItem into "
    "Contention, which escapes the use case and the handler answers 500 internal-error instead of retrying "
    "(or 503 busy)."))
def test_a_throttled_referral_code_lookup_is_retried(aws: None, dynamodb: Any) -> None:
    root = _sign_up(_services(dynamodb), "root")
    services = _services(OneFault(dynamodb, "get_item", "throttle"))
    view = _sign_up(services, "kid", root.member.referral_code)
    assert view.member.path.ancestors == ("root",)


@pytest.mark.xfail(strict=True, reason=(
    "DynamoStore.entries / entries_page / referees / referee_counts call query without mapping throttling "
    "or timeouts to Contention (layers/common/loyalty/adapters/dynamodb.py, unlike _get and _batch_get), so "
    "LedgerService.verify_member's retry never sees them: a throttled Query is a raw ClientError and a 500."))
def test_a_throttled_ledger_query_is_retried(aws: None, dynamodb: Any) -> None:
    _sign_up(_services(dynamodb), "root")
    services = _services(OneFault(dynamodb, "query", "throttle"))
    report = services.ledger.verify_member("root")
    assert report.chain_valid and report.balances_match


@pytest.mark.xfail(strict=True, reason=(
    "ProgramService.publish (layers/common/loyalty/usecases/program.py) retries a write that timed out after "
    "committing by publishing on top of what it now reads: one PUT /v1/program makes two identical versions "
    "(and with an expected version it answers 409 version-conflict although its version was published). "
    "Nothing records the publish as an operation, so the retry cannot recognise its own write."))
def test_a_program_publish_whose_write_timed_out_publishes_one_version(aws: None, dynamodb: Any) -> None:
    services = _services(OneFault(dynamodb, "transact_write_items", "ambiguous"))
    published = services.program.publish(points_per_currency_unit=2, referral_rates_bps=[1000], hold_days=7,
                                         currency="CNY", expected_version=None)
    assert published.version == 2
    assert _services(dynamodb).program.current().version == 2


@pytest.mark.xfail(strict=True, reason=(
    "Retries nest: DynamoStore._batch_get (layers/common/loyalty/adapters/dynamodb.py) sleeps up to "
    "uniform(0, 0.01*2**a) after each of its 8 tries, a = 0..7, including the last (mean 1.275 s, max 2.55 s), "
    "and RetryPolicy runs it again in each of its 8 attempts: under sustained throttling a request sleeps "
    "10.6 s on average (21.2 s at worst) before answering 503 busy, past the functions' Timeout of 10 s "
    "(infra/template.yaml Globals), so Lambda kills it and the client gets API Gateway's bare 503 instead of "
    "the problem+json busy (botocore's own 3 tries per call come on top)."))
def test_a_request_under_sustained_throttling_answers_busy_within_the_function_timeout(
        aws: None, dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    mean_jitter = RetryPolicy(sleep=slept.append, jitter=lambda: 0.5)  # the average of full jitter
    monkeypatch.setattr(ledger_usecases, "RetryPolicy", lambda: mean_jitter)
    monkeypatch.setattr(dynamodb_adapter, "time", SimpleNamespace(sleep=slept.append))
    monkeypatch.setattr(dynamodb_adapter.random, "uniform", lambda low, high: (low + high) / 2)
    services = _services(AlwaysThrottled(dynamodb))
    with pytest.raises(Busy):
        services.ledger.adjust(adjustment_id="A-1", member_id="root", points=5, reason="x", requested_by="admin")
    timeout = template.load()["Globals"]["Function"]["Timeout"]
    assert sum(slept) < timeout, f"{sum(slept):.2f} s asleep before answering busy; the function has {timeout} s"


@pytest.mark.xfail(strict=True, reason=(
    "localdev/server.py: LocalGateway(serialize=False) (used by `make run` with LOCAL_DYNAMODB_ENDPOINT, "
    "'requests run in parallel') runs handlers in concurrent threads of one process, but Powertools keeps the "
    "event being handled in class attributes shared by every resolver (BaseRouter.current_event, "
    "aws_lambda_powertools/event_handler/api_gateway.py resolve()) and per-app context dicts: two requests "
    "handled at once read each other's headers, body and claims, so one member's request can act as another. "
    "Lambda is unaffected (one event per container at a time); the race tests run the handlers in processes."))
def test_two_members_calling_the_parallel_local_gateway_at_once_each_act_as_themselves(
        aws: None, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Imported here, with the functions' environment set: Powertools reads its settings at import.
    import functions.redemptions.app as redemptions

    gateway = LocalGateway(clock, serialize=False)
    both_inside = threading.Barrier(2)
    real_caller = redemptions.caller
    acted_as: list[str] = []

    def caller_once_both_are_inside(router: Any) -> Any:
        # Both requests are past routing and validation here (requests run one at a time never meet: go on).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait(timeout=2)
        return real_caller(router)

    def redeem(self: LedgerService, *, member_id: str, idempotency_key: str, points: int, reward: str) -> Outcome:
        acted_as.append(member_id)
        return Outcome({"redemption_id": f"rdm_{idempotency_key}", "points": points, "reward": reward,
                        "balances": {"points": {"available": 0, "pending": 0, "lifetime_earned": 0}}})

    monkeypatch.setattr(redemptions, "caller", caller_once_both_are_inside)
    monkeypatch.setattr(LedgerService, "redeem", redeem)

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


@pytest.mark.xfail(strict=True, reason=(
    "When the last of RetryPolicy's 8 attempts commits but its answer is lost (timeout), "
    "DynamoStore._transact raises Contention and RetryPolicy.run (layers/common/loyalty/usecases/once.py) "
    "answers Busy, whose problem says 'nothing was written' (loyalty/errors.py Busy; README: 'busy 503 … "
    "nothing written'): here the adjustment was written. A retry of the same request does get its first answer "
    "(200), so nothing is applied twice; but the 503's promise is wrong (it should say the request may have been "
    "applied and retrying it is safe, or look the operation record up before giving up)."))
def test_busy_is_only_answered_when_nothing_was_written(aws: None, dynamodb: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _sign_up(_services(dynamodb), "dan")
    monkeypatch.setattr(ledger_usecases, "RetryPolicy", lambda: RetryPolicy(sleep=lambda _: None))
    script: list[str | None] = ["conflict"] * (RetryPolicy().attempts - 1) + ["ambiguous"]
    services = _services(ScriptedTransactions(dynamodb, script))
    with pytest.raises(Busy):
        services.ledger.adjust(adjustment_id="A-1", member_id="dan", points=5, reason="x", requested_by="admin")
    written = dynamodb.get_item(TableName="OperationsTable", Key={"pk": {"S": "adjustment/A-1"}})
    assert "Item" not in written, "Busy was answered for an adjustment that was written"
