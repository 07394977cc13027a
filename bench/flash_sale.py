"""Flash sale: one subtree at 100 / 1,000 / 10,000 purchases/s, through a model of DynamoDB's limits.

Every purchase is made in one subtree whose root R every purchase credits: the buyers are R's referrals
(depth 1: R credited at level 1) or their referrals (depth 2: their referrer at level 1, R at level 2), every
buyer a different member, so R is the one hot member. A discrete-event simulation (``heapq``, a seeded
``random.Random``: the same figures on every run) drives two designs through the same arrivals:

- A, "today" (entries keyed by member and ``seq``, no LSI): ``BatchGetItem`` (buyer, buyer's account,
  programme) + ``BatchGetItem`` (the ancestors' accounts) + ``TransactWriteItems`` (operation record; per
  credited member its account, conditioned on ``seq``, and its entry);
- B, "deferred", as built (``ledger.deferred``, ``DeferredPoster``): ``BatchGetItem`` (buyer, account, and the
  programme once a second per Lambda container) + ``TransactWriteItems`` (operation record, the buyer's account
  and entry, one CreditQueue item per referrer, keyed ``<referrer>#<lane>`` with
  ``lane = crc32(order_id) % CreditSpread``); a poster Lambda on the CreditQueue stream takes a batch's
  referrers one after another: per referrer one ``BatchGetItem`` of the account, one ``TransactWriteItems``
  (the account, its marks moved to the batch's stream positions, and one entry per group of postings), then
  ``BatchWriteItem`` deletes of the applied queue items, 25 to a request. A referrer still contended after the
  retries is reported failed and the stream delivers its records again; the marks make it post nothing twice.

The model (every figure is a field of ``Limits``, printed by ``report``): a token bucket per partition key
(1,000 WCU/s, 3,000 RCU/s, one second of burst); a transaction is cancelled if another one in flight holds one
of its accounts (TransactionConflict) or an account changed since it was read (ConditionalCheckFailed), and
both are retried as ``RetryPolicy`` retries (re-read, full-jitter backoff, 8 tries, 4 s, then 503 busy); a
throttled transaction is cancelled too (no SDK retry), a throttled read or batch write is retried by the SDK
(botocore's standard mode: one retry after rand × 1 s) and keys a ``BatchGetItem`` or ``BatchWriteItem`` leaves
unprocessed are sent again at once, twice, as the adapter does; the way in is API Gateway's stage and account
throttles and Lambda's account concurrency (a refusal is a 429). Items are the adapter's own (``account_item``,
``entry_item``, the operation record) with what design B adds to them, sized with ``bench.sizes``; prices are
``bench.cost``'s. Latencies are assumptions (no AWS account here).
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
from functools import cache
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
ADAPTER_CALLS = 3  # Dynamo.batch_get / delete_many: the first call and two more for unprocessed keys
DELETES_PER_REQUEST = 25  # DynamoLedgerStore.forget: BatchWriteItem's limit
DRAIN_S = 120.0  # after the last arrival, how long the posters may take to post what is queued
POSTER_THROTTLED_RETRY_S = 0.1  # the event source mapping's wait when Lambda refuses an invocation
DEPLOYED_SPREAD = 32  # the CreditSpread a 10,000/s flash sale is deployed with (the template's description)
TOP_SECONDS = 8.0  # how long the 10,000/s runs last (the lower rates: 20 s)
RAISED_CONCURRENCY = 2_000  # the account's Lambda concurrency in the run that checks what 10,000/s needs
R = "R"  # the subtree's root (the hot referrer)

# What design B's template sets (PosterReadsCreditQueue, CreditSpread), used when this template has no such
# resource yet; once it has, its values are read (``_template_poster``).
BUILT_POSTER = {"BatchSize": 1000, "MaximumBatchingWindowInSeconds": 1, "ParallelizationFactor": 10,
                "MaximumRetryAttempts": -1, "CreditSpread": 8}


def _template() -> str:
    return (ROOT / "infra" / "template.yaml").read_text()


def _parameter(text: str, name: str) -> str | None:
    found = re.search(rf"\n  {name}:\n(?:    .*\n)*?    Default: (\S+)", text)
    return found.group(1) if found else None


def _template_throttle() -> tuple[float, float]:
    """The HTTP API stage's default route throttle in the template: a number or a ``!Ref`` to a parameter."""
    text = _template()
    block = text[text.index("DefaultRouteSettings:"):]

    def value(name: str) -> float:
        found = re.search(rf"{name}:\s*(.+)", block)
        raw = found.group(1).strip() if found else "nan"
        ref = re.fullmatch(r"!Ref (\w+)", raw)
        return float((_parameter(text, ref.group(1)) or "nan") if ref else raw)

    return value("ThrottlingRateLimit"), value("ThrottlingBurstLimit")


def _template_poster() -> dict[str, float]:
    """The poster's event source mapping and the default CreditSpread, from the template (or ``BUILT_POSTER``)."""
    text = _template()
    figures: dict[str, float] = {}
    at = text.find("\n  PosterReadsCreditQueue:\n")
    end = re.compile(r"\n  \S").search(text, at + 1) if at >= 0 else None
    block = text[at:end.start() if end else len(text)] if at >= 0 else ""
    for name, built in BUILT_POSTER.items():
        found = re.search(rf"\n      {name}: (\S+)", block) if name != "CreditSpread" else None
        raw = found.group(1) if found else _parameter(text, name) if name == "CreditSpread" else None
        figures[name] = float(raw) if raw else float(built)
    return figures


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
POSTER = _template_poster()


@dataclass(frozen=True)
class Limits:
    """Every limit and assumption of the model."""

    partition_wcu: float = PARTITION_WCU  # per partition key, per second
    partition_rcu: float = PARTITION_RCU  # strongly consistent
    burst_s: float = 1.0  # a key's bucket keeps at most this many seconds of unused capacity
    read_ms: float = 5.0  # GetItem / BatchGetItem, + uniform(0, read_jitter_ms)
    read_jitter_ms: float = 2.0
    batch_write_ms: float = 8.0  # BatchWriteItem of up to 25 deletes, + uniform(0, read_jitter_ms)
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
    batch_size: int = int(POSTER["BatchSize"])
    window_s: float = POSTER["MaximumBatchingWindowInSeconds"]
    parallelization: int = int(POSTER["ParallelizationFactor"])
    max_retries: int = int(POSTER["MaximumRetryAttempts"])  # then the rest of the batch goes to the DLQ (-1: never)
    poster_ms: float = 20.0  # a poster invocation's own work: poster_ms + poster_ms_per_10_records per 10 records
    poster_ms_per_10_records: float = 1.0
    spread: int = int(POSTER["CreditSpread"])  # lanes of each referrer's queue
    program_cache_s: float = 1.0  # PROGRAM_CACHE_SECONDS: how long a purchase Lambda keeps the programme it read
    depth2_share: float = 0.5  # purchases made at depth 2 (the rest at depth 1)
    referrers: int = 1_000  # R's referrals whose own referrals buy (the level-1 referrers of depth-2 buyers)
    r_lots: int = 24  # R's pending lots (a referrer busy all day; hot-referrer.md)
    other_lots: int = 1


