"""Flash sale: one subtree at 100 / 1,000 / 10,000 purchases/s, through a model of DynamoDB's limits.

Every purchase is made in one subtree whose root R every purchase credits: the buyers are R's referrals
(depth 1: R credited at level 1) or their referrals (depth 2: their referrer at level 1, R at level 2), every
buyer a different member, so R is the one hot member. A discrete-event simulation (``heapq``, a seeded
``random.Random``: the same figures on every run) drives two designs through the same arrivals:

- A, "today": ``BatchGetItem`` (buyer, buyer's account, programme) + ``BatchGetItem`` (the ancestors'
  accounts) + ``TransactWriteItems`` (operation record; per credited member its account, conditioned on
  ``seq``, its entry and the entry's ``by_seq`` LSI copy);
- B, "deferred": ``BatchGetItem`` (buyer, account, programme) + ``TransactWriteItems`` (operation record, the
  buyer's account and entry, one CreditQueue item per other beneficiary, keyed ``<beneficiary>#<k>`` with
  ``k = crc32(order_id) % SPREAD``); a poster Lambda on the CreditQueue stream reads each beneficiary's account
  and posts that beneficiary's credits of its batch in one transaction (the account, with a mark per queue
  key, and one aggregated entry per level). The marks make a batch the stream delivers again post nothing twice.

The model (every figure is a field of ``Limits``, printed by ``report``): a token bucket per partition key
(1,000 WCU/s, 3,000 RCU/s, one second of burst); a transaction is cancelled if another one in flight holds one
of its accounts (TransactionConflict) or an account changed since it was read (ConditionalCheckFailed), and
both are retried as ``RetryPolicy`` retries (re-read, full-jitter backoff, 8 tries, 4 s, then 503 busy); a
throttled transaction is cancelled too (no SDK retry), a throttled read is retried by the SDK (botocore's
standard mode: one retry after rand × 1 s) and keys a ``BatchGetItem`` leaves unprocessed are asked for again at
once, twice, as the adapter does; the way in is API Gateway's stage and account throttles and Lambda's account
concurrency (a refusal is a 429). Items are the adapter's own (``account_item``, ``entry_item``, the operation
record) sized with ``bench.sizes``; prices are ``bench.cost``'s. Latencies are assumptions (no AWS account here).
"""

from __future__ import annotations

import heapq
import inspect
import math
import random
import re
import zlib
from collections import Counter, deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench import cost
from bench.hot_referrer import BUYER, MEMBER, NOW, PARTITION_RCU, PARTITION_WCU, account_bytes, entry_bytes
from bench.sizes import item_size, read_units, write_units
from bench.units import AMOUNT_MINOR, TEN_LEVELS

ROOT = Path(__file__).resolve().parent.parent
Step = Generator[float, None, Any]  # a process: yields the seconds it waits, returns its result
Attempt = Generator[float, None, "str | None"]  # returns None, or why it failed
Read = Generator[float, None, bool]

THROTTLED, CONFLICT, CONDITION = "throttled", "TransactionConflict", "ConditionalCheckFailed"
ADAPTER_CALLS = 3  # loyalty.shared.dynamo.Dynamo.batch_get: the first call and two more for unprocessed keys
DRAIN_S = 120.0  # after the last arrival, how long the posters may take to post what is queued
POSTER_THROTTLED_RETRY_S = 0.1  # the event source mapping's wait when Lambda refuses an invocation
R = "R"  # the subtree's root (the hot referrer)


def _template_throttle() -> tuple[float, float]:
    """The HTTP API stage's default route throttle in the template: a number or a ``!Ref`` to a parameter."""
    text = (ROOT / "infra" / "template.yaml").read_text()
    block = text[text.index("DefaultRouteSettings:"):]

    def value(name: str) -> float:
        found = re.search(rf"{name}:\s*(.+)", block)
        raw = found.group(1).strip() if found else "nan"
        ref = re.fullmatch(r"!Ref (\w+)", raw)
        if ref:
            default = re.search(rf"\n  {ref.group(1)}:\n(?:    .*\n)*?    Default: (\S+)", text)
            raw = default.group(1) if default else "nan"
        return float(raw)

    return value("ThrottlingRateLimit"), value("ThrottlingBurstLimit")


def _sdk_attempts() -> int:
    from loyalty import wiring

    attempts: int = inspect.signature(wiring.client).parameters["attempts"].default
    return attempts


def _retry_figures() -> dict[str, float]:
    policy = _retry_policy()
    return {name: getattr(policy, name) for name in ("attempts", "base_seconds", "cap_seconds", "budget_seconds")}


def _retry_policy() -> Any:
    from loyalty.shared.once import RetryPolicy

    return RetryPolicy()


TEMPLATE_RATE, TEMPLATE_BURST = _template_throttle()


@dataclass(frozen=True)
class Limits:
    """Every limit and assumption of the model."""

    partition_wcu: float = PARTITION_WCU  # per partition key, per second
    partition_rcu: float = PARTITION_RCU  # strongly consistent
    burst_s: float = 1.0  # a key's bucket keeps at most this many seconds of unused capacity
    read_ms: float = 5.0  # GetItem / BatchGetItem, + uniform(0, read_jitter_ms)
    read_jitter_ms: float = 2.0
    tx_ms: float = 15.0  # TransactWriteItems, + uniform(0, tx_jitter_ms) + tx_ms_per_10_items per 10 items
    tx_jitter_ms: float = 5.0
    tx_ms_per_10_items: float = 1.0
    cancelled_charge: float = 0.5  # share of its units a cancelled transaction consumes (its prepare phase)
    sdk_attempts: int = field(default_factory=_sdk_attempts)  # wiring.client: botocore's own tries per call
    sdk_throttle_base_s: float = 1.0  # botocore standard mode after a throttling error: rand × base × 2^i
    stage_rate: float = TEMPLATE_RATE  # StageRateLimit (HTTP API default route), requests/s
    stage_burst: float = TEMPLATE_BURST  # StageBurstLimit
    account_rate: float = 10_000.0  # API Gateway's account quota per region, requests/s
    account_burst: float = 5_000.0
    lambda_concurrency: int = 1_000  # the account's concurrent executions
    handler_ms: float = cost.ASSUMED_DURATION_MS[2] - 25.0  # besides DynamoDB: A uncontended takes cost.py's 60 ms
    stream_delay_s: tuple[float, float] = (0.1, 0.3)  # commit → record readable by the event source mapping
    batch_size: int = 1_000
    window_s: float = 0.5  # MaximumBatchingWindowInSeconds
    parallelization: int = 10  # ParallelizationFactor
    poster_workers: int = 10  # beneficiaries one poster invocation posts at a time
    poster_ms: float = 20.0  # a poster invocation's own work: poster_ms + poster_ms_per_10_records per 10 records
    poster_ms_per_10_records: float = 1.0
    spread: int = 32  # SPREAD: queue keys per beneficiary
    program_cache_s: float = 0.0  # how long a purchase Lambda keeps the programme it read (0: read every time)
    depth2_share: float = 0.5  # purchases made at depth 2 (the rest at depth 1)
    referrers: int = 1_000  # R's referrals whose own referrals buy (the level-1 referrers of depth-2 buyers)
    r_lots: int = 24  # R's pending lots (a referrer busy all day; hot-referrer.md)
    other_lots: int = 1


