"""Exactly-once execution of a business event, and the bounded, jittered retry around it.

A use case's ``attempt`` reads what it needs, decides, and commits one write whose first item is the
event's ``Operation`` record (``attribute_not_exists``). Then:

- the record already exists → this is a replay: same fingerprint returns the first answer, a
  different one is ``idempotency-mismatch``; nothing is written either way;
- something it read changed (another write to the same holder won a race, a throttle, a timeout
  that may or may not have applied) → read again and decide again, a bounded number of times;
- the domain refuses (unknown member, insufficient points, …) → before answering, check whether the
  event was in fact recorded earlier (a replay must get its first answer even if today's state
  would refuse it).

The answer a use case gives is a domain result (a dataclass); the record keeps it as JSON
(``ResultCodec``) so a replay gets the same result back, and the HTTP layer builds the same body from it.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, Protocol, TypeVar

from loyalty.shared.canonical import canonical_json
from loyalty.shared.errors import Busy, IdempotencyMismatch, LoyaltyError

T = TypeVar("T")


@dataclass(frozen=True)
class Operation:
    """The durable record that a business event happened, and what the client was told.

    ``key`` is derived from the client's id (``purchase/<order_id>``, ``refund/<order_id>/<refund_id>``,
    ``redemption/<member_id>/<Idempotency-Key>``, ``adjustment/<adjustment_id>``). Written once with
    ``attribute_not_exists``, it is what makes every retry, replay or race exactly-once; it has no expiry.
    ``state`` is what later events need of this one (a purchase's credits, for its refunds).
    """

    key: str
    fingerprint: str
    status: int
    response: dict[str, Any]
    created_at: str
    state: dict[str, Any] = field(default_factory=dict)


class OperationRecorded(Exception):
    """The operation record already exists: this request is a replay (or lost a race to its twin)."""


class Contention(Exception):
    """Something the write was conditioned on changed since it was read; re-read and try again."""


# AWS error codes that mean "not now": the same request may succeed when read and written again. (Here, not in
# the DynamoDB adapter, so the HTTP layer can map them without importing boto3 at a function's cold start.)
TRANSIENT_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionInProgressException", "InternalServerError", "ServiceUnavailable", "Throttling",
    # A plain write to an item a transaction is writing at that moment (a click counted while the aggregator counts
    # into the same partner's day): the write did not happen; it may be made again.
    "TransactionConflictException",
})


class OperationLog(Protocol):
    def operation(self, key: str) -> Operation | None: ...


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a write use case answers: its result, and whether it is the replay of an earlier answer."""

    result: T
    replayed: bool = False


class ResultCodec(Generic[T]):
    """A result dataclass to the JSON an operation record keeps, and back (pydantic, built on first use)."""

    def __init__(self, kind: type[T]) -> None:
        self._kind = kind

    @cached_property
    def _adapter(self) -> Any:
        from pydantic import TypeAdapter

        return TypeAdapter(self._kind)

    def dump(self, result: T) -> dict[str, Any]:
        dumped: dict[str, Any] = self._adapter.dump_python(result, mode="json")
        return dumped

    def load(self, stored: dict[str, Any]) -> T:
        loaded: T = self._adapter.validate_python(stored)
        return loaded

    def load_operation(self, recorded: Operation) -> T:
        """The first answer, from its record (a codec whose answers are their record's state rebuilds it here)."""
        return self.load(recorded.response)


def fingerprint(request: dict[str, Any]) -> str:
    """A digest of the meaning of a request (not its bytes), to tell a replay from a reused id."""
    return hashlib.sha256(canonical_json(request)).hexdigest()


@dataclass
class RetryPolicy:
    """Full-jitter exponential backoff, bounded twice: at most ``attempts`` tries, and no new try once
    ``budget_seconds`` have passed (so a request answers ``busy`` well within the function's timeout,
    whatever the store's own retries cost)."""

    attempts: int = 8
    base_seconds: float = 0.01
    cap_seconds: float = 0.25
    budget_seconds: float = 4.0
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = field(default=random.random)
    monotonic: Callable[[], float] = time.monotonic

    def run(self, attempt: Callable[[], T]) -> T:
        started = self.monotonic()
        for number in range(self.attempts):
            try:
                return attempt()
            except Contention:
                pause = self.jitter() * min(self.cap_seconds, self.base_seconds * 2**number)
                if number == self.attempts - 1 or self.monotonic() - started + pause > self.budget_seconds:
                    raise Busy() from None
                self.sleep(pause)
        raise Busy()  # pragma: no cover - the loop always returns or raises


def run_once(log: OperationLog, retry: RetryPolicy, key: str, request_fingerprint: str,
             attempt: Callable[[], T], codec: ResultCodec[T]) -> Outcome[T]:
    """Run ``attempt`` so that the event keyed ``key`` is applied exactly once, whatever happens.

    ``attempt`` commits the operation record with ``codec.dump`` of its result as the response.
    """

    def replay(recorded: Operation) -> Outcome[T]:
        if recorded.fingerprint != request_fingerprint:
            raise IdempotencyMismatch(f"{key} was already used for a different request")
        return Outcome(codec.load_operation(recorded), replayed=True)

    def once() -> Outcome[T]:
        try:
            return Outcome(attempt())
        except OperationRecorded:
            recorded = log.operation(key)
            if recorded is None:  # cannot happen with strongly consistent reads; treat as a race
                raise Contention(key) from None
            return replay(recorded)
        except LoyaltyError:
            recorded = log.operation(key)
            if recorded is not None:
                return replay(recorded)
            raise

    try:
        return retry.run(once)
    except Busy:
        # The last try may have been applied without us hearing back: if so, that is the answer.
        try:
            recorded = log.operation(key)
        except Contention:
            raise Busy() from None
        if recorded is None:
            raise
        return replay(recorded)