# --- items --------------------------------------------------------------------------------------------

ORDER = "POS-2026-0123456"  # a flash sale's order ids: POS-2026-<7 digits>
STREAM_SEQUENCE = "4421584500000000017450439091"  # a DynamoDB Streams SequenceNumber (what a mark keeps)
REQUESTED_BY = "3n4b5c6d7e8f9g0h1i2j3k4l5m"  # a till's app client id
MAX_SPREAD = 256  # the template's CreditSpread MaxValue


def _member(i: int) -> str:
    return f"{i:08x}-2b7d-4c8e-9a3f-1d2e3f4a5b6c"  # a Cognito sub's shape


def _operation_bytes(depth: int, deferred: bool) -> int:
    """The purchase's operation record at ``depth``: ``deferred``, as ``PurchaseService.record`` builds it now (its
    answer rebuilt from its state, so not stored; each credit's ``status``; the ``lane`` and ``rule_version``);
    else as the synchronous design built it (the answer stored beside the state, no status)."""
    from loyalty.members.domain import ReferralPath
    from loyalty.program.domain import DEFAULT_PROGRAM
    from loyalty.purchases.domain import PurchaseRecord, PurchaseRecorded, credit_purchase, purchase_key
    from loyalty.purchases.usecases import PURCHASES
    from loyalty.shared.clock import to_rfc3339
    from loyalty.shared.dynamo import operation_item, to_item
    from loyalty.shared.once import Operation, ResultCodec, fingerprint

    rules = DEFAULT_PROGRAM if depth <= len(DEFAULT_PROGRAM.referral_rates_bps) else \
        replace(DEFAULT_PROGRAM, referral_rates_bps=tuple(TEN_LEVELS))
    credits = tuple(credit_purchase(rules, BUYER, ReferralPath(tuple(_member(i) for i in range(depth))),
                                    AMOUNT_MINOR, NOW))
    at = to_rfc3339(NOW)
    answer = PurchaseRecorded(ORDER, BUYER, AMOUNT_MINOR, rules.currency, at, rules.version, credits)
    if deferred:
        result = PURCHASES.dump(answer)
        state = PurchaseRecord(ORDER, BUYER, AMOUNT_MINOR, rules.currency, 0, credits, (), at, at, REQUESTED_BY,
                               DEPLOYED_SPREAD - 1, rules.version).state()
    else:
        result = ResultCodec(PurchaseRecorded).dump(answer)
        state = PurchaseRecord(ORDER, BUYER, AMOUNT_MINOR, rules.currency, 0, credits, (), at, at, REQUESTED_BY).state()
        for listed in (result["credits"], state["credits"]):
            for credit in listed:
                credit.pop("status", None)
    request = {"member_id": BUYER, "amount_minor": AMOUNT_MINOR, "currency": rules.currency, "occurred_at": None,
               "items": None}
    op = Operation(purchase_key(ORDER), fingerprint(request), 201, result, at, state)
    return item_size(to_item(operation_item(op)))


def deferred_item(holder: str, lane: int, points: int, level: int) -> dict[str, Any]:
    """A CreditQueue item (``ledger.dynamodb.deferred_item``), in the low-level typed form."""
    from loyalty.program.domain import DEFAULT_PROGRAM
    from loyalty.shared.clock import start_of_hour, to_rfc3339

    available = to_rfc3339(start_of_hour(NOW + timedelta(days=DEFAULT_PROGRAM.hold_days)))
    return {
        "pk": {"S": f"{holder}#{lane}"}, "sk": {"S": f"{to_rfc3339(NOW)}#purchase/{ORDER}"},
        "asset": {"S": "points"}, "amount": {"N": str(points)}, "bucket": {"S": "pending"},
        "kind": {"S": "referral"}, "source_type": {"S": "purchase"}, "source_id": {"S": ORDER},
        "level": {"N": str(level)}, "rule_version": {"N": "1"}, "available_at": {"S": available},
    }


def marks_bytes(lanes: int) -> int:
    """An account's ``marks``: ``{"<lane>": <stream sequence number>}`` for ``lanes`` lanes (none: no attribute)."""
    marks = {str(lane): {"N": STREAM_SEQUENCE} for lane in range(lanes)}
    return item_size({"marks": {"M": marks}}) if lanes else 0


def batch_entry_bytes(parts: int) -> int:
    """A group of ``parts`` postings as the poster writes it: one entry (source ``batch``/``<lane>:<position>``)
    listing ``parts`` as ``[["purchase/<order_id>", points], …]``; a group of one is the purchase's own entry."""
    from loyalty.ledger.accounts import Account, Balance
    from loyalty.ledger.assets import Bucket, EntryKind
    from loyalty.ledger.dynamodb import entry_item
    from loyalty.ledger.entries import Source
    from loyalty.ledger.posting import Posting, post
    from loyalty.shared.clock import to_rfc3339
    from loyalty.shared.dynamo import to_item

    account = Account(MEMBER, seq=40_000, head_hash="ab" * 32, balances={"points": Balance({"available": 1000})})
    line = Posting(MEMBER, "points", 100 * parts, Bucket.PENDING, EntryKind.REFERRAL,
                   Source("batch", f"{DEPLOYED_SPREAD - 1}:{STREAM_SEQUENCE}"), level=1, rule_version=1,
                   available_at=to_rfc3339((NOW + timedelta(days=7)).replace(minute=0)))
    item = to_item(entry_item(post(account, [line], NOW).entries[0]))
    item["parts"] = {"L": [{"L": [{"S": f"purchase/{ORDER}"}, {"N": "100"}]} for _ in range(parts)]}
    return item_size(item)


@dataclass(frozen=True)
class Shapes:
    """Sizes in bytes of the items a purchase and a posting write."""

    operation_a: tuple[int, ...]  # by depth 0..10: today's record
    operation_b: tuple[int, ...]  # with each credit's status and the lane
    entry: int  # an entry (a group of one posting, too)
    buyer_account: int  # a new buyer's account after its first purchase (one lot)
    r_account: int
    other_account: int
    deferred: int  # a CreditQueue item
    marks: tuple[int, ...]  # an account's marks attribute, by number of lanes
    batch_entry: int  # a group's entry with no parts
    part: float  # one part of a group's entry

    @classmethod
    def build(cls, limits: Limits) -> Shapes:
        return cls(
            operation_a=tuple(_operation_bytes(d, False) for d in range(11)),
            operation_b=tuple(_operation_bytes(d, True) for d in range(11)), entry=entry_bytes()["referral"],
            buyer_account=account_bytes(1), r_account=account_bytes(limits.r_lots),
            other_account=account_bytes(limits.other_lots), deferred=item_size(deferred_item(MEMBER, 31, 15, 1)),
            marks=tuple(marks_bytes(n) for n in range(MAX_SPREAD + 1)), batch_entry=batch_entry_bytes(0),
            part=(batch_entry_bytes(100) - batch_entry_bytes(0)) / 100,
        )