# --- items --------------------------------------------------------------------------------------------

ORDER = "POS-2026-0123456"  # a flash sale's order ids: POS-2026-<7 digits>
STREAM_SEQUENCE = "4421584500000000017450439091"  # a DynamoDB Streams SequenceNumber (what a mark keeps)
REQUESTED_BY = "3n4b5c6d7e8f9g0h1i2j3k4l5m"  # a till's app client id
QUEUE_TTL = timedelta(days=35)  # a queue item's expiry (any 10-digit epoch is the same size)


def _member(i: int) -> str:
    return f"{i:08x}-2b7d-4c8e-9a3f-1d2e3f4a5b6c"  # a Cognito sub's shape


def _operation_bytes(depth: int) -> int:
    """The purchase's operation record, as ``PurchaseService.record`` builds it, at ``depth``."""
    from loyalty.members.domain import ReferralPath
    from loyalty.program.domain import DEFAULT_PROGRAM
    from loyalty.purchases.domain import PurchaseRecord, PurchaseRecorded, credit_purchase, purchase_key
    from loyalty.purchases.usecases import PURCHASES
    from loyalty.shared.clock import to_rfc3339
    from loyalty.shared.dynamo import operation_item, to_item
    from loyalty.shared.once import Operation, fingerprint

    rules = DEFAULT_PROGRAM if depth <= len(DEFAULT_PROGRAM.referral_rates_bps) else \
        replace(DEFAULT_PROGRAM, referral_rates_bps=tuple(TEN_LEVELS))
    credits = tuple(credit_purchase(rules, BUYER, ReferralPath(tuple(_member(i) for i in range(depth))),
                                    AMOUNT_MINOR, NOW))
    at = to_rfc3339(NOW)
    result = PurchaseRecorded(ORDER, BUYER, AMOUNT_MINOR, rules.currency, at, rules.version, credits)
    record = PurchaseRecord(ORDER, BUYER, AMOUNT_MINOR, rules.currency, 0, credits, (), at, at, REQUESTED_BY)
    request = {"member_id": BUYER, "amount_minor": AMOUNT_MINOR, "currency": rules.currency, "occurred_at": None,
               "items": None}
    op = Operation(purchase_key(ORDER), fingerprint(request), 201, PURCHASES.dump(result), at, record.state())
    return item_size(to_item(operation_item(op)))


def deferred_item(beneficiary: str, k: int, points: int, level: int) -> dict[str, Any]:
    """A CreditQueue item (design B), in the low-level typed form."""
    from loyalty.program.domain import DEFAULT_PROGRAM
    from loyalty.shared.clock import start_of_hour, to_rfc3339

    recorded = NOW.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    available = to_rfc3339(start_of_hour(NOW + timedelta(days=DEFAULT_PROGRAM.hold_days)))
    return {
        "pk": {"S": f"{beneficiary}#{k}"}, "sk": {"S": f"{recorded}#purchase/{ORDER}"},
        "points": {"N": str(points)}, "level": {"N": str(level)}, "bucket": {"S": "pending"},
        "available_at": {"S": available}, "rule_version": {"N": "1"},
        "expires_at": {"N": str(int((NOW + QUEUE_TTL).timestamp()))},
    }


@dataclass(frozen=True)
class Shapes:
    """Sizes in bytes of the items a purchase and a posting write."""

    operation: tuple[int, ...]  # by depth 0..10
    entry: int  # an entry (and its LSI copy in design A)
    buyer_account: int  # a new buyer's account after its first purchase (one lot)
    r_account: int
    other_account: int
    deferred: int  # a CreditQueue item
    mark: float  # one element of an account's mark map (design B)
    marks_attribute: int  # the empty map's name and overhead
    part: float  # one part of an aggregated entry
    parts_attribute: int

    @classmethod
    def build(cls, limits: Limits) -> Shapes:
        entry = entry_bytes()["referral"]
        marks = {f"{MEMBER}#{k}": {"N": STREAM_SEQUENCE} for k in range(limits.spread)}
        parts = [{"L": [{"S": ORDER}, {"N": "150"}]} for _ in range(100)]
        empty_marks, empty_parts = item_size({"marks": {"M": {}}}), item_size({"parts": {"L": []}})
        return cls(
            operation=tuple(_operation_bytes(d) for d in range(11)), entry=entry,
            buyer_account=account_bytes(1), r_account=account_bytes(limits.r_lots),
            other_account=account_bytes(limits.other_lots), deferred=item_size(deferred_item(MEMBER, 31, 150, 1)),
            mark=(item_size({"marks": {"M": marks}}) - empty_marks) / limits.spread, marks_attribute=empty_marks,
            part=(item_size({"parts": {"L": parts}}) - empty_parts) / len(parts), parts_attribute=empty_parts,
        )


class Plan:
    """The capacity units of every item a purchase or a posting reads and writes."""

    def __init__(self, shapes: Shapes) -> None:
        self.s = shapes
        self.entry = write_units(shapes.entry, transactional=True)

    def account_bytes(self, member: str, marks: int = 0) -> int:
        base = self.s.r_account if member == R else self.s.other_account
        return base + (math.ceil(self.s.marks_attribute + marks * self.s.mark) if marks else 0)

    def account_rcu(self, member: str, marks: int = 0) -> float:
        return read_units(self.account_bytes(member, marks))

    def account_wcu(self, member: str, marks: int = 0) -> float:
        return write_units(self.account_bytes(member, marks), transactional=True)

    def aggregated_wcu(self, parts: int) -> float:
        return write_units(math.ceil(self.s.entry + self.s.parts_attribute + parts * self.s.part), transactional=True)

    def checkout(self, with_program: bool) -> list[tuple[str | None, float]]:
        """The first BatchGetItem: the buyer's member item and account (one purchase's own keys: ``None``), the
        programme (one item every purchase reads)."""
        return [(None, 1.0), (None, 1.0), *([("P#points", 1.0)] if with_program else [])]

    def own_a(self, depth: int) -> float:
        """Design A: the operation record, the buyer's account, entry and LSI copy."""
        op = write_units(self.s.operation[depth], transactional=True)
        return op + write_units(self.s.buyer_account, transactional=True) + 2 * self.entry

    def own_b(self, depth: int) -> float:
        """Design B: the operation record, the buyer's account and entry (no LSI copy)."""
        op = write_units(self.s.operation[depth], transactional=True)
        return op + write_units(self.s.buyer_account, transactional=True) + self.entry

    def deferred(self) -> float:
        return write_units(self.s.deferred, transactional=True)


# --- the machinery: events, token buckets, DynamoDB, Lambda ------------------------------------------------

