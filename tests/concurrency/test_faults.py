"""Faults: the use cases over a DynamoDB client that throttles, conflicts and times out after writing.

For each fault rate a seeded workload (sign-ups in a referral tree, purchases and their replays,
partial refunds, redemptions and their replays, adjustments, clock moves) runs through
``loyalty.wiring.build(settings, clock, FaultyClient(client))`` on moto, one operation at a time, with a
client that repeats the same request on 503 (and on 500, which the problem document says is safe) as a
real client would. An independent model predicts every answer and every balance. Checked:

- every operation ended applied exactly once or not at all, and what the caller was finally told
  matches (success ⇔ applied once; a refusal or giving up ⇔ nothing written);
- balances, entry counts (release pairs included) and every chain equal the model's;
- retries are bounded (never more than ``RetryPolicy.attempts`` per call) and jittered.

``RetryPolicy`` and the adapter's BatchGetItem back-off record their sleeps instead of sleeping.
The table of figures is printed (``pytest -s``) and recorded in docs/proof.md, "Faults".
"""

from __future__ import annotations

import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.poster.app import post
from loyalty.ledger.dynamodb import DynamoLedgerStore
from loyalty.ledger.usecases import DeferredPoster
from loyalty.ledger.verification import verify
from loyalty.members.domain import MemberView
from loyalty.purchases.http import Purchase, Refund
from loyalty.redemptions.http import Redemption
from loyalty.shared.clock import FixedClock, to_rfc3339
from loyalty.shared.dynamo import Dynamo
from loyalty.shared.errors import Busy, LoyaltyError
from loyalty.shared.once import RetryPolicy
from loyalty.shared.settings import Settings
from loyalty.wiring import Services, build
from tests.concurrency.faults import AlwaysThrottled, FaultyClient
from tests.concurrency.poster import StreamPoster

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
RATES = (0.0, 0.1, 0.2, 0.3)
OPERATIONS = int(os.environ.get("FAULTS_OPERATIONS", "100"))  # docs/proof.md's table: FAULTS_OPERATIONS=1000
CLIENT_TRIES = 6
HOLD = timedelta(days=7)
RATES_BPS = (1000, 500)
TREE = {"root": None, "ann": "root", "bob": "root", "cat": "root", "ann1": "ann", "ann2": "ann", "bob1": "bob",
        "bob2": "bob", "cat1": "cat", "cat2": "cat", "ann11": "ann1", "bob21": "bob2"}

FIGURES: dict[float, dict[str, Any]] = {}
pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process


# --- retries, recorded -----------------------------------------------------------------------------

@dataclass
class Journal:
    runs: list[int] = field(default_factory=list)  # attempts per RetryPolicy.run
    sleeps: list[tuple[int, float]] = field(default_factory=list)  # (attempts so far, seconds)


class RecordingRetry(RetryPolicy):
    """The product's policy (same attempts, base, cap, jitter, budget); sleeping is recorded, not done,
    and the time budget counts the recorded sleeps as if they had been slept."""

    def __init__(self, journal: Journal) -> None:
        super().__init__(sleep=self._record, monotonic=self._now)
        self._journal = journal
        self._tries = 0
        self._slept = 0.0

    def _record(self, seconds: float) -> None:
        self._journal.sleeps.append((self._tries, seconds))
        self._slept += seconds

    def _now(self) -> float:
        return time.monotonic() + self._slept

    def run(self, attempt: Callable[[], Any]) -> Any:
        tries = 0

        def counted() -> Any:
            nonlocal tries
            tries += 1
            self._tries = tries
            return attempt()

        try:
            return super().run(counted)
        finally:
            self._journal.runs.append(tries)


# --- the independent model -------------------------------------------------------------------------

@dataclass
class Person:
    available: int = 0
    lots: dict[datetime, int] = field(default_factory=dict)
    earned: int = 0
    entries: int = 0

    def view(self, now: datetime) -> dict[str, Any]:
        matured = sum(p for at, p in self.lots.items() if at <= now)
        return {"available": self.available + matured,
                "pending": sum(self.lots.values()) - matured, "lifetime_earned": self.earned,
                "expiring": []}  # no expiry rule here

    def write(self, now: datetime, lines: int) -> None:
        """A committed write for this member: matured lots become a release pair, then the lines."""
        matured = [at for at in self.lots if at <= now]
        if matured:
            self.available += sum(self.lots.pop(at) for at in matured)
            self.entries += 2
        self.entries += lines


