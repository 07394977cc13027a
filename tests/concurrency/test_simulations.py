"""Simulations on AWS's own engine (docs/earning-simulations.md), raced from many threads at once:

- 24 admins asking for one simulation at once, half with one body, half with another: the simulation is kept once
  (the conditional put settles it, not a read before it), its run is queued once, every caller with its body gets
  it and every other gets ``409 idempotency-mismatch``;
- two runs of one simulation at once (SQS delivers a message at least once) while purchases keep being recorded
  outside its period: both replay the same purchases, the first finish is kept and the other changes nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date
from typing import Any

import boto3
import pytest

from loyalty import wiring
from loyalty.program.domain import DEFAULT_PROGRAM
from loyalty.shared.dynamo import Dynamo
from loyalty.shared.errors import IdempotencyMismatch
from loyalty.simulations.dynamodb import DynamoSimulationStore
from loyalty.simulations.usecases import SimulationService
from tests.concurrency.conftest import Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

DAY = 24 * 3600


class Queue:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            self.sent.append(message)


def simulations(service: Service, queue: Queue, parts: int = 4) -> SimulationService:
    """The use case as the function builds it, on DynamoDB Local, its queue a list."""
    db = Dynamo(boto3.client("dynamodb"))
    settings = wiring.settings()
    store = DynamoSimulationStore(db, settings.earning_table, settings.tables.operations, settings.tables.members,
                                  parts=parts)
    return SimulationService(store, lambda: DEFAULT_PROGRAM, service.clock, queue, report_every=0.0)


def at_once(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[n] = calls[n]()
        except Exception as error:  # the refusal is the result
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_many_admins_asking_for_one_simulation_keep_it_once(service: Service) -> None:
    queue = Queue()
    sims = simulations(service, queue)
    bodies = [{"program": {"referral_rates_bps": [1500 + 100 * (n % 2)]}, "from": "2026-11-01", "to": "2026-11-30"}
              for n in range(24)]
    results = at_once([lambda b=b: sims.start("S-race", b, {"referral_rates_bps": b["program"]["referral_rates_bps"]},
                                              date(2026, 11, 1), date(2026, 11, 30)) for b in bodies])
    outcomes = Counter("mismatch" if isinstance(r, IdempotencyMismatch) else "started" if r[0] else "same"
                       for r in results)
    assert outcomes["started"] == 1 and len(queue.sent) == 1, outcomes
    [winner] = [n for n, r in enumerate(results) if not isinstance(r, Exception) and r[0]]
    same = [n for n, r in enumerate(results) if not isinstance(r, Exception) and not r[0]]
    assert {n % 2 for n in same} <= {winner % 2} and outcomes["mismatch"] == 12, outcomes
    kept = sims.simulation("S-race")
    assert kept.rules.referral_rates_bps == (1500 + 100 * (winner % 2),)
    items = service.db.scan(TableName=wiring.settings().earning_table)["Items"]
    assert [i["pk"]["S"] for i in items] == ["SIMULATION#S-race"]
    report("one simulation, 24 askers", **outcomes)


def test_two_runs_of_one_simulation_at_once_keep_one_result(service: Service) -> None:
    alice = service.sign_up("alice")
    service.sign_up("bob", alice["referral_code"])
    for n in range(12):
        assert service.purchase(f"O-{n}", "bob", 1_000 + 137 * n).status == 201
    assert service.refund("O-3", "R-1", 500).status == 201
    queue = Queue()
    sims = simulations(service, queue)
    today = service.clock.now().date()
    sims.start("S-twice", {"program": {}}, {"referral_rates_bps": [2000]}, today, today)
    service.clock.advance(DAY)  # purchases recorded from now on are after the period

    def record_more() -> int:
        return sum(service.purchase(f"L-{n}", "bob", 2_000).status == 201 for n in range(6))

    results = at_once([lambda: sims.run("S-twice"), lambda: sims.run("S-twice"), record_more])
    assert results[2] == 6
    first, second = results[0], results[1]
    assert first.result == second.result  # the same purchases, the same figures
    kept = sims.simulation("S-twice")
    assert kept.status == "done" and kept.result is not None and kept.result == first.result
    assert kept.result["purchases"] == 12 and kept.progress["purchases_replayed"] == 12
    base = sum((1_000 + 137 * n) // 100 for n in range(12))
    refund_off = ((1_000 + 3 * 137) // 100) * 500 // (1_000 + 3 * 137)
    assert kept.result["current"]["by_level"][0] == base - refund_off
    report("one simulation, two runs", purchases=kept.result["purchases"])
