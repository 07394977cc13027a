"""Starting a simulation (exactly once by its id), running it (the queue's work), and reading it.

``start`` checks the body, works out the proposed rules (the current programme with the body's changes), keeps the
simulation (``SIMULATION#<id>``, written only if the id is new) and queues its work; ``run`` replays the period's
recorded purchases, the parts of the read side by side, recording progress as it goes, and keeps the result.
Nothing but the simulation's own item is ever written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from loyalty.program.domain import ComplianceProfileViolated, ProgramRules
from loyalty.shared.clock import Clock, parse_rfc3339, to_rfc3339
from loyalty.shared.errors import IdempotencyMismatch, NotFound, ValidationProblem
from loyalty.shared.once import RetryPolicy, fingerprint
from loyalty.simulations.domain import (
    DONE,
    RUNNING,
    Period,
    RecordedPurchase,
    Simulation,
    Tally,
    replay,
)
from loyalty.simulations.store import SimulationStore, WorkQueue

# A simulation still running this long after it was asked for lost its run (the function's 15-minute limit, or a
# message that never arrived): asking again with the same body queues it again.
STALE_AFTER = timedelta(minutes=16)
REPORT_EVERY_SECONDS = 2.0  # how often a run records its progress


def _ancestors_of(purchase: RecordedPurchase) -> tuple[str, ...]:
    """The referral path as the purchase's credits show it (nearest first, as far as it is unbroken): for a buyer
    whose member record is gone."""
    by_level = {level: member for member, level, _ in purchase.credits if level > 0}
    path: list[str] = []
    while len(path) + 1 in by_level:
        path.append(by_level[len(path) + 1])
    return tuple(path)


class SimulationService:
    def __init__(self, store: SimulationStore, current: Callable[[], ProgramRules], clock: Clock,
                 queue: WorkQueue | None = None, retry: RetryPolicy | None = None,
                 report_every: float = REPORT_EVERY_SECONDS) -> None:
        self._store = store
        self._current = current
        self._clock = clock
        self._queue = queue
        self._retry = retry or RetryPolicy()
        self._report_every = report_every

    def simulation(self, simulation_id: str) -> Simulation:
        found = self._retry.run(lambda: self._store.simulation(simulation_id))
        if found is None:
            raise NotFound(f"No simulation {simulation_id}.")
        return found

    def start(self, simulation_id: str, request: Mapping[str, Any], changes: Mapping[str, Any], first: date,
              last: date) -> tuple[bool, Simulation]:
        """Keep the simulation and queue its run: ``(True, it)``; the same body again: ``(False, it as it is
        now)``; another body under the same id: ``409 idempotency-mismatch``. Refused bodies write nothing."""
        print_ = fingerprint(dict(request))
        found = self._retry.run(lambda: self._store.simulation(simulation_id))
        if found is not None:
            return False, self._again(found, print_)
        current = self._retry.run(self._current)
        given: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value
                 for name, value in changes.items() if value is not None}
        if given.get("currency", current.currency) != current.currency:
            raise ValidationProblem(f"The recorded purchases are in {current.currency}: a simulation replays them "
                                    "in the programme's currency.", loc=["body", "program", "currency"])
        try:
            rules = current.changed(given, self._clock.now())
        except ValueError as error:
            raise ValidationProblem(str(error), loc=["body", "program"]) from None
        problems = rules.compliance_problems()
        if problems:
            raise ComplianceProfileViolated("; ".join(problems) + ".")
        period = Period.of(first, last, current.timezone)
        simulation = Simulation(simulation_id, print_, period, rules, to_rfc3339(self._clock.now()),
                                progress={"parts": 0, "parts_done": 0, "purchases_replayed": 0})
        if not self._retry.run(lambda: self._store.start(simulation)):  # a twin got there first
            return False, self._again(self.simulation(simulation_id), print_)
        self._queue_run(simulation_id)
        return True, simulation

    def _paths(self, members: list[str]) -> dict[str, tuple[str, ...]]:
        return self._retry.run(lambda: self._store.ancestors(members))

    def _again(self, found: Simulation, print_: str) -> Simulation:
        if found.fingerprint != print_:
            raise IdempotencyMismatch(f"Simulation {found.simulation_id} was asked with another body.")
        if found.status == RUNNING and self._clock.now() - parse_rfc3339(found.created_at) > STALE_AFTER:
            self._queue_run(found.simulation_id)
        return found

    def _queue_run(self, simulation_id: str) -> None:
        if self._queue is not None:
            self._queue.send({"simulation_id": simulation_id})
        else:  # no queue (a unit test, a script): run it now
            self.run(simulation_id)

    def run(self, simulation_id: str) -> Simulation | None:
        """Replay the simulation's period and keep the result (a finished simulation is left as it is)."""
        simulation = self._retry.run(lambda: self._store.simulation(simulation_id))
        if simulation is None or simulation.status == DONE:
            return simulation
        period, rules = simulation.period, simulation.rules
        start, end = (to_rfc3339(t) for t in period.bounds())
        parts = self._store.parts
        lock = threading.Lock()
        paths: dict[str, tuple[str, ...]] = {}
        progress = {"parts": parts, "parts_done": 0, "purchases_replayed": 0}
        reported = [time.monotonic()]

        def report() -> None:
            now = time.monotonic()
            with lock:
                if now - reported[0] < self._report_every:
                    return
                reported[0], shown = now, dict(progress)
            self._retry.run(lambda: self._store.progress(simulation_id, shown))

        def part(n: int) -> Tally:
            tally = Tally()
            for page in self._store.purchases(n, start, end):
                unknown = list(dict.fromkeys(p.buyer for p in page if p.buyer not in paths))
                if unknown:
                    found = self._paths(unknown)
                    with lock:
                        paths.update(found)
                missing = {p.buyer: _ancestors_of(p) for p in page if p.buyer not in paths}
                before = tally.purchases
                replay(rules, period, page, {**missing, **paths} if missing else paths, tally)
                with lock:
                    progress["purchases_replayed"] += tally.purchases - before
                report()
            with lock:
                progress["parts_done"] += 1
            return tally

        total = Tally()
        with ThreadPoolExecutor(max_workers=parts) as pool:
            for tally in pool.map(part, range(parts)):
                total.merge(tally)
        finished = to_rfc3339(self._clock.now())
        result = total.result(period)
        self._retry.run(lambda: self._store.finish(simulation_id, result, progress, finished))
        return replace(simulation, status=DONE, progress=progress, result=result, finished_at=finished)