@dataclass
class Order:
    buyer: str
    amount: int
    credits: list[tuple[str, int, int, datetime]]  # member, level, points, available_at
    refunded: int = 0
    body: dict[str, Any] | None = None


class Model:
    def __init__(self) -> None:
        self.people: dict[str, Person] = {}
        self.ancestors: dict[str, tuple[str, ...]] = {}
        self.orders: dict[str, Order] = {}
        self.redemptions: dict[str, tuple[str, int, dict[str, Any]]] = {}

    def join(self, member: str, referrer: str | None) -> None:
        self.people[member] = Person()
        self.ancestors[member] = () if referrer is None else (referrer, *self.ancestors[referrer])

    def credits(self, buyer: str, amount: int, now: datetime) -> list[tuple[str, int, int, datetime]]:
        base = amount // 100
        plan = [(buyer, 0, base)] + [(a, level, base * RATES_BPS[level - 1] // 10_000)
                                     for level, a in enumerate(self.ancestors[buyer][:len(RATES_BPS)], start=1)]
        available_at = (now + HOLD).replace(minute=0, second=0, microsecond=0)  # holds end on the hour
        return [(m, level, points, available_at) for m, level, points in plan if points > 0]

    def purchase(self, order_id: str, buyer: str, amount: int, now: datetime) -> Order:
        order = Order(buyer, amount, self.credits(buyer, amount, now))
        self.orders[order_id] = order
        for member, _, points, at in order.credits:
            person = self.people[member]
            person.write(now, 1)
            person.lots[at] = person.lots.get(at, 0) + points
            person.earned += points
        return order

    def reversals(self, order: Order, amount: int) -> list[tuple[str, int, int]]:
        after = order.refunded + amount
        shares = [(m, level, p * after // order.amount - p * order.refunded // order.amount)
                  for m, level, p, _ in order.credits]
        return [(m, level, points) for m, level, points in shares if points]

    def refund(self, order: Order, amount: int, now: datetime) -> list[tuple[str, int, int]]:
        reversals = self.reversals(order, amount)
        for member, _, points in reversals:
            credit_at = next(at for m, _, _, at in order.credits if m == member)
            person = self.people[member]
            person.write(now, 1)
            if credit_at > now:
                person.lots[credit_at] -= points
                if not person.lots[credit_at]:
                    del person.lots[credit_at]
            else:
                person.available -= points
            person.earned -= points
        order.refunded += amount
        return reversals

    def redeem(self, member: str, points: int, now: datetime) -> None:
        person = self.people[member]
        person.write(now, 1)
        person.available -= points

    def adjust(self, member: str, points: int, now: datetime) -> None:
        person = self.people[member]
        person.write(now, 1)
        person.available += points
        person.earned += points


# --- the client ------------------------------------------------------------------------------------

@dataclass
class Told:
    """What the caller was finally told, after repeating the same request on 503 (and 500)."""

    status: str  # "created", "replayed", a problem slug, or "gave-up"
    value: Any
    tries: int
    busy: int = 0
    internal: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("created", "replayed")


def body(model: Any, outcome: Any) -> dict[str, Any]:
    """The API body of a use case's answer, as the handler builds it."""
    return dict(model.of(outcome.result).model_dump(mode="json"))


def ask(call: Callable[[], Any]) -> Told:
    internal: list[str]
    busy, internal = 0, []
    for tries in range(1, CLIENT_TRIES + 1):
        try:
            value = call()
        except Busy:
            busy += 1
            continue
        except LoyaltyError as error:
            return Told(error.slug, None, tries, busy, internal)
        except Exception as error:  # what the handler would answer as 500 internal-error
            internal.append(f"{type(error).__name__}: {error}")
            continue
        replayed = bool(getattr(value, "replayed", False))
        return Told("replayed" if replayed else "created", value, tries, busy, internal)
    return Told("gave-up", None, CLIENT_TRIES, busy, internal)


def answered(call: Callable[[], Any], times: int = 5) -> Told:
    """``ask`` again until the caller is answered (a caller that gave up asks later with the same id), never a 500."""
    for _ in range(times):
        told = ask(call)
        if told.status != "gave-up":
            assert not told.internal, told
            return told
    raise AssertionError("never answered")


# --- the run -------------------------------------------------------------------------------------

@dataclass
class Record:
    """One client-level operation: what it was, what the model expected, what the caller was told."""

    kind: str
    key: str | None  # its Operations record, for writes that have one
    expected: str  # "applied", a slug, or "replay"
    told: Told
    sources: list[tuple[str, str]] = field(default_factory=list)  # (member, source id) of its entries


class Run:
    def __init__(self, rate: float, client: Any, raw: Any, journal: Journal, seed: int) -> None:
        self.clock = FixedClock(START)
        self.faulty = FaultyClient(client, rate=rate, seed=seed)
        self.services: Services = build(Settings.from_env(), self.clock, self.faulty,
                                        retry=lambda: RecordingRetry(journal))
        self.raw = raw
        self.journal = journal
        self.rng = random.Random(seed)
        self.model = Model()
        self.records: list[Record] = []
        # The poster meets the same faults; Lambda's poller (reading the stream) is AWS's own, and does not.
        self.poster = DeferredPoster(DynamoLedgerStore(Dynamo(self.faulty), Settings.from_env().tables), self.clock,
                                     RecordingRetry(journal))
        self.stream = StreamPoster(raw, os.environ["AWS_ENDPOINT_URL_DYNAMODB"])

    def posted(self) -> None:
        """What the operation queued reaches the referrers' ledgers, as the poster would post it a moment later."""
        self.stream.drain(lambda records: post(records, self.poster))

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def sign_ups(self) -> None:
        codes: dict[str, str] = {}
        for member, referrer in TREE.items():
            def sign_up(m: str = member, r: str | None = referrer) -> MemberView:
                return self.services.members.sign_up(
                    member_id=m, email=f"{m}@example.com", display_name=m.title(), locale="zh-CN",
                    marketing_opt_in=False, birthday=None, referral_code=codes[r] if r else None)

            told = ask(sign_up)
            assert told.status == "created", (member, told)
            assert told.value.member.path.ancestors == ((referrer, *self.model.ancestors[referrer]) if referrer else ())
            codes[member] = told.value.member.referral_code
            self.model.join(member, referrer)
            self.records.append(Record("sign-up", None, "applied", told))

    def purchase(self) -> None:
        order_id = f"O-{len(self.model.orders) + 1}"
        buyer, amount = self.rng.choice(list(TREE)), self.rng.randrange(100, 60_000)
        told = ask(lambda: self.services.purchases.record(
            order_id=order_id, member_id=buyer, amount_minor=amount, currency="CNY", occurred_at=START, items=None,
            requested_by="pos"))
        record = Record("purchase", f"purchase/{order_id}", "applied", told)
        self.records.append(record)
        if told.ok:
            order = self.model.purchase(order_id, buyer, amount, self.now)
            order.body = body(Purchase, told.value)
            assert [(c["member_id"], c["level"], c["points"], c["available_at"]) for c in order.body["credits"]] \
                == [(m, level, p, to_rfc3339(at)) for m, level, p, at in order.credits]
            record.sources = [(m, order_id) for m, *_ in order.credits]

    def purchase_again(self) -> None:
        applied = [(k, o) for k, o in self.model.orders.items() if o.body is not None]
        if not applied:
            return
        order_id, order = self.rng.choice(applied)
        told = ask(lambda: self.services.purchases.record(
            order_id=order_id, member_id=order.buyer, amount_minor=order.amount, currency="CNY", occurred_at=START,
            items=None, requested_by="pos"))
        self.records.append(Record("purchase replay", None, "replay", told))
        assert told.status == "replayed" and body(Purchase, told.value) == order.body, told

    def refund(self) -> None:
        applied = [(k, o) for k, o in self.model.orders.items() if o.body is not None]
        if not applied:
            return
        order_id, order = self.rng.choice(applied)
        remaining = order.amount - order.refunded
        amount = self.rng.randrange(1, max(2, remaining * 2 // 3)) if self.rng.random() < 0.8 else remaining + 1
        refund_id = f"R-{len(self.records)}"
        told = ask(lambda: self.services.purchases.refund(
            order_id=order_id, refund_id=refund_id, amount_minor=amount, requested_by="pos"))
        fits = order.refunded + amount <= order.amount
        record = Record("refund", f"refund/{order_id}/{refund_id}",
                        "applied" if fits else "refund-exceeds-purchase", told)
        self.records.append(record)
        if told.ok:
            reversals = self.model.refund(order, amount, self.now)
            assert [(r["member_id"], r["level"], r["points"]) for r in body(Refund, told.value)["reversals"]] \
                == reversals
            record.sources = [(m, f"{order_id}/{refund_id}") for m, *_ in reversals]

    def redeem(self) -> None:
        member = self.rng.choice(list(TREE))
        view = self.model.people[member].view(self.now)
        points = self.rng.randrange(1, max(2, view["available"] + 40))
        key = f"K-{len(self.records)}"
        told = ask(lambda: self.services.redemptions.redeem(member_id=member, idempotency_key=key, points=points,
                                                            reward="wash"))
        enough = view["available"] >= points
        record = Record("redemption", f"redemption/{member}/{key}", "applied" if enough else "insufficient-points",
                        told)
        self.records.append(record)
        if told.ok:
            self.model.redeem(member, points, self.now)
            answer = body(Redemption, told.value)
            assert answer["balances"]["points"] == self.model.people[member].view(self.now)
            self.model.redemptions[key] = (member, points, answer)
            record.sources = [(member, answer["redemption_id"])]

    def redeem_again(self) -> None:
        if not self.model.redemptions:
            return
        key = self.rng.choice(list(self.model.redemptions))
        member, points, answer = self.model.redemptions[key]
        told = ask(lambda: self.services.redemptions.redeem(member_id=member, idempotency_key=key, points=points,
                                                            reward="wash"))
        self.records.append(Record("redemption replay", None, "replay", told))
        assert told.status == "replayed" and body(Redemption, told.value) == answer, told

    def adjust(self) -> None:
        member, points = self.rng.choice(list(TREE)), self.rng.randrange(-200, 500)
        adjustment_id = f"A-{len(self.records)}"
        told = ask(lambda: self.services.adjustments.adjust(adjustment_id=adjustment_id, member_id=member,
                                                            points=points, reason="test", requested_by="admin"))
        record = Record("adjustment", f"adjustment/{adjustment_id}", "applied", told)
        self.records.append(record)
        if told.ok:
            self.model.adjust(member, points, self.now)
            assert told.value.result.amount == points
            record.sources = [(member, adjustment_id)]

    def later(self) -> None:
        self.clock.advance(self.rng.randrange(1, 4) * 86400)

    def workload(self) -> None:
        self.sign_ups()
        steps: list[tuple[Callable[[], None], int]] = [
            (self.purchase, 35), (self.purchase_again, 6), (self.refund, 16), (self.redeem, 16),
            (self.redeem_again, 5), (self.adjust, 12), (self.later, 10),
        ]
        actions, weights = zip(*steps, strict=True)
        for _ in range(OPERATIONS):
            self.rng.choices(actions, weights)[0]()
            self.posted()


def _entries_by_source(raw: Any) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    kwargs: dict[str, Any] = {"TableName": "LedgerTable"}
    while True:
        page = raw.scan(**kwargs)
        for item in page["Items"]:
            if item["kind"]["S"] == "release":
                continue
            member = item["member_id"]["S"]
            if "parts" in item:  # a poster's batch: each event it carries
                for part in item["parts"]["L"]:
                    found[(member, part["L"][0]["S"].split("/", 1)[1])] += 1
            else:
                found[(member, item["source_id"]["S"])] += 1
        if "LastEvaluatedKey" not in page:
            return found
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _figures(rate: float, run: Run, journal: Journal) -> dict[str, Any]:
    ops = [r for r in run.records if r.expected != "replay"]
    should_apply = [r for r in ops if r.expected == "applied"]
    attempts = journal.runs
    return {
        "rate": rate,
        "operations": len(run.records),
        "calls": sum(run.faulty.calls.values()),
        "faults": dict(run.faulty.injected),
        "first_try": sum(1 for r in run.records if r.told.tries == 1) / len(run.records),
        "success": sum(1 for r in should_apply if r.told.ok) / len(should_apply),
        "mean_retries": statistics.fmean(a - 1 for a in attempts),
        "max_retries": max(attempts) - 1,
        "retried_calls": sum(1 for a in attempts if a > 1) / len(attempts),
        "client_retries": sum(r.told.tries - 1 for r in run.records),
        "busy": sum(r.told.busy for r in run.records),
        "internal": sum(len(r.told.internal) for r in run.records),
        "replayed_after_timeout": sum(1 for r in ops if r.told.status == "replayed"),
    }


@pytest.mark.parametrize("rate", RATES, ids=[f"{int(r * 100)}pct" for r in RATES])
def test_every_operation_applies_once_or_not_at_all_under_faults(
        local_dynamodb: Any, monkeypatch: pytest.MonkeyPatch, rate: float) -> None:
    dynamodb = local_dynamodb
    journal = Journal()
    run = Run(rate, dynamodb, dynamodb, journal, seed=int(rate * 100) + 4)

    run.workload()

    # What the caller was told matches what happened: success ⇔ applied once; refusal / giving up ⇔ nothing.
    recorded = {item["pk"]["S"] for item in dynamodb.scan(TableName="OperationsTable")["Items"]}
    entries = _entries_by_source(dynamodb)
    for record in run.records:
        if record.expected == "replay":
            continue
        if record.expected == "applied":
            assert record.told.ok or record.told.status == "gave-up", record
        else:  # the model says refuse: the service must not have applied it (then the model would not follow)
            assert record.told.status in (record.expected, "gave-up"), record
        if rate == 0:
            assert record.told.status != "gave-up", record  # without faults nothing may give up
        if record.key is not None:
            assert (record.key in recorded) == record.told.ok, record
        for source in record.sources:
            assert entries.pop(source) == 1, (record, source)
    assert not entries, f"entries no told-successful operation accounts for: {entries}"
    # Balances, entry counts and chains equal the model's.
    store = DynamoLedgerStore(Dynamo(dynamodb), Settings.from_env().tables)
    accounts = store.accounts(list(TREE))
    for member, person in run.model.people.items():
        account = accounts[member]
        view = account.view("points", run.now)
        expected = person.view(run.now)
        assert expected.pop("expiring") == [], member  # no expiry rule in this run
        assert {"available": view["available"], "pending": view["pending"], "lifetime_earned": view.earned} \
            == expected, member
        report = verify(account, store.entries(member))
        assert report.chain_valid and report.balances_match, report
        assert report.entries == person.entries, member
    # Bounded and jittered.
    policy = RetryPolicy()
    assert max(journal.runs) <= policy.attempts
    for tries, seconds in journal.sleeps:
        assert 0 <= seconds <= min(policy.cap_seconds, policy.base_seconds * 2 ** (tries - 1))
    if rate:
        assert len({s for _, s in journal.sleeps}) > len(journal.sleeps) // 2, "sleeps are not jittered"
    else:
        assert journal.sleeps == [] and max(journal.runs) == 1
    # No fault ever surfaces as anything but a retry, a replay or busy (over HTTP: no 500).
    assert [r for r in run.records if r.told.internal] == []

    FIGURES[rate] = _figures(rate, run, journal)
    print_table()


def test_a_request_that_never_gets_through_stops_after_the_policys_attempts_and_writes_nothing(
        local_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal()
    client = AlwaysThrottled(local_dynamodb)
    services = build(Settings.from_env(), FixedClock(START), client, retry=lambda: RecordingRetry(journal))

    told = ask(lambda: services.adjustments.adjust(adjustment_id="A-1", member_id="root", points=5, reason="x",
                                              requested_by="admin"))

    policy = RetryPolicy()
    assert told.status == "gave-up" and told.busy == CLIENT_TRIES and not told.internal
    assert journal.runs == [policy.attempts] * CLIENT_TRIES
    assert "transact_write_items" not in client.calls
    assert local_dynamodb.scan(TableName="OperationsTable")["Count"] == 0
    asleep = sum(s for _, s in journal.sleeps) / CLIENT_TRIES
    assert asleep <= sum(min(policy.cap_seconds, policy.base_seconds * 2**n) for n in range(policy.attempts - 1))
    print(f"\none request under sustained throttling: {policy.attempts} attempts, "
          f"{client.calls['batch_get_item'] // CLIENT_TRIES} BatchGetItem and "
          f"{client.calls['get_item'] // CLIENT_TRIES} GetItem calls, {asleep:.2f} s asleep before 503 busy")


def print_table() -> None:
    """The rows measured so far (all four once the last rate has run)."""
    print("\n| fault rate | operations | DynamoDB calls | faults injected | answered on the first request | success "
          "| calls retried by the service | service retries per call (mean / max) | client retries (503 / 500) "
          "| timed-out writes answered as replays |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rate in sorted(FIGURES):
        f = FIGURES[rate]
        faults = ", ".join(f"{k} {v}" for k, v in sorted(f["faults"].items())) or "none"
        print(f"| {rate:.0%} | {f['operations']} | {f['calls']} | {faults} | {f['first_try']:.1%} | "
              f"{f['success']:.1%} | {f['retried_calls']:.1%} | {f['mean_retries']:.2f} / {f['max_retries']} | "
              f"{f['busy']} / {f['internal']} | {f['replayed_after_timeout']} |")