class Loop:
    """Events in time order; a process is a generator that yields how long it waits."""

    def __init__(self, rng: random.Random) -> None:
        self.now = 0.0
        self.rng = rng
        self._heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._n = 0

    def at(self, when: float, fn: Callable[[Any], None], arg: Any = None) -> None:
        self._n += 1
        heapq.heappush(self._heap, (when, self._n, fn, arg))

    def spawn(self, process: Step, done: Callable[[Any], None]) -> None:
        self._resume((process, done))

    def _resume(self, task: tuple[Step, Callable[[Any], None]]) -> None:
        process, done = task
        try:
            delay = next(process)
        except StopIteration as stop:
            done(stop.value)
            return
        self.at(self.now + delay, self._resume, task)

    def run(self, until: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= until:
            self.now, _, fn, arg = heapq.heappop(heap)
            fn(arg)


class Bucket:
    """A token bucket, refilled continuously; it also keeps the most units taken in one calendar second."""

    __slots__ = ("cap", "level", "peak", "rate", "second", "t", "used")

    def __init__(self, rate: float, cap: float, now: float) -> None:
        self.rate, self.cap, self.level, self.t = rate, cap, cap, now
        self.second, self.used, self.peak = -1, 0.0, 0.0

    def ready(self, now: float, units: float) -> bool:
        self.level = min(self.cap, self.level + (now - self.t) * self.rate)
        self.t = now
        return self.level >= units

    def take(self, now: float, units: float, *, force: bool = False) -> bool:
        if not self.ready(now, units) and not force:
            return False
        self.level -= units
        if int(now) != self.second:
            self.second, self.used = int(now), 0.0
        self.used += units
        self.peak = max(self.peak, self.used)
        return True


@dataclass
class Meter:
    w: float = 0.0
    r: float = 0.0


class Dynamo:
    """DynamoDB's limits: per-key buckets, transactions holding their accounts, ``seq`` conditions.

    A key of ``None`` is one purchase's own item (its buyer, the order's record): used by that purchase alone,
    it is counted but cannot reach a limit, so it gets no bucket.
    """

    def __init__(self, loop: Loop, limits: Limits) -> None:
        self.loop, self.l = loop, limits
        self.writes: dict[str, Bucket] = {}
        self.reads: dict[str, Bucket] = {}
        self.seq: dict[str, int] = {}
        self.held: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()  # refusals by key

    def _bucket(self, table: dict[str, Bucket], key: str, rate: float) -> Bucket:
        found = table.get(key)
        if found is None:
            found = table[key] = Bucket(rate, rate * self.l.burst_s, self.loop.now)
        return found

    def _latency(self, ms: float, jitter_ms: float, items: int = 0) -> float:
        return (ms + self.loop.rng.random() * jitter_ms + items / 10 * self.l.tx_ms_per_10_items) / 1000

    def read(self, keys: Sequence[tuple[str | None, float]], meter: Meter, op: str = "BatchGetItem") -> Read:
        """A ``BatchGetItem`` (or ``GetItem``) as the adapter makes it; False if it ends throttled."""
        pending = keys
        for _ in range(ADAPTER_CALLS):
            left = yield from self._call(pending, meter, op)
            if left is None:
                return False
            if not left:
                return True
            pending = left
        return False

    def _call(self, keys: Sequence[tuple[str | None, float]], meter: Meter,
              op: str) -> Generator[float, None, list[tuple[str | None, float]] | None]:
        """One SDK call: the keys left unprocessed, or None if every key was throttled on every SDK try."""
        for attempt in range(self.l.sdk_attempts):
            self.calls[op] += 1
            left: list[tuple[str | None, float]] = []
            for key, units in keys:
                if key is None or self._bucket(self.reads, key, self.l.partition_rcu).take(self.loop.now, units):
                    meter.r += units
                else:
                    left.append((key, units))
                    self.throttled[key] += 1
            yield self._latency(self.l.read_ms, self.l.read_jitter_ms)
            if len(left) < len(keys):
                return left
            if attempt + 1 < self.l.sdk_attempts:
                yield self.loop.rng.random() * self.l.sdk_throttle_base_s * 2**attempt
        return None

    def transact(self, items: dict[str | None, float], seen: dict[str, int], count: int, meter: Meter) -> Attempt:
        """``TransactWriteItems``: units by key; ``seen`` the accounts it puts and the ``seq`` each was read at."""
        self.calls["TransactWriteItems"] += 1
        now = self.loop.now
        refused = [k for k, u in items.items()
                   if k is not None and not self._bucket(self.writes, k, self.l.partition_wcu).ready(now, u)]
        if refused:
            self.throttled.update(refused)
            yield self._latency(self.l.read_ms, self.l.read_jitter_ms)
            return THROTTLED
        reason = CONFLICT if any(a in self.held for a in seen) else \
            CONDITION if any(self.seq.get(a, 0) != s for a, s in seen.items()) else None
        share = 1.0 if reason is None else self.l.cancelled_charge
        for key, units in items.items():
            meter.w += units * share
            if key is not None:
                self.writes[key].take(now, units * share, force=True)
        if reason is not None:
            yield self._latency(self.l.tx_ms, self.l.tx_jitter_ms, count)
            return reason
        self.held.update(seen)
        yield self._latency(self.l.tx_ms, self.l.tx_jitter_ms, count)
        for account in seen:
            self.seq[account] = self.seq.get(account, 0) + 1
            self.held.discard(account)
        return None

    def hottest(self, table: dict[str, Bucket]) -> tuple[str, float]:
        if not table:
            return "", 0.0
        key = max(table, key=lambda k: table[k].peak)
        return key, table[key].peak


class Container:
    __slots__ = ("program_until",)

    def __init__(self) -> None:
        self.program_until = -1.0


class Lambdas:
    """The account's concurrent executions, shared by the purchase and poster functions."""

    def __init__(self, limit: int) -> None:
        self.limit, self.busy, self.peak = limit, 0, 0

    def acquire(self, idle: list[Container]) -> Container | None:
        if self.busy >= self.limit:
            return None
        self.busy += 1
        self.peak = max(self.peak, self.busy)
        return idle.pop() if idle else Container()

    def release(self, idle: list[Container], container: Container) -> None:
        self.busy -= 1
        idle.append(container)


# --- purchases ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Purchase:
    arrival: float
    order: str
    ancestors: tuple[str, ...]  # nearest first; R last
    points: int  # the buyer's


def referral_points(points: int, level: int) -> int:
    from loyalty.program.domain import DEFAULT_PROGRAM

    rates = DEFAULT_PROGRAM.referral_rates_bps if level <= len(DEFAULT_PROGRAM.referral_rates_bps) else TEN_LEVELS
    return points * rates[level - 1] // 10_000


class Flash:
    """One design at one offered rate: arrivals, the door, the purchases (and in design B the posters)."""

    def __init__(self, design: str, rate: float, seconds: float, limits: Limits, plan: Plan, seed: int) -> None:
        self.design, self.rate, self.seconds, self.l, self.plan = design, rate, seconds, limits, plan
        self.loop = Loop(random.Random(f"{seed}/{design}/{rate}"))
        self.tree = random.Random(f"{seed}/tree/{rate}")  # the same purchases for both designs
        self.db = Dynamo(self.loop, limits)
        self.lambdas = Lambdas(limits.lambda_concurrency)
        self.stage = Bucket(limits.stage_rate, limits.stage_burst, 0.0)
        self.account = Bucket(limits.account_rate, limits.account_burst, 0.0)
        self.containers: list[Container] = []
        self.times = arrivals(rate, seconds, seed)
        self.path = Meter()
        self.outcomes: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()  # why attempts failed (each retried or final)
        self.latency: list[float] = []
        self.billed_s = 0.0
        self.invoked = 0
        self.credits = 0  # referral credits of absorbed purchases
        self.r_queue_writes: list[tuple[float, int]] = []  # design B: when a transaction wrote R's queue item, crc
        self.retry = _retry_policy()
        self.poster = Poster(self, queue_shards(rate, limits, plan)) if design == "B" else None

    def run(self) -> dict[str, Any]:
        if self.times:
            self.loop.at(self.times[0], self._arrive, 0)
        self.loop.run(self.seconds + DRAIN_S)
        if self.poster is not None:
            self.poster.check_every_credit_posted_once()
        return self.result()

    def _purchase(self, n: int) -> Purchase:
        depth = 2 if self.tree.random() < self.l.depth2_share else 1
        ancestors = (f"M{self.tree.randrange(self.l.referrers)}", R) if depth == 2 else (R,)
        return Purchase(self.loop.now, f"POS-2026-{n:07d}", ancestors, self.tree.randrange(50, 501))

    def _arrive(self, n: int) -> None:
        if n + 1 < len(self.times):
            self.loop.at(self.times[n + 1], self._arrive, n + 1)
        purchase = self._purchase(n)
        if not self.account.take(self.loop.now, 1):
            self.outcomes["429 account quota"] += 1
            return
        if not self.stage.take(self.loop.now, 1):
            self.outcomes["429 stage throttle"] += 1
            return
        container = self.lambdas.acquire(self.containers)
        if container is None:
            self.outcomes["429 Lambda concurrency"] += 1
            return
        self.invoked += 1
        self.loop.spawn(self.process(purchase, container), lambda failure: self._done(purchase, container, failure))

    def _done(self, purchase: Purchase, container: Container, failure: str | None) -> None:
        self.lambdas.release(self.containers, container)
        self.billed_s += self.loop.now - purchase.arrival
        if failure is None:
            self.outcomes["absorbed"] += 1
            self.credits += len(purchase.ancestors)
            self.latency.append(self.loop.now - purchase.arrival)
        else:
            self.outcomes["503 busy (throttled)" if failure == THROTTLED else "503 busy"] += 1

    def retried(self, attempt: Callable[[], Attempt], failures: Counter[str]) -> Attempt:
        """``RetryPolicy.run``: full-jitter backoff between tries, at most ``attempts`` tries and ``budget``."""
        policy, started = self.retry, self.loop.now
        for number in range(policy.attempts):
            failure = yield from attempt()
            if failure is None:
                return None
            failures[failure] += 1
            pause = self.loop.rng.random() * min(policy.cap_seconds, policy.base_seconds * 2**number)
            if number == policy.attempts - 1 or self.loop.now - started + pause > policy.budget_seconds:
                return failure
            yield pause
        return CONFLICT  # pragma: no cover - the loop always returns

    def process(self, purchase: Purchase, container: Container) -> Attempt:
        yield self.l.handler_ms / 1000
        attempt = self._attempt_a if self.design == "A" else self._attempt_b
        failure = yield from self.retried(lambda: attempt(purchase, container), self.failures)
        if failure is not None:  # run_once: was it recorded after all? (one GetItem of the operation record)
            yield from self.db.read([(None, 1.0)], self.path, "GetItem")
        return failure

    def _checkout(self, container: Container) -> Read:
        fresh = container.program_until > self.loop.now
        served = yield from self.db.read(self.plan.checkout(not fresh), self.path)
        if served and not fresh and self.l.program_cache_s:
            container.program_until = self.loop.now + self.l.program_cache_s
        return served

    def _attempt_a(self, p: Purchase, container: Container) -> Attempt:
        if not (yield from self._checkout(container)):
            return THROTTLED
        accounts = [f"A#{a}" for a in p.ancestors]
        seen = {a: self.db.seq.get(a, 0) for a in accounts}
        if not (yield from self.db.read([(f"A#{a}", self.plan.account_rcu(a)) for a in p.ancestors], self.path)):
            return THROTTLED
        items: dict[str | None, float] = {None: self.plan.own_a(len(p.ancestors))}
        for a in p.ancestors:
            items[f"A#{a}"] = self.plan.account_wcu(a)
            items[f"L#{a}"] = 2 * self.plan.entry  # the entry and its by_seq copy, on the same partition key
        return (yield from self.db.transact(items, seen, 3 + 2 * len(p.ancestors), self.path))

    def _attempt_b(self, p: Purchase, container: Container) -> Attempt:
        recorded = self.loop.now  # the attempt's clock reading: the queue item's sk
        if not (yield from self._checkout(container)):
            return THROTTLED
        crc = zlib.crc32(p.order.encode())
        k = crc % self.l.spread
        items: dict[str | None, float] = {None: self.plan.own_b(len(p.ancestors))}
        for a in p.ancestors:
            items[f"Q#{a}#{k}"] = self.plan.deferred()
        self.r_queue_writes.append((self.loop.now, crc))
        failure = yield from self.db.transact(items, {}, 3 + len(p.ancestors), self.path)
        if failure is None and self.poster is not None:
            self.poster.enqueue(p, recorded, k)
        return failure

    def result(self) -> dict[str, Any]:
        offered = len(self.times)
        absorbed = self.outcomes["absorbed"]
        w = self.path.w + (self.poster.meter.w if self.poster else 0.0)
        r = self.path.r + (self.poster.meter.r if self.poster else 0.0)
        write_key, write_peak = self.db.hottest(self.db.writes)
        read_key, read_peak = self.db.hottest(self.db.reads)
        dollars = self._dollars(w, r)
        return {
            "design": self.design, "rate": self.rate, "seconds": self.seconds, "offered": offered,
            "absorbed": absorbed, "absorbed_per_s": absorbed / self.seconds,
            "failed": {k: v for k, v in sorted(self.outcomes.items()) if k != "absorbed"},
            "attempt_failures": dict(self.failures),
            "latency_ms": percentiles(self.latency, 1000),
            "wcu_per_purchase": w / absorbed if absorbed else None,
            "rcu_per_purchase": r / absorbed if absorbed else None,
            "dollars_per_million": {k: v / absorbed * 1e6 for k, v in dollars.items()} if absorbed else None,
            "hottest_write_key": write_key, "hottest_write_peak": write_peak,
            "hottest_read_key": read_key, "hottest_read_peak": read_peak,
            "lambda_peak": self.lambdas.peak, "invoked": self.invoked, "credits": self.credits,
            "throttled_keys": dict(self.db.throttled.most_common(3)),
            **({"deferred": self.poster.result()} if self.poster else {}),
        }

    def _dollars(self, w: float, r: float) -> dict[str, float]:
        """What the run spent: API requests and Lambda invocations that reached a function, DynamoDB units."""
        lambda_ = self.invoked * cost.LAMBDA_REQUEST + self.billed_s * cost.LAMBDA_MEMORY_GB * cost.LAMBDA_ARM_GB_SECOND
        if self.poster is not None:
            lambda_ += self.poster.invocations * cost.LAMBDA_REQUEST + \
                self.poster.billed_s * cost.LAMBDA_MEMORY_GB * cost.LAMBDA_ARM_GB_SECOND
        dynamodb = w * cost.DYNAMODB_WRU + r * cost.DYNAMODB_RRU
        api = self.invoked * cost.HTTP_API_REQUEST
        return {"api": api, "lambda": lambda_, "dynamodb": dynamodb, "total": api + lambda_ + dynamodb}


def arrivals(rate: float, seconds: float, seed: int) -> list[float]:
    """Poisson arrivals at ``rate`` for ``seconds`` (the same for both designs)."""
    rng, t, times = random.Random(f"{seed}/arrivals/{rate}"), 0.0, []
    while rate > 0:
        t += rng.expovariate(rate)
        if t >= seconds:
            break
        times.append(t)
    return times


def queue_shards(rate: float, limits: Limits, plan: Plan) -> int:
    """The CreditQueue stream's shards: one per partition, max(1, ceil(peak WCU/s / 1,000))."""
    peak_wcu = rate * (1 + limits.depth2_share) * plan.deferred()
    return max(1, math.ceil(peak_wcu / limits.partition_wcu))


def percentiles(values: list[float], scale: float = 1.0) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    return {name: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * scale
            for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))}


