"""Exactly-once execution of a business event, and the bounded, jittered retry around it.

A use case's ``attempt`` reads what it needs, decides, and commits one ``LedgerWrite`` whose first
item is the operation record (``attribute_not_exists``). Then:

- the record already exists → this is a replay: same fingerprint returns the first answer, a
  different one is ``idempotency-mismatch``; nothing is written either way;
- something it read changed (another write to the same member won a race, a throttle, a timeout
  that may or may not have applied) → read again and decide again, a bounded number of times;
- the domain refuses (unknown member, insufficient points, …) → before answering, check whether the
  event was in fact recorded earlier (a replay must get its first answer even if today's state
  would refuse it).
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loyalty.errors import Busy, IdempotencyMismatch, LoyaltyError
from loyalty.ledger import canonical_json
from loyalty.ports import Contention, Operation, OperationRecorded, Store


@dataclass(frozen=True)
class Outcome:
    """What a write use case answers: the body, and whether it is the replay of an earlier answer."""

    body: dict[str, Any]
    replayed: bool = False


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

    def run(self, attempt: Callable[[], Any]) -> Any:
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


def run_once(store: Store, retry: RetryPolicy, key: str, request_fingerprint: str,
             attempt: Callable[[], Outcome]) -> Outcome:
    """Run ``attempt`` so that the event keyed ``key`` is applied exactly once, whatever happens."""

    def replay(recorded: Operation) -> Outcome:
        if recorded.fingerprint != request_fingerprint:
            raise IdempotencyMismatch(f"{key} was already used for a different request")
        return Outcome(recorded.response, replayed=True)

    def once() -> Outcome:
        try:
            return attempt()
        except OperationRecorded:
            recorded = store.operation(key)
            if recorded is None:  # cannot happen with strongly consistent reads; treat as a race
                raise Contention(key) from None
            return replay(recorded)
        except LoyaltyError:
            recorded = store.operation(key)
            if recorded is not None:
                return replay(recorded)
            raise

    try:
        result: Outcome = retry.run(once)
    except Busy:
        # The last try may have been applied without us hearing back: if so, that is the answer.
        try:
            recorded = store.operation(key)
        except Contention:
            raise Busy() from None
        if recorded is None:
            raise
        return replay(recorded)
    return result