class Plan:
    """The capacity units of every item a purchase or a posting reads and writes."""

    def __init__(self, shapes: Shapes) -> None:
        self.s = shapes
        self.entry = write_units(shapes.entry, transactional=True)
        self.deferred = write_units(shapes.deferred, transactional=True)
        self.delete = write_units(shapes.deferred)  # BatchWriteItem: not transactional
        self._groups: dict[int, float] = {}

    def account_bytes(self, member: str, lanes: int = 0) -> int:
        return (self.s.r_account if member == R else self.s.other_account) + self.s.marks[lanes]

    def account_rcu(self, member: str, lanes: int = 0) -> float:
        return read_units(self.account_bytes(member, lanes))

    def account_wcu(self, member: str, lanes: int = 0) -> float:
        return write_units(self.account_bytes(member, lanes), transactional=True)

    def group_wcu(self, postings: int) -> float:
        """A group's entry: a group of one is a normal entry, a larger one lists its parts."""
        found = self._groups.get(postings)
        if found is None:
            size = self.s.entry if postings == 1 else math.ceil(self.s.batch_entry + postings * self.s.part)
            found = self._groups[postings] = write_units(size, transactional=True)
        return found

    def checkout(self, with_program: bool) -> list[tuple[str | None, float]]:
        """The first BatchGetItem: the buyer's member item and account (one purchase's own keys: ``None``), the
        programme (one item every purchase reads, unless its container keeps it)."""
        return [(None, 1.0), (None, 1.0), *([("P#points", 1.0)] if with_program else [])]

    def own_a(self, depth: int) -> float:
        """Design A: the operation record, the buyer's account and entry."""
        op = write_units(self.s.operation_a[depth], transactional=True)
        return op + write_units(self.s.buyer_account, transactional=True) + self.entry

    def own_b(self, depth: int) -> float:
        """Design B: the operation record, the buyer's account and entry (the queue items are counted apart)."""
        op = write_units(self.s.operation_b[depth], transactional=True)
        return op + write_units(self.s.buyer_account, transactional=True) + self.entry


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
    """Units written and read, and requests made, by one caller."""

    w: float = 0.0
    r: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)

    def add(self, other: Meter) -> None:
        self.w += other.w
        self.r += other.r
        self.calls.update(other.calls)


Keys = Sequence[tuple[str | None, float]]


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
        self.lane_refusals: Counter[str] = Counter()  # refusals of CreditQueue keys, by request

    def _bucket(self, table: dict[str, Bucket], key: str, rate: float) -> Bucket:
        found = table.get(key)
        if found is None:
            found = table[key] = Bucket(rate, rate * self.l.burst_s, self.loop.now)
        return found

    def _latency(self, ms: float, jitter_ms: float, items: int = 0) -> float:
        return (ms + self.loop.rng.random() * jitter_ms + items / 10 * self.l.tx_ms_per_10_items) / 1000

    def batch(self, keys: Keys, meter: Meter, op: str = "BatchGetItem") -> Read:
        """A ``BatchGetItem`` (or, with ``op="BatchWriteItem"``, up to 25 deletes) as the adapter makes it, keys
        left unprocessed sent again at once, twice; False if some are still left (the adapter's Contention)."""
        pending = keys
        for _ in range(ADAPTER_CALLS):
            left = yield from self._call(pending, meter, op)
            if left is None:
                return False
            if not left:
                return True
            pending = left
        return False

    def _call(self, keys: Keys, meter: Meter, op: str) -> Generator[float, None, list[tuple[str | None, float]] | None]:
        """One SDK call: the keys left unprocessed, or None if every key was throttled on every SDK try."""
        write = op == "BatchWriteItem"
        table, rate = (self.writes, self.l.partition_wcu) if write else (self.reads, self.l.partition_rcu)
        for attempt in range(self.l.sdk_attempts):
            self.calls[op] += 1
            meter.calls[op] += 1
            left: list[tuple[str | None, float]] = []
            for key, units in keys:
                if key is None or self._bucket(table, key, rate).take(self.loop.now, units):
                    if write:
                        meter.w += units
                    else:
                        meter.r += units
                else:
                    left.append((key, units))
                    self.throttled[key] += 1
                    if key.startswith("Q#"):
                        self.lane_refusals[op] += 1
            yield self._latency(self.l.batch_write_ms if write else self.l.read_ms, self.l.read_jitter_ms)
            if len(left) < len(keys):
                return left
            if attempt + 1 < self.l.sdk_attempts:
                yield self.loop.rng.random() * self.l.sdk_throttle_base_s * 2**attempt
        return None

    def transact(self, items: dict[str | None, float], seen: dict[str, int], count: int, meter: Meter) -> Attempt:
        """``TransactWriteItems``: units by key; ``seen`` the accounts it puts and the ``seq`` each was read at."""
        self.calls["TransactWriteItems"] += 1
        meter.calls["TransactWriteItems"] += 1
        now = self.loop.now
        refused = [k for k, u in items.items()
                   if k is not None and not self._bucket(self.writes, k, self.l.partition_wcu).ready(now, u)]
        if refused:
            self.throttled.update(refused)
            if any(k.startswith("Q#") for k in refused):
                self.lane_refusals["TransactWriteItems"] += 1
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

    def hottest(self, table: dict[str, Bucket], prefix: str = "") -> tuple[str, float]:
        keys = [k for k in table if k.startswith(prefix)]
        if not keys:
            return "", 0.0
        key = max(keys, key=lambda k: table[k].peak)
        return key, table[key].peak


class Container:
    __slots__ = ("program_until",)

    def __init__(self) -> None:
        self.program_until = -1.0


class Lambdas:
    """The account's concurrent executions, shared by the purchase and poster functions."""

    def __init__(self, limit: int) -> None:
        self.limit, self.busy, self.peak = limit, 0, 0
        self.by: Counter[str] = Counter()  # busy per function
        self.peaks: Counter[str] = Counter()

    def acquire(self, idle: list[Container], function: str) -> Container | None:
        if self.busy >= self.limit:
            return None
        self.busy += 1
        self.by[function] += 1
        self.peak = max(self.peak, self.busy)
        self.peaks[function] = max(self.peaks[function], self.by[function])
        return idle.pop() if idle else Container()

    def release(self, idle: list[Container], container: Container, function: str) -> None:
        self.busy -= 1
        self.by[function] -= 1
        idle.append(container)