# --- design B's poster --------------------------------------------------------------------------------------

@dataclass(slots=True)
class Record:
    credit: int
    ready: float  # when the event source mapping can read it
    seqno: int  # the stream's sequence number (commit order)
    qkey: str
    beneficiary: str
    level: int
    points: int
    committed: float
    depth: int


@dataclass(slots=True)
class Slot:
    """One concurrent batch of one shard (ParallelizationFactor): a key's records always come here, in order."""

    records: deque[Record] = field(default_factory=deque)
    busy: bool = False
    due: float | None = None
    generation: int = 0


@dataclass(slots=True)
class Invocation:
    slot: Slot
    batch: list[Record]
    container: Container
    started: float
    lanes: int
    failed: bool = False


class Poster:
    """The CreditQueue stream, its event source mapping, and the poster function (design B)."""

    def __init__(self, flash: Flash, shards: int) -> None:
        self.f, self.l, self.shards = flash, flash.l, shards
        self.slots: dict[str, Slot] = {}
        self.shard_ready = [0.0] * shards
        self.seqno = 0
        self.posted = bytearray()  # per credit made: 1 once posted
        self.points = [0, 0]  # made, posted
        self.marks: dict[str, dict[str, int]] = {}
        self.last_recorded: dict[str, float] = {}
        self.inversions = 0  # queue items committed in an order their sk (recorded_at) does not follow
        self.delays: list[float] = []
        self.batches: dict[bool, list[int]] = {True: [], False: []}  # per posting transaction, by "is R"
        self.share: dict[tuple[int, int], list[float]] = {}  # (depth, level) → [WCU, RCU, credits]
        self.meter = Meter()
        self.failures: Counter[str] = Counter()
        self.idle: list[Container] = []
        self.invocations = self.failed_invocations = self.records_in = 0
        self.billed_s = 0.0

    # the stream and the event source mapping

    def enqueue(self, p: Purchase, recorded: float, k: int) -> None:
        now = self.f.loop.now
        for level, beneficiary in enumerate(p.ancestors, start=1):
            qkey = f"{beneficiary}#{k}"
            if recorded < self.last_recorded.get(qkey, -1.0):
                self.inversions += 1
            self.last_recorded[qkey] = max(recorded, self.last_recorded.get(qkey, -1.0))
            shard = zlib.crc32(qkey.encode()) % self.shards
            ready = max(now + self.f.loop.rng.uniform(*self.l.stream_delay_s), self.shard_ready[shard])
            self.shard_ready[shard] = ready
            points = referral_points(p.points, level)
            self.points[0] += points
            slot = self._slot(qkey, shard)
            slot.records.append(Record(len(self.posted), ready, self.seqno, qkey, beneficiary, level, points, now,
                                       len(p.ancestors)))
            self.posted.append(0)
            self.seqno += 1
            self._poke(slot)

    def _slot(self, qkey: str, shard: int) -> Slot:
        slot = self.slots.get(qkey)
        if slot is None:
            lane = zlib.crc32(f"{qkey}/esm".encode()) % self.l.parallelization
            slot = self.slots.setdefault(f"{shard}/{lane}", Slot())
            self.slots[qkey] = slot
        return slot

    def _poke(self, slot: Slot) -> None:
        """When the slot's next batch goes: the window after its first record, or as soon as a batch is full."""
        if slot.busy or not slot.records:
            return
        due = slot.records[0].ready + self.l.window_s
        if len(slot.records) >= self.l.batch_size:
            due = min(due, slot.records[self.l.batch_size - 1].ready)
        due = max(due, self.f.loop.now)
        if slot.due is not None and slot.due <= due:
            return
        slot.generation += 1
        slot.due = due
        self.f.loop.at(due, self._fire, (slot, slot.generation))

    def _fire(self, arg: tuple[Slot, int]) -> None:
        slot, generation = arg
        if generation != slot.generation or slot.busy:
            return
        slot.due = None
        now, batch = self.f.loop.now, list[Record]()
        while slot.records and slot.records[0].ready <= now and len(batch) < self.l.batch_size:
            batch.append(slot.records.popleft())
        if not batch:
            self._poke(slot)
            return
        container = self.f.lambdas.acquire(self.idle)
        if container is None:  # Lambda refused the invocation: the event source mapping tries again shortly
            slot.records.extendleft(reversed(batch))
            slot.due, slot.generation = now + POSTER_THROTTLED_RETRY_S, slot.generation + 1
            self.f.loop.at(slot.due, self._fire, (slot, slot.generation))
            return
        self._invoke(slot, batch, container)

    def _invoke(self, slot: Slot, batch: list[Record], container: Container) -> None:
        slot.busy = True
        groups: dict[str, list[Record]] = {}
        for record in batch:
            groups.setdefault(record.beneficiary, []).append(record)
        work = list(groups.items())
        lanes = min(self.l.poster_workers, len(work))
        invocation = Invocation(slot, batch, container, self.f.loop.now, lanes)
        cpu = (self.l.poster_ms + len(batch) / 10 * self.l.poster_ms_per_10_records) / 1000
        for i in range(lanes):
            self.f.loop.spawn(self._lane(work[i::lanes], cpu), lambda ok: self._lane_done(invocation, ok))

    def _lane(self, work: list[tuple[str, list[Record]]], cpu: float) -> Generator[float, None, bool]:
        yield cpu
        ok = True
        for beneficiary, records in work:
            ok = (yield from self._post_group(beneficiary, records)) and ok
        return ok

    def _lane_done(self, invocation: Invocation, ok: bool) -> None:
        invocation.failed = invocation.failed or not ok
        invocation.lanes -= 1
        if invocation.lanes:
            return
        self.f.lambdas.release(self.idle, invocation.container)
        self.invocations += 1
        self.records_in += len(invocation.batch)
        self.billed_s += self.f.loop.now - invocation.started
        slot = invocation.slot
        slot.busy = False
        if invocation.failed:  # the event source mapping retries the same batch
            self.failed_invocations += 1
            slot.records.extendleft(reversed(invocation.batch))
        self._poke(slot)

    # the poster function

    def _post_group(self, beneficiary: str, records: list[Record]) -> Generator[float, None, bool]:
        meter, posted = Meter(), list[Record]()
        failure = yield from self.f.retried(lambda: self._post(beneficiary, records, meter, posted), self.failures)
        self.meter.w += meter.w
        self.meter.r += meter.r
        for record in posted:
            share = self.share.setdefault((record.depth, record.level), [0.0, 0.0, 0])
            share[0] += meter.w / len(posted)
            share[1] += meter.r / len(posted)
            share[2] += 1
        return failure is None

    def _post(self, beneficiary: str, records: list[Record], meter: Meter, posted: list[Record]) -> Attempt:
        account = f"A#{beneficiary}"
        seen = {account: self.f.db.seq.get(account, 0)}
        marks = self.marks.setdefault(beneficiary, {})
        read = [(account, self.f.plan.account_rcu(beneficiary, len(marks)))]
        if not (yield from self.f.db.read(read, meter, "GetItem")):
            return THROTTLED
        todo = [r for r in records if r.seqno > marks.get(r.qkey, -1)]
        if not todo:
            return None  # a batch delivered again: every credit in it is already posted
        levels = Counter(r.level for r in todo)
        keys = len(marks.keys() | {r.qkey for r in todo})
        items: dict[str | None, float] = {
            account: self.f.plan.account_wcu(beneficiary, keys),
            f"L#{beneficiary}": sum(self.f.plan.aggregated_wcu(n) for n in levels.values()),
        }
        failure = yield from self.f.db.transact(items, seen, 1 + len(levels), meter)
        if failure is None:
            self._posted(todo, marks)
            posted.extend(todo)
        return failure

    def _posted(self, todo: list[Record], marks: dict[str, int]) -> None:
        now = self.f.loop.now
        for record in todo:
            if self.posted[record.credit]:
                raise AssertionError(f"credit {record.credit} posted twice")
            self.posted[record.credit] = 1
            self.points[1] += record.points
            marks[record.qkey] = record.seqno
            self.delays.append(now - record.committed)
        self.batches[todo[0].beneficiary == R].append(len(todo))

    def check_every_credit_posted_once(self) -> None:
        if self.posted.count(1) != len(self.posted) or self.points[0] != self.points[1]:
            raise AssertionError(f"{len(self.posted) - self.posted.count(1)} credits never posted "
                                 f"({self.points[1]} of {self.points[0]} points)")

    def result(self) -> dict[str, Any]:
        def sizes(values: list[int]) -> dict[str, float] | None:
            return {"median": sorted(values)[len(values) // 2], "max": max(values)} if values else None

        return {
            "shards": self.shards, "credits_made": len(self.posted), "credits_posted": self.posted.count(1),
            "points_made": self.points[0], "points_posted": self.points[1],
            "delay_ms": percentiles(self.delays, 1000), "batch_r": sizes(self.batches[True]),
            "batch_others": sizes(self.batches[False]), "postings": sum(map(len, self.batches.values())),
            "invocations": self.invocations, "failed_invocations": self.failed_invocations,
            "records_per_invocation": self.records_in / self.invocations if self.invocations else 0.0,
            "billed_ms_per_invocation": self.billed_s / self.invocations * 1000 if self.invocations else 0.0,
            "attempt_failures": dict(self.failures), "sk_inversions": self.inversions,
            "wcu": self.meter.w, "rcu": self.meter.r,
            "share": {f"{d}/{lv}": {"wcu": s[0] / s[2], "rcu": s[1] / s[2], "credits": s[2]}
                      for (d, lv), s in sorted(self.share.items())},
        }


# --- what the runs find -----------------------------------------------------------------------------------

def path_requests(design: str, depth: int, limits: Limits, plan: Plan) -> dict[str, int]:
    """The DynamoDB requests of one purchase at ``depth`` on an idle table, counted as the model issues them."""
    flash = Flash(design, 0.0, 0.0, limits, plan, seed=0)
    purchase = Purchase(0.0, ORDER, (*(f"M{i}" for i in range(depth - 1)), R), 100)
    counted: dict[str, int] = {}
    flash.loop.spawn(flash.process(purchase, Container()), lambda failure: counted.update(flash.db.calls))
    flash.loop.run(DRAIN_S)  # the posters' requests come later and are not the purchase's
    return counted


def min_burst(times: list[float], rate: float) -> int:
    """The smallest bucket (burst) that lets every arrival through at ``rate`` (the largest backlog)."""
    backlog, worst, last = 0.0, 0.0, 0.0
    for t in times:
        backlog = max(0.0, backlog - (t - last) * rate) + 1
        worst, last = max(worst, backlog), t
    return math.ceil(worst)


def refused(times: list[float], rate: float, burst: float) -> int:
    bucket = Bucket(rate, burst, 0.0)
    return sum(not bucket.take(t, 1) for t in times)


def spread_needed(writes: list[tuple[float, int]], units: float, limits: Limits) -> int:
    """The smallest SPREAD at which none of R's queue keys is ever throttled by these writes (bisection)."""
    def throttles(spread: int) -> bool:
        buckets = [Bucket(limits.partition_wcu, limits.partition_wcu * limits.burst_s, 0.0) for _ in range(spread)]
        return any(not buckets[crc % spread].take(t, units) for t, crc in writes)

    low, high = 1, 1
    while throttles(high):
        low, high = high + 1, high * 2
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if not throttles(middle) else (middle + 1, high)
    return high


def per_purchase_at_depth2(run: dict[str, Any], plan: Plan) -> dict[str, float]:
    """WCU/RCU of a depth-2 purchase without retries: its own requests, and in design B the postings' share of
    its two credits at the batch sizes the run produced, and unbatched (one posting per credit)."""
    checkout = sum(u for _, u in plan.checkout(True))
    if run["design"] == "A":
        wcu = plan.own_a(2) + sum(plan.account_wcu(a) + 2 * plan.entry for a in ("M", R))
        return {"wcu": wcu, "rcu": checkout + plan.account_rcu("M") + plan.account_rcu(R)}
    own = plan.own_b(2) + 2 * plan.deferred()
    share = run["deferred"]["share"]
    batched = [share.get(f"2/{level}", {"wcu": math.nan, "rcu": math.nan}) for level in (1, 2)]
    marks = run["spread"]  # in time, a beneficiary's account carries a mark for each of its queue keys
    unbatched_w = sum(plan.account_wcu(a, marks) + plan.aggregated_wcu(1) for a in ("M", R))
    unbatched_r = sum(plan.account_rcu(a, marks) for a in ("M", R))
    return {"own_wcu": own, "wcu": own + sum(b["wcu"] for b in batched),
            "rcu": checkout + sum(b["rcu"] for b in batched),
            "unbatched_wcu": own + unbatched_w, "unbatched_rcu": checkout + unbatched_r}


def dollars_at_depth2(run: dict[str, Any], units: dict[str, float]) -> dict[str, float]:
    """Per million depth-2 purchases: HTTP API, Lambda (cost.py's 60 ms per purchase, plus in design B the
    posters' invocations per credit of the run), DynamoDB (the units above). Streams: GetRecords is free."""
    purchase = cost.Cost(2, units["wcu"], units["rcu"], cost.ASSUMED_DURATION_MS[2], 0)
    lambda_ = purchase.lambda_()
    if run["design"] == "B":
        d = run["deferred"]
        per_invocation = cost.LAMBDA_REQUEST + d["billed_ms_per_invocation"] / 1000 * cost.LAMBDA_MEMORY_GB * \
            cost.LAMBDA_ARM_GB_SECOND
        lambda_ += 2 * per_invocation * d["invocations"] / max(1, d["credits_posted"])
    return {"api": purchase.http_api * 1e6, "lambda": lambda_ * 1e6, "dynamodb": purchase.dynamodb * 1e6,
            "total": (purchase.http_api + lambda_ + purchase.dynamodb) * 1e6}


def _one(design: str, rate: float, seconds: float, limits: Limits, plan: Plan, seed: int) -> dict[str, Any]:
    result = Flash(design, rate, seconds, limits, plan, seed).run()
    result["spread"] = limits.spread
    result["at_depth2"] = per_purchase_at_depth2(result, plan)
    result["dollars_at_depth2"] = dollars_at_depth2(result, result["at_depth2"])
    return result


def run(quick: bool = False, seed: int = 7) -> dict[str, Any]:
    """Both designs at each rate (quick: 100 and 1,000/s for 3 s), then what the top rate needs."""
    rates, seconds = ((100.0, 1_000.0), 3.0) if quick else ((100.0, 1_000.0, 10_000.0), 20.0)
    plan = Plan(Shapes.build(Limits()))
    top = rates[-1]
    burst = min_burst(arrivals(top, seconds, seed), top)
    limits = Limits(stage_rate=top, stage_burst=max(100, math.ceil(burst * 1.5 / 100) * 100))
    runs = [_one(design, rate, seconds, limits, plan, seed) for rate in rates for design in ("A", "B")]
    cached = replace(limits, program_cache_s=1.0)
    variant = Flash("B", top, seconds, cached, plan, seed)
    found = variant.run()
    # how much hangs on the assumed charge for cancelled transactions: both again, with them free (half as long)
    free = [Flash(design, rate, seconds / 2, replace(limits_, cancelled_charge=0.0), plan, seed).run()
            for design, rate, limits_ in (("A", rates[1], limits), ("B", top, cached))]
    return {
        "limits": asdict(limits), "template_stage": [TEMPLATE_RATE, TEMPLATE_BURST], "seconds": seconds,
        "retry": _retry_figures(), "shapes": asdict(plan.s), "runs": runs, "free_cancellations": free,
        "requests": {f"{d}/{depth}": path_requests(d, depth, limits, plan) for d in ("A", "B") for depth in (1, 2, 10)},
        "template_refusals": {f"{r:.0f}": refused(arrivals(r, seconds, seed), TEMPLATE_RATE, TEMPLATE_BURST)
                              for r in rates},
        "needed": {"rate": top, "stage_rate": top, "stage_burst": limits.stage_burst, "min_burst": burst,
                   "spread": spread_needed(variant.r_queue_writes, plan.deferred(), limits),
                   "program_cache_s": cached.program_cache_s, "deferred_wcu": plan.deferred(), "run": found},
    }


# --- report -------------------------------------------------------------------------------------------------

TABLES = {"A": "Accounts", "L": "Ledger", "Q": "CreditQueue", "P": "Program"}


def _key(key: str) -> str:
    table, _, rest = key.partition("#")
    return f"{TABLES.get(table, table)} {rest}"


def _ms(found: dict[str, float] | None) -> str:
    return f"p50 {found['p50']:,.0f} ms, p99 {found['p99']:,.0f} ms" if found else "none"


def _counts(counts: dict[str, Any], name: Callable[[str], str] = str) -> str:
    return ", ".join(f"{name(k)} {v:,}" for k, v in counts.items()) or "none"


def limits_lines(result: dict[str, Any]) -> list[str]:
    m, retry, s = result["limits"], result["retry"], result["shapes"]
    return [
        f"Model: per partition key {m['partition_wcu']:,.0f} WCU/s and {m['partition_rcu']:,.0f} RCU/s (token "
        f"bucket, {m['burst_s']:.0f} s of burst); GetItem/BatchGetItem {m['read_ms']:.0f} ms + U(0, "
        f"{m['read_jitter_ms']:.0f}); TransactWriteItems {m['tx_ms']:.0f} ms + U(0, {m['tx_jitter_ms']:.0f}) + "
        f"{m['tx_ms_per_10_items']:.0f} ms per 10 items, holding its accounts until it commits; a cancelled "
        f"transaction consumes {m['cancelled_charge']:.0%} of its units (assumed)",
        f"Retries: SDK {m['sdk_attempts']} tries per call (after a throttle: rand × {m['sdk_throttle_base_s']:.0f} s × "
        f"2^i); BatchGetItem's unprocessed keys asked again {ADAPTER_CALLS - 1} times at once; RetryPolicy "
        f"{retry['attempts']} tries, backoff rand × min({retry['cap_seconds'] * 1000:.0f} ms, "
        f"{retry['base_seconds'] * 1000:.0f} ms × 2^n), {retry['budget_seconds']:.0f} s budget, then 503 busy",
        f"Way in: HTTP API stage throttle (template today: {result['template_stage'][0]:,.0f} rps, burst "
        f"{result['template_stage'][1]:,.0f}; these runs: StageRateLimit={m['stage_rate']:,.0f}, "
        f"StageBurstLimit={m['stage_burst']:,.0f}); account quota {m['account_rate']:,.0f} rps, burst "
        f"{m['account_burst']:,.0f}; Lambda account concurrency {m['lambda_concurrency']:,}; purchase handler "
        f"{m['handler_ms']:.0f} ms besides DynamoDB",
        f"Subtree: {1 - m['depth2_share']:.0%} of buyers at depth 1 (R at level 1), {m['depth2_share']:.0%} at depth 2 "
        f"under {m['referrers']:,} referrers (R at level 2); every buyer distinct; R has {m['r_lots']} pending lots; "
        f"Poisson arrivals, {result['seconds']:.0f} s per rate",
        f"Design B: SPREAD {m['spread']}; CreditQueue stream: max(1, ceil(peak WCU/s / {m['partition_wcu']:,.0f})) "
        f"shards, delay {m['stream_delay_s'][0] * 1000:.0f}-{m['stream_delay_s'][1] * 1000:.0f} ms; BatchSize "
        f"{m['batch_size']:,}, MaximumBatchingWindowInSeconds {m['window_s']}, ParallelizationFactor "
        f"{m['parallelization']}; a poster posts {m['poster_workers']} beneficiaries at a time and works "
        f"{m['poster_ms']:.0f} ms + {m['poster_ms_per_10_records']:.0f} ms per 10 records besides DynamoDB",
        f"Items (bytes, the adapter's): operation record {s['operation'][1]:,} (depth 1), {s['operation'][2]:,} (2), "
        f"{s['operation'][10]:,} (10); entry {s['entry']}; new buyer's account {s['buyer_account']}; R's account "
        f"{s['r_account']}; CreditQueue item {s['deferred']}; + {s['mark']:.0f} per mark, + {s['part']:.0f} per part",
    ]


def _run_lines(r: dict[str, Any]) -> list[str]:
    per = "n/a" if r["wcu_per_purchase"] is None else \
        f"{r['wcu_per_purchase']:.1f} WCU, {r['rcu_per_purchase']:.1f} RCU"
    dollars = r["dollars_per_million"]
    spent = f"${dollars['total']:,.2f}" if dollars else "n/a"
    lines = [
        f"{r['design']} at {r['rate']:>6,.0f}/s: offered {r['offered']:,}, absorbed {r['absorbed_per_s']:,.0f}/s; "
        f"failed: {_counts(r['failed'])}",
        f"    latency {_ms(r['latency_ms'])}; refused attempts: {_counts(r['attempt_failures'])}; throttled keys: "
        f"{_counts(r['throttled_keys'], _key)}; Lambda concurrency peak {r['lambda_peak']:,}",
        f"    per absorbed purchase (all units of the run): {per}, {spent} per million; hottest key "
        f"{_key(r['hottest_write_key'])} {r['hottest_write_peak']:,.0f} WCU/s, {_key(r['hottest_read_key'])} "
        f"{r['hottest_read_peak']:,.0f} RCU/s (in one second, burst included)",
    ]
    d = r.get("deferred")
    if d is None:
        return [*lines, f"    credits {r['credits']:,}, each posted with its purchase (delay 0)"]
    batch_r, others = d["batch_r"] or {"median": 0, "max": 0}, d["batch_others"] or {"median": 0, "max": 0}
    return [*lines,
            f"    credits made {d['credits_made']:,}, posted {d['credits_posted']:,} (each once, asserted); delay "
            f"{_ms(d['delay_ms'])}; credits per posting: R median {batch_r['median']}, max {batch_r['max']}; "
            f"others median {others['median']}, max {others['max']}",
            f"    {d['shards']} shards; {d['invocations']:,} poster invocations ({d['failed_invocations']:,} failed "
            f"and retried), {d['records_per_invocation']:.0f} records and {d['billed_ms_per_invocation']:.0f} ms each; "
            f"refused posting attempts: {_counts(d['attempt_failures'])}; queue items committed out of sk order: "
            f"{d['sk_inversions']:,}"]


def _depth2_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["Per purchase at depth 2, without retries (B: the postings' share at the batch sizes of each run; "
             "Lambda's GetRecords on a DynamoDB stream is free, and queue items expire by TTL, free):"]
    for r in runs:
        u, d = r["at_depth2"], r["dollars_at_depth2"]
        money = (f"${d['total']:.2f} per million (API ${d['api']:.2f}, Lambda ${d['lambda']:.2f}, DynamoDB "
                 f"${d['dynamodb']:.2f})")
        if r["design"] == "A":
            lines.append(f"  A: {u['wcu']:.0f} WCU, {u['rcu']:.0f} RCU → {money}")
            continue
        lines.append(f"  B at {r['rate']:>6,.0f}/s: {u['own_wcu']:.0f} WCU own + {u['wcu'] - u['own_wcu']:.1f} "
                     f"postings = {u['wcu']:.1f} WCU, {u['rcu']:.2f} RCU (unbatched: {u['unbatched_wcu']:.0f} WCU, "
                     f"{u['unbatched_rcu']:.0f} RCU) → {money}")
    return lines


def report(result: dict[str, Any]) -> list[str]:
    lines = limits_lines(result)
    req = result["requests"]
    lines.append("DynamoDB requests on a purchase's own path: " + "; ".join(
        f"{k.replace('/', ' at depth ')}: {sum(v.values())} ({_counts(v)})" for k, v in req.items()))
    runs = result["runs"]
    lines += [line for r in runs for line in _run_lines(r)]
    first_a = next(r for r in runs if r["design"] == "A")
    lines += [*_depth2_lines([first_a, *(r for r in runs if r["design"] == "B")])]
    return lines + _needed_lines(result) + _free_lines(result["free_cancellations"])


def _free_lines(free: list[dict[str, Any]]) -> list[str]:
    a, b = free
    return [
        f"If cancelled transactions consumed nothing ({a['seconds']:g} s each): A at {a['rate']:,.0f}/s absorbs "
        f"{a['absorbed_per_s']:,.0f}/s, failed: {_counts(a['failed'])}; B at {b['rate']:,.0f}/s (programme cached): "
        f"failed: {_counts(b['failed'])}, delay {_ms(b['deferred']['delay_ms'])}, hottest key "
        f"{_key(b['hottest_write_key'])} {b['hottest_write_peak']:,.0f} WCU/s, throttled keys: "
        f"{_counts(b['throttled_keys'], _key)}",
    ]


def _needed_lines(result: dict[str, Any]) -> list[str]:
    n, m, stage = result["needed"], result["limits"], result["template_stage"]
    refusals = ", ".join(f"{count:,} at {rate}/s" for rate, count in result["template_refusals"].items())
    quota = "is then met exactly, with no headroom" if n["stage_rate"] >= m["account_rate"] else "is not reached"
    return [
        f"Needed for {n['rate']:,.0f}/s with 0 failures:",
        f"  the way in: today's stage throttle ({stage[0]:,.0f} rps, burst {stage[1]:,.0f}) refuses {refusals}; "
        f"StageRateLimit={n['stage_rate']:,.0f} and StageBurstLimit={n['stage_burst']:,.0f} refuse none (the "
        f"arrivals' largest backlog at that rate: {n['min_burst']:,}); the account quota ({m['account_rate']:,.0f} "
        f"rps) {quota}",
        f"  the programme item: every purchase reads it (strongly, in its first BatchGetItem), so its key's "
        f"{m['partition_rcu']:,.0f} RCU/s cap both designs at {m['partition_rcu']:,.0f} purchases/s; with the "
        f"programme kept {n['program_cache_s']:.0f} s per Lambda container:",
        *_run_lines(n["run"]),
        f"  SPREAD ≥ {n['spread']}: the smallest at which none of R's queue keys is ever throttled by that run's "
        f"writes ({n['rate']:,.0f} credits/s to R × {n['deferred_wcu']:.0f} WCU, over keys of "
        f"{m['partition_wcu']:,.0f} WCU/s); {m['spread']} used",
        f"  Lambda: concurrency peak {n['run']['lambda_peak']:,} of {m['lambda_concurrency']:,} (purchases and "
        f"posters together)",
    ]
