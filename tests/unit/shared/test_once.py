"""Exactly-once execution and bounded retries, with a stand-in store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from loyalty.redemptions.domain import InsufficientPoints
from loyalty.shared.errors import Busy, IdempotencyMismatch
from loyalty.shared.once import (
    Contention,
    Operation,
    OperationRecorded,
    Outcome,
    ResultCodec,
    RetryPolicy,
    fingerprint,
    run_once,
)

CODEC: ResultCodec[dict[str, Any]] = ResultCodec(dict)


class Records:
    def __init__(self) -> None:
        self.ops: dict[str, Operation] = {}

    def operation(self, key: str) -> Operation | None:
        return self.ops.get(key)

    def record(self, key: str, request: dict[str, Any], body: dict[str, Any]) -> None:
        if key in self.ops:
            raise OperationRecorded(key)
        self.ops[key] = Operation(key, fingerprint(request), 201, body, "t")


def no_wait() -> RetryPolicy:
    return RetryPolicy(sleep=lambda _: None)


def test_the_first_call_applies_and_a_replay_gets_the_first_answer() -> None:
    store, request = Records(), {"points": 5}

    def attempt() -> dict[str, Any]:
        store.record("k", request, {"n": len(store.ops) + 1})
        return {"n": len(store.ops)}

    first = run_once(store, no_wait(), "k", fingerprint(request), attempt, CODEC)
    again = run_once(store, no_wait(), "k", fingerprint(request), attempt, CODEC)
    assert (first, again) == (Outcome({"n": 1}), Outcome({"n": 1}, replayed=True))
    with pytest.raises(IdempotencyMismatch):
        run_once(store, no_wait(), "k", fingerprint({"points": 6}), attempt, CODEC)


def test_a_replay_gets_its_answer_even_when_todays_state_would_refuse_it() -> None:
    store, request = Records(), {"points": 5}
    store.record("k", request, {"ok": True})

    def attempt() -> dict[str, Any]:
        raise InsufficientPoints("spent since")

    assert run_once(store, no_wait(), "k", fingerprint(request), attempt, CODEC).result == {"ok": True}
    with pytest.raises(InsufficientPoints):
        run_once(store, no_wait(), "other", fingerprint(request), attempt, CODEC)


def test_contention_is_retried_a_bounded_number_of_times_with_jitter() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=5, base_seconds=0.01, cap_seconds=0.04, sleep=waits.append, jitter=lambda: 1.0)
    calls = []

    def attempt() -> dict[str, Any]:
        calls.append(1)
        raise Contention("busy")

    with pytest.raises(Busy):
        run_once(Records(), policy, "k", "f", attempt, CODEC)
    assert len(calls) == 5 and waits == [0.01, 0.02, 0.04, 0.04]


def test_contention_that_clears_succeeds() -> None:
    outcomes: Iterator[Contention | dict[str, Any]] = iter([Contention("x"), Contention("y"), {"ok": 1}])

    def attempt() -> dict[str, Any]:
        result = next(outcomes)
        if isinstance(result, Exception):
            raise result
        return result

    assert run_once(Records(), no_wait(), "k", "f", attempt, CODEC).result == {"ok": 1}