# --- purchases ---------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Purchase:
    arrival: float
    order: str
    ancestors: tuple[str, ...]  # nearest first; R last
    points: int  # the buyer's


def referral_points(points: int, level: int) -> int:
    return points * _rates()[level - 1] // 10_000


@cache
def _rates() -> tuple[int, ...]:
    from loyalty.program.domain import DEFAULT_PROGRAM

    built = tuple(DEFAULT_PROGRAM.referral_rates_bps)
    return built + tuple(TEN_LEVELS[len(built):])


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
        self.program_reads = 0
        self.credits = 0  # referral credits of absorbed purchases
        self.r_puts: list[tuple[float, int]] = []  # design B: when R's queue items were committed, crc32(order_id)
        self.r_deletes: list[tuple[float, int]] = []  # and deleted
        self.retry = _retry_policy()
        self.poster = Poster(self, queue_shards(rate, limits, plan)) if design == "B" else None

    def run(self) -> dict[str, Any]:
        if self.times:
            self.loop.at(self.times[0], self._arrive, 0)
        self.loop.run(self.seconds + DRAIN_S)  # a credit posted twice raises (Poster._posted)
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
        container = self.lambdas.acquire(self.containers, "purchase")
        if container is None:
            self.outcomes["429 Lambda concurrency"] += 1
            return
        self.invoked += 1
        self.loop.spawn(self.process(purchase, container), lambda failure: self._done(purchase, container, failure))

    def _done(self, purchase: Purchase, container: Container, failure: str | None) -> None:
        self.lambdas.release(self.containers, container, "purchase")
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
            yield from self.db.batch([(None, 1.0)], self.path, "GetItem")
        return failure

    def _checkout(self, container: Container) -> Read:
        fresh = container.program_until > self.loop.now
        self.program_reads += not fresh
        served = yield from self.db.batch(self.plan.checkout(not fresh), self.path)
        if served and not fresh and self.l.program_cache_s:
            container.program_until = self.loop.now + self.l.program_cache_s
        return served

    def _attempt_a(self, p: Purchase, container: Container) -> Attempt:
        if not (yield from self._checkout(container)):
            return THROTTLED
        accounts = [f"A#{a}" for a in p.ancestors]
        seen = {a: self.db.seq.get(a, 0) for a in accounts}
        if not (yield from self.db.batch([(f"A#{a}", self.plan.account_rcu(a)) for a in p.ancestors], self.path)):
            return THROTTLED
        items: dict[str | None, float] = {None: self.plan.own_a(len(p.ancestors))}
        for a in p.ancestors:
            items[f"A#{a}"] = self.plan.account_wcu(a)
            items[f"L#{a}"] = self.plan.entry
        return (yield from self.db.transact(items, seen, 3 + 2 * len(p.ancestors), self.path))

    def _attempt_b(self, p: Purchase, container: Container) -> Attempt:
        if not (yield from self._checkout(container)):
            return THROTTLED
        crc = zlib.crc32(p.order.encode())
        lane = crc % self.l.spread
        items: dict[str | None, float] = {None: self.plan.own_b(len(p.ancestors))}
        for a in p.ancestors:
            items[f"Q#{a}#{lane}"] = self.plan.deferred
        failure = yield from self.db.transact(items, {}, 3 + len(p.ancestors), self.path)
        if failure is None and self.poster is not None:
            self.r_puts.append((self.loop.now, crc))
            self.poster.enqueue(p, lane, crc)
        return failure

    def result(self) -> dict[str, Any]:
        offered = len(self.times)
        absorbed = self.outcomes["absorbed"]
        w = self.path.w + (self.poster.meter.w if self.poster else 0.0)
        r = self.path.r + (self.poster.meter.r if self.poster else 0.0)
        write_key, write_peak = self.db.hottest(self.db.writes)
        read_key, read_peak = self.db.hottest(self.db.reads)
        lane_key, lane_peak = self.db.hottest(self.db.writes, f"Q#{R}#")
        dollars = self._dollars(w, r)
        return {
            "design": self.design, "rate": self.rate, "seconds": self.seconds, "offered": offered,
            "spread": self.l.spread if self.design == "B" else None, "program_cache_s": self.l.program_cache_s,
            "absorbed": absorbed, "absorbed_per_s": absorbed / self.seconds,
            "failed": {k: v for k, v in sorted(self.outcomes.items()) if k != "absorbed"},
            "attempt_failures": dict(self.failures),
            "latency_ms": percentiles(self.latency, 1000),
            "wcu_per_purchase": w / absorbed if absorbed else None,
            "rcu_per_purchase": r / absorbed if absorbed else None,
            "dollars_per_million": {k: v / absorbed * 1e6 for k, v in dollars.items()} if absorbed else None,
            "hottest_write_key": write_key, "hottest_write_peak": write_peak,
            "hottest_read_key": read_key, "hottest_read_peak": read_peak,
            "hottest_lane_key": lane_key, "hottest_lane_peak": lane_peak,
            "lambda_peak": self.lambdas.peak, "lambda_peaks": dict(self.lambdas.peaks), "invoked": self.invoked,
            "credits": self.credits,
            "program_reads": self.program_reads,
            "throttled_keys": dict(self.db.throttled.most_common(3)),
            "throttled_lane_keys": sum(1 for k in self.db.throttled if k.startswith("Q#")),
            "lane_refusals": dict(self.db.lane_refusals),
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
    """The CreditQueue stream's shards: one per partition, max(1, ceil(peak WCU/s / 1,000)), the deletes
    included (the same table: every queue item is written once and deleted once)."""
    peak_wcu = rate * (1 + limits.depth2_share) * (plan.deferred + plan.delete)
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
    lane: int
    crc: int  # crc32(order_id)
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
    head: int = -1  # the first record of the last batch that failed, and how often it has been retried
    retries: int = 0


@dataclass(slots=True)
class Invocation:
    slot: Slot
    batch: list[Record]
    container: Container
    started: float


class Poster:
    """The CreditQueue stream, its event source mapping, and the poster function (design B)."""

    def __init__(self, flash: Flash, shards: int) -> None:
        self.f, self.l, self.shards = flash, flash.l, shards
        self.slots: dict[str, Slot] = {}
        self.shard_ready = [0.0] * shards
        self.seqno = 0
        self.posted = bytearray()  # per credit made: 1 once posted
        self.points = [0, 0]  # made, posted
        self.marks: dict[str, dict[int, int]] = {}  # per holder, per lane: the last stream position applied
        self.delays: list[float] = []
        self.batches: dict[bool, list[int]] = {True: [], False: []}  # per posting transaction, by "is R"
        self.spent = {True: Meter(), False: Meter()}  # on R's visits, on the other referrers' (retries included)
        self.meter = Meter()
        self.failures: Counter[str] = Counter()
        self.idle: list[Container] = []
        self.invocations = self.failed_invocations = self.records_in = self.redelivered = 0
        self.dead_lettered = 0
        self.delete_wcu = 0.0
        self.idle_visits = 0  # a holder whose records were all applied already (a redelivered batch)
        self.billed_s = 0.0

    # the stream and the event source mapping

    def enqueue(self, p: Purchase, lane: int, crc: int) -> None:
        now = self.f.loop.now
        for level, beneficiary in enumerate(p.ancestors, start=1):
            qkey = f"{beneficiary}#{lane}"
            shard = zlib.crc32(qkey.encode()) % self.shards
            ready = max(now + self.f.loop.rng.uniform(*self.l.stream_delay_s), self.shard_ready[shard])
            self.shard_ready[shard] = ready
            points = referral_points(p.points, level)
            self.points[0] += points
            slot = self._slot(qkey, shard)
            slot.records.append(Record(len(self.posted), ready, self.seqno, qkey, lane, crc, beneficiary, level,
                                       points, now, len(p.ancestors)))
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
        container = self.f.lambdas.acquire(self.idle, "poster")
        if container is None:  # Lambda refused the invocation: the event source mapping tries again shortly
            slot.records.extendleft(reversed(batch))
            slot.due, slot.generation = now + POSTER_THROTTLED_RETRY_S, slot.generation + 1
            self.f.loop.at(slot.due, self._fire, (slot, slot.generation))
            return
        slot.busy = True
        invocation = Invocation(slot, batch, container, now)
        self.f.loop.spawn(self._handle(batch), lambda failed: self._finished(invocation, failed))

    def _finished(self, invocation: Invocation, failed: list[Record]) -> None:
        """ReportBatchItemFailures: the mapping checkpoints before the first failed record and delivers the batch
        again from there; after MaximumRetryAttempts (unless it is -1: without limit), the rest of the batch goes to
        the dead-letter queue."""
        self.f.lambdas.release(self.idle, invocation.container, "poster")
        self.invocations += 1
        self.records_in += len(invocation.batch)
        self.billed_s += self.f.loop.now - invocation.started
        slot = invocation.slot
        slot.busy = False
        if failed:
            self.failed_invocations += 1
            first = min(r.seqno for r in failed)
            again = [r for r in invocation.batch if r.seqno >= first]
            slot.retries = slot.retries + 1 if slot.head == first else 1
            slot.head = first
            if 0 <= self.l.max_retries < slot.retries:
                self.dead_lettered += sum(not self.posted[r.credit] for r in again)
            else:
                self.redelivered += len(again)
                slot.records.extendleft(reversed(again))
        self._poke(slot)

    # the poster function (DeferredPoster.apply)

    def _handle(self, batch: list[Record]) -> Generator[float, None, list[Record]]:
        """Holder after holder, in the order they first appear; the records of holders that failed."""
        yield (self.l.poster_ms + len(batch) / 10 * self.l.poster_ms_per_10_records) / 1000
        by_holder: dict[str, list[Record]] = {}
        for record in batch:
            by_holder.setdefault(record.beneficiary, []).append(record)
        failed: list[Record] = []
        for holder, records in by_holder.items():
            if not (yield from self._post_holder(holder, records)):
                failed.extend(records)
        return failed

    def _post_holder(self, holder: str, records: list[Record]) -> Generator[float, None, bool]:
        meter, posted = Meter(), list[Record]()
        failure = yield from self.f.retried(lambda: self._apply(holder, records, meter, posted), self.failures)
        if failure is None:
            failure = yield from self.f.retried(lambda: self._forget(records, meter), self.failures)
        self.meter.add(meter)
        self.spent[holder == R].add(meter)
        self.idle_visits += not posted
        return failure is None

    def _apply(self, holder: str, records: list[Record], meter: Meter, posted: list[Record]) -> Attempt:
        """One BatchGetItem of the account, and (unless every record is at or before its lane's mark) one
        transaction: the account with the new marks, one entry per group (here: per level)."""
        account = f"A#{holder}"
        seen = {account: self.f.db.seq.get(account, 0)}
        marks = self.marks.setdefault(holder, {})
        if not (yield from self.f.db.batch([(account, self.f.plan.account_rcu(holder, len(marks)))], meter)):
            return THROTTLED
        todo = [r for r in records if r.seqno > marks.get(r.lane, -1)]
        if not todo:
            return None  # delivered again: applied already
        levels = Counter(r.level for r in todo)
        lanes = len(marks.keys() | {r.lane for r in todo})
        items: dict[str | None, float] = {
            account: self.f.plan.account_wcu(holder, lanes),
            f"L#{holder}": sum(self.f.plan.group_wcu(n) for n in levels.values()),
        }
        failure = yield from self.f.db.transact(items, seen, 1 + len(levels), meter)
        if failure is None:
            self._posted(todo, marks)
            posted.extend(todo)
        return failure

    def _forget(self, records: list[Record], meter: Meter) -> Attempt:
        """DynamoLedgerStore.forget: every delivered record of the holder, 25 deletes to a BatchWriteItem."""
        for start in range(0, len(records), DELETES_PER_REQUEST):
            chunk = records[start:start + DELETES_PER_REQUEST]
            before = meter.w
            served = yield from self.f.db.batch([(f"Q#{r.qkey}", self.f.plan.delete) for r in chunk], meter,
                                                "BatchWriteItem")
            self.delete_wcu += meter.w - before
            if not served:
                return THROTTLED
            if chunk[0].beneficiary == R:
                self.f.r_deletes.extend((self.f.loop.now, r.crc) for r in chunk)
        return None

    def _posted(self, todo: list[Record], marks: dict[int, int]) -> None:
        now = self.f.loop.now
        for record in todo:
            if self.posted[record.credit]:
                raise AssertionError(f"credit {record.credit} posted twice")
            self.posted[record.credit] = 1
            self.points[1] += record.points
            marks[record.lane] = record.seqno
            self.delays.append(now - record.committed)
        self.batches[todo[0].beneficiary == R].append(len(todo))

    def _per_credit(self, is_r: bool) -> dict[str, float]:
        """What posting one credit cost, over the run: everything spent on the holder's visits (reads,
        transactions, deletes, retries, batches delivered again) over the credits posted to them."""
        spent, credits = self.spent[is_r], max(1, sum(self.batches[is_r]))
        return {"wcu": spent.w / credits, "rcu": spent.r / credits, "requests": sum(spent.calls.values()) / credits}

    def result(self) -> dict[str, Any]:
        def sizes(values: list[int]) -> dict[str, float] | None:
            return {"median": sorted(values)[len(values) // 2], "max": max(values)} if values else None

        return {
            "shards": self.shards, "credits_made": len(self.posted), "credits_posted": self.posted.count(1),
            "points_made": self.points[0], "points_posted": self.points[1], "dead_lettered": self.dead_lettered,
            "delay_ms": percentiles(self.delays, 1000), "batch_r": sizes(self.batches[True]),
            "batch_others": sizes(self.batches[False]), "postings": sum(map(len, self.batches.values())),
            "invocations": self.invocations, "failed_invocations": self.failed_invocations,
            "redelivered": self.redelivered, "idle_visits": self.idle_visits,
            "records_per_invocation": self.records_in / self.invocations if self.invocations else 0.0,
            "billed_ms_per_invocation": self.billed_s / self.invocations * 1000 if self.invocations else 0.0,
            "attempt_failures": dict(self.failures), "wcu": self.meter.w, "rcu": self.meter.r,
            "requests": dict(self.meter.calls), "delete_wcu": self.delete_wcu,
            "per_credit": {name: self._per_credit(is_r) for name, is_r in (("R", True), ("others", False))},
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


def spread_needed(puts: list[tuple[float, int]], deletes: list[tuple[float, int]], seconds: float, plan: Plan,
                  limits: Limits) -> int:
    """The smallest SPREAD at which none of R's lanes is throttled, replaying a run's writes to R's
    queue at their times, each on lane ``crc32(order_id) % SPREAD``: the purchases' puts (a transaction needs its
    units there) and, unless ``deletes`` is empty, the poster's deletes. A sale lasts longer than the run: no
    lane may take more than its 1,000 WCU/s over the run either (its burst would run out)."""
    events = sorted([(t, crc, plan.deferred) for t, crc in puts] + [(t, crc, plan.delete) for t, crc in deletes])

    def throttles(spread: int) -> bool:
        totals = [0.0] * spread
        for _, crc, units in events:
            totals[crc % spread] += units
        if max(totals) > limits.partition_wcu * seconds:
            return True
        buckets = [Bucket(limits.partition_wcu, limits.partition_wcu * limits.burst_s, 0.0) for _ in range(spread)]
        return any(not buckets[crc % spread].take(t, units) for t, crc, units in events)

    spread = max(1, math.ceil(sum(units for _, _, units in events) / (limits.partition_wcu * seconds)))
    while throttles(spread):  # from the lanes the mean load needs, one more at a time
        spread += 1
    return spread


def per_purchase_at_depth2(run: dict[str, Any], plan: Plan) -> dict[str, float]:
    """WCU/RCU/requests of a depth-2 purchase without its own retries: its own requests, and in design B what
    posting its two credits cost in the run (its level-1 referrer's, one of the many; R's), and unbatched (a
    posting, and a delete, per credit)."""
    if run["design"] == "A":
        wcu = plan.own_a(2) + sum(plan.account_wcu(a) + plan.entry for a in ("M", R))
        return {"wcu": wcu, "rcu": sum(u for _, u in plan.checkout(True)) + plan.account_rcu("M") +
                plan.account_rcu(R), "requests": 3}
    own = plan.own_b(2) + 2 * plan.deferred
    checkout = 2 + run["program_reads"] / max(1, run["invoked"])  # the programme: once a second per container
    batched = [run["deferred"]["per_credit"][name] for name in ("others", "R")]
    lanes = run["spread"]  # in time, a referrer's account carries a mark for each lane
    unbatched_w = sum(plan.account_wcu(a, lanes) + plan.entry + plan.delete for a in ("M", R))
    return {"own_wcu": own, "wcu": own + sum(b["wcu"] for b in batched),
            "rcu": checkout + sum(b["rcu"] for b in batched), "own_rcu": checkout,
            "requests": 2 + sum(b["requests"] for b in batched), "r_wcu": batched[1]["wcu"],
            "unbatched_wcu": own + unbatched_w, "unbatched_rcu": checkout + sum(plan.account_rcu(a, lanes)
                                                                             for a in ("M", R)),
            "unbatched_requests": 2 + 2 * 3}


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


def _finish(flash: Flash) -> dict[str, Any]:
    result = flash.run()
    result["at_depth2"] = per_purchase_at_depth2(result, flash.plan)
    result["dollars_at_depth2"] = dollars_at_depth2(result, result["at_depth2"])
    return result


def run(quick: bool = False, seed: int = 7) -> dict[str, Any]:
    """Design A and design B at its default SPREAD and at 32, at each rate (quick: 100 and 1,000/s for 3 s; else
    100, 1,000 and 10,000/s, 20 s but 10,000/s for ``TOP_SECONDS``); B at the top rate without the programme
    cache; what the top rate needs; and how much hangs on the charge for cancelled transactions."""
    rates, seconds = ((100.0, 1_000.0), 3.0) if quick else ((100.0, 1_000.0, 10_000.0), 20.0)
    top = rates[-1]
    lasting = {rate: TOP_SECONDS if rate == top and not quick else seconds for rate in rates}
    plan = Plan(Shapes.build(Limits()))
    burst = min_burst(arrivals(top, seconds, seed), top)
    limits = Limits(stage_rate=top, stage_burst=max(100, math.ceil(burst * 1.5 / 100) * 100))
    today = replace(limits, program_cache_s=0.0)  # design A: today's purchase function reads it every time
    wide = replace(limits, spread=DEPLOYED_SPREAD)
    runs, deployed_top = [], None
    for rate in rates:
        for design, limits_ in (("A", today), ("B", limits), ("B", wide)):
            flash = Flash(design, rate, lasting[rate], limits_, plan, seed)
            runs.append(_finish(flash))
            if limits_ is wide and rate == top:
                deployed_top = flash
    assert deployed_top is not None
    uncached = _finish(Flash("B", top, lasting[top], replace(wide, program_cache_s=0.0), plan, seed))
    spread = spread_needed(deployed_top.r_puts, deployed_top.r_deletes, lasting[top], plan, limits)
    enough = replace(limits, spread=spread, lambda_concurrency=RAISED_CONCURRENCY)
    verified = _finish(Flash("B", top, lasting[top], enough, plan, seed))
    # how much hangs on the assumed charge for cancelled transactions: both again, with them free (half as long)
    free = [Flash(design, rate, lasting[rate] / 2, replace(limits_, cancelled_charge=0.0), plan, seed).run()
            for design, rate, limits_ in (("A", rates[1], today), ("B", top, wide))]
    shapes = {k: v for k, v in asdict(plan.s).items() if k != "marks"}
    return {
        "limits": asdict(limits), "deployed_spread": DEPLOYED_SPREAD, "template_stage": [TEMPLATE_RATE, TEMPLATE_BURST],
        "seconds": lasting, "retry": _retry_figures(),
        "shapes": {**shapes, "marks": {n: plan.s.marks[n] for n in (limits.spread, DEPLOYED_SPREAD)}},
        "runs": runs, "uncached": uncached, "free_cancellations": free,
        "requests": {f"{d}/{depth}": path_requests(d, depth, limits_, plan)
                     for d, limits_ in (("A", today), ("B", limits)) for depth in (1, 2, 10)},
        "template_refusals": {f"{r:.0f}": refused(arrivals(r, lasting[r], seed), TEMPLATE_RATE, TEMPLATE_BURST)
                              for r in rates},
        "needed": {"rate": top, "stage_rate": top, "stage_burst": limits.stage_burst, "min_burst": burst,
                   "spread_puts": spread_needed(deployed_top.r_puts, [], lasting[top], plan, limits),
                   "spread": spread, "deferred_wcu": plan.deferred, "delete_wcu": plan.delete,
                   "lambda_concurrency": RAISED_CONCURRENCY, "run": verified},
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
    lasting = ", ".join(f"{v:g} s at {float(k):,.0f}/s" for k, v in result["seconds"].items())
    marks = ", ".join(f"{v} B at {k} lanes" for k, v in s["marks"].items())
    return [
        f"Model: per partition key {m['partition_wcu']:,.0f} WCU/s and {m['partition_rcu']:,.0f} RCU/s (token "
        f"bucket, {m['burst_s']:.0f} s of burst); GetItem/BatchGetItem {m['read_ms']:.0f} ms + U(0, "
        f"{m['read_jitter_ms']:.0f}); BatchWriteItem {m['batch_write_ms']:.0f} ms + U(0, {m['read_jitter_ms']:.0f}); "
        f"TransactWriteItems {m['tx_ms']:.0f} ms + U(0, {m['tx_jitter_ms']:.0f}) + {m['tx_ms_per_10_items']:.0f} ms "
        f"per 10 items, holding its accounts until it commits; a cancelled transaction consumes "
        f"{m['cancelled_charge']:.0%} of its units (assumed)",
        f"Retries: SDK {m['sdk_attempts']} tries per call (after a throttle: rand × {m['sdk_throttle_base_s']:.0f} s × "
        f"2^i); BatchGetItem's and BatchWriteItem's unprocessed keys sent again {ADAPTER_CALLS - 1} times at once; "
        f"RetryPolicy {retry['attempts']} tries, backoff rand × min({retry['cap_seconds'] * 1000:.0f} ms, "
        f"{retry['base_seconds'] * 1000:.0f} ms × 2^n), {retry['budget_seconds']:.0f} s budget, then 503 busy (a "
        f"purchase) or the referrer's records reported failed (the poster)",
        f"Way in: HTTP API stage throttle (template today: {result['template_stage'][0]:,.0f} rps, burst "
        f"{result['template_stage'][1]:,.0f}; these runs: StageRateLimit={m['stage_rate']:,.0f}, "
        f"StageBurstLimit={m['stage_burst']:,.0f}); account quota {m['account_rate']:,.0f} rps, burst "
        f"{m['account_burst']:,.0f}; Lambda account concurrency {m['lambda_concurrency']:,}; purchase handler "
        f"{m['handler_ms']:.0f} ms besides DynamoDB; A reads the programme on every try, B once every "
        f"{m['program_cache_s']:g} s per container (PROGRAM_CACHE_SECONDS)",
        f"Subtree: {1 - m['depth2_share']:.0%} of buyers at depth 1 (R at level 1), {m['depth2_share']:.0%} at depth 2 "
        f"under {m['referrers']:,} referrers (R at level 2); every buyer distinct; R has {m['r_lots']} pending lots; "
        f"Poisson arrivals, {lasting}",
        f"Design B: CreditSpread {m['spread']} (the default) and {result['deployed_spread']} (a 10,000/s sale's); "
        f"CreditQueue stream: max(1, ceil(peak WCU/s / {m['partition_wcu']:,.0f})) shards, deletes included, delay "
        f"{m['stream_delay_s'][0] * 1000:.0f}-{m['stream_delay_s'][1] * 1000:.0f} ms; BatchSize {m['batch_size']:,}, "
        f"MaximumBatchingWindowInSeconds {m['window_s']:g}, ParallelizationFactor {m['parallelization']}, "
        f"MaximumRetryAttempts {m['max_retries']}, ReportBatchItemFailures; a poster takes referrers one after "
        f"another and works {m['poster_ms']:.0f} ms + {m['poster_ms_per_10_records']:.0f} ms per 10 records besides "
        f"DynamoDB",
        f"Items (bytes, the adapter's): operation record {s['operation_a'][2]:,} today, {s['operation_b'][2]:,} in B "
        f"(depth 2; depth 1: {s['operation_b'][1]:,}, depth 10: {s['operation_b'][10]:,}); entry {s['entry']}; new "
        f"buyer's account {s['buyer_account']}; R's account {s['r_account']}; CreditQueue item {s['deferred']}; "
        f"marks {marks}; a group's entry {s['batch_entry']} + {s['part']:.0f} per part",
    ]


def _label(r: dict[str, Any]) -> str:
    if r["design"] == "A":
        return "A"
    return f"B, SPREAD {r['spread']}" + ("" if r["program_cache_s"] else ", programme read every time")


def _lane_request(op: str) -> str:
    return {"TransactWriteItems": "purchases' puts", "BatchWriteItem": "poster's deletes"}.get(op, op)


def _by_function(r: dict[str, Any]) -> str:
    peaks = r["lambda_peaks"]
    return f" (purchases alone {peaks.get('purchase', 0):,}, posters alone {peaks.get('poster', 0):,})" \
        if "poster" in peaks else ""


def _run_lines(r: dict[str, Any]) -> list[str]:
    per = "n/a" if r["wcu_per_purchase"] is None else \
        f"{r['wcu_per_purchase']:.1f} WCU, {r['rcu_per_purchase']:.1f} RCU"
    dollars = r["dollars_per_million"]
    spent = f"${dollars['total']:,.2f}" if dollars else "n/a"
    lines = [
        f"{_label(r)} at {r['rate']:,.0f}/s: offered {r['offered']:,}, absorbed {r['absorbed_per_s']:,.0f}/s; "
        f"failed: {_counts(r['failed'])}",
        f"    latency {_ms(r['latency_ms'])}; refused attempts: {_counts(r['attempt_failures'])}; throttled keys: "
        f"{_counts(r['throttled_keys'], _key)}; Lambda concurrency peak {r['lambda_peak']:,}{_by_function(r)}",
        f"    per absorbed purchase (all units of the run): {per}, {spent} per million; hottest key "
        f"{_key(r['hottest_write_key'])} {r['hottest_write_peak']:,.0f} WCU/s, {_key(r['hottest_read_key'])} "
        f"{r['hottest_read_peak']:,.0f} RCU/s (in one second, burst included)",
    ]
    d = r.get("deferred")
    if d is None:
        return [*lines, f"    credits {r['credits']:,}, each posted with its purchase (delay 0)"]
    batch_r, others = d["batch_r"] or {"median": 0, "max": 0}, d["batch_others"] or {"median": 0, "max": 0}
    lost = d["credits_made"] - d["credits_posted"]
    return [*lines,
            f"    credits made {d['credits_made']:,}, posted {d['credits_posted']:,} "
            f"({'each once' if not lost else f'{lost:,} never'}; twice would raise), dead-lettered "
            f"{d['dead_lettered']:,}; delay {_ms(d['delay_ms'])}; credits per posting: R median {batch_r['median']}, "
            f"max {batch_r['max']}; others median {others['median']}, max {others['max']}",
            f"    {d['shards']} shards; {d['invocations']:,} poster invocations ({d['failed_invocations']:,} reported "
            f"failures; {d['redelivered']:,} records delivered again; {d['idle_visits']:,} referrers found applied "
            f"already), {d['records_per_invocation']:.0f} records and {d['billed_ms_per_invocation']:.0f} ms each; "
            f"requests {_counts(d['requests'])}; {d['wcu']:,.0f} WCU ({d['delete_wcu']:,.0f} of them deletes), "
            f"{d['rcu']:,.0f} RCU",
            f"    refused posting attempts: {_counts(d['attempt_failures'])}; R's busiest lane "
            f"{_key(r['hottest_lane_key'])} {r['hottest_lane_peak']:,.0f} WCU/s; lanes throttled: "
            f"{r['throttled_lane_keys']:,} (refused: {_counts(r['lane_refusals'], _lane_request)})"]


def _depth2_lines(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["Per purchase at depth 2, without the purchase's retries (B: what posting a credit cost in each run, to "
             "a level-1 referrer and to R, deletes and the posters' retries included; Lambda's GetRecords on a "
             "DynamoDB stream is free):"]
    for r in runs:
        u, d = r["at_depth2"], r["dollars_at_depth2"]
        money = (f"${d['total']:.2f} per million (API ${d['api']:.2f}, Lambda ${d['lambda']:.2f}, DynamoDB "
                 f"${d['dynamodb']:.2f})")
        if r["design"] == "A":
            lines.append(f"  A: {u['wcu']:.0f} WCU, {u['rcu']:.0f} RCU, {u['requests']} requests → {money}")
            continue
        lines.append(f"  {_label(r)} at {r['rate']:,.0f}/s: {u['own_wcu']:.0f} WCU own + "
                     f"{u['wcu'] - u['own_wcu']:.1f} postings (R's credit {u['r_wcu']:.1f}) = {u['wcu']:.1f} WCU, "
                     f"{u['rcu']:.2f} RCU, {u['requests']:.1f} requests (unbatched: {u['unbatched_wcu']:.0f} WCU, "
                     f"{u['unbatched_rcu']:.0f} RCU, {u['unbatched_requests']} requests) → {money}")
    return lines


def report(result: dict[str, Any]) -> list[str]:
    lines = limits_lines(result)
    req = result["requests"]
    lines.append("DynamoDB requests on a purchase's own path: " + "; ".join(
        f"{k.replace('/', ' at depth ')}: {sum(v.values())} ({_counts(v)})" for k, v in req.items()))
    runs = result["runs"]
    lines += [line for r in runs for line in _run_lines(r)]
    first_a = next(r for r in runs if r["design"] == "A")
    lines += _depth2_lines([first_a, *(r for r in runs if r["design"] == "B")])
    return lines + _needed_lines(result) + _free_lines(result["free_cancellations"])


def _free_lines(free: list[dict[str, Any]]) -> list[str]:
    a, b = free
    return [
        f"If cancelled transactions consumed nothing ({a['seconds']:g} s and {b['seconds']:g} s): A at "
        f"{a['rate']:,.0f}/s absorbs {a['absorbed_per_s']:,.0f}/s, failed: {_counts(a['failed'])}; {_label(b)} at "
        f"{b['rate']:,.0f}/s: failed: {_counts(b['failed'])}, delay {_ms(b['deferred']['delay_ms'])}, hottest key "
        f"{_key(b['hottest_write_key'])} {b['hottest_write_peak']:,.0f} WCU/s, throttled keys: "
        f"{_counts(b['throttled_keys'], _key)}",
    ]


def _needed_lines(result: dict[str, Any]) -> list[str]:
    n, m, stage = result["needed"], result["limits"], result["template_stage"]
    refusals = ", ".join(f"{count:,} at {float(rate):,.0f}/s" for rate, count in result["template_refusals"].items())
    quota = "is then met exactly, with no headroom" if n["stage_rate"] >= m["account_rate"] else "is not reached"
    deployed = next(r for r in result["runs"] if r["spread"] == result["deployed_spread"] and r["rate"] == n["rate"])
    lanes = n["rate"] * (n["deferred_wcu"] + n["delete_wcu"]) / m["partition_wcu"]
    return [
        f"Needed for {n['rate']:,.0f}/s with 0 failures:",
        f"  the way in: today's stage throttle ({stage[0]:,.0f} rps, burst {stage[1]:,.0f}) refuses {refusals}; "
        f"StageRateLimit={n['stage_rate']:,.0f} and StageBurstLimit={n['stage_burst']:,.0f} refuse none (the "
        f"arrivals' largest backlog at that rate: {n['min_burst']:,}); the account quota ({m['account_rate']:,.0f} "
        f"rps) {quota}",
        f"  the programme item off the hot key: read every time, its key's {m['partition_rcu']:,.0f} RCU/s cap "
        f"purchases at {m['partition_rcu']:,.0f}/s:",
        *_run_lines(result["uncached"]),
        f"  SPREAD ≥ {n['spread']}: the smallest at which none of R's lanes is ever throttled by the writes of the "
        f"SPREAD {result['deployed_spread']} run, replayed ({n['rate']:,.0f} credits/s to R × "
        f"({n['deferred_wcu']:.0f} WCU put + {n['delete_wcu']:.0f} WCU delete) = {lanes:,.0f} lanes' worth at "
        f"{m['partition_wcu']:,.0f} WCU/s each; the puts alone need ≥ {n['spread_puts']})",
        f"  Lambda: concurrency peak {deployed['lambda_peak']:,} of {m['lambda_concurrency']:,} at SPREAD "
        f"{result['deployed_spread']}{_by_function(deployed)}; with SPREAD {n['spread']} and the account's "
        f"concurrency at {n['lambda_concurrency']:,}:",
        *_run_lines(n["run"]),
    ]
