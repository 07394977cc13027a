"""The segments' daily recompute at 1,000,000 members (docs/segments.md): the in-memory part, measured.

What the function holds and computes once its scans have read everything: every member id, the window's spend of
the 60% who bought (random amounts, many ties), every kept segment, then the classing (one sort of the spenders)
and the list of members whose computed cell changed (a day on: grades age). Timed (CPU time, which a machine loaded
by others disturbs less than the wall clock): the classing and the diff
(``segments.domain.computed``, as ``SegmentService.recompute`` calls it); peak memory: the process's maximum resident
set while holding all of it. Not here: the scans and writes themselves, which are DynamoDB's time (estimated in
docs/segments.md), since the local emulator serves a million items far slower than DynamoDB.
"""

from __future__ import annotations

import random
import resource
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from loyalty.segments.domain import Segment, SegmentSettings, Spend, computed

TODAY = date(2026, 11, 23)


@dataclass(frozen=True)
class Figures:
    members: int
    spenders: int
    classing_seconds: float
    changed: int
    peak_mb: float


def run(members: int = 1_000_000, seed: int = 15) -> Figures:
    rng = random.Random(seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(members)]
    spend = {m: Spend(rng.randrange(1, 2000) * 100, (TODAY - timedelta(days=rng.randrange(365))).isoformat())
             for m in ids if rng.random() < 0.6}
    settings = SegmentSettings()
    yesterday = computed(ids, spend, TODAY - timedelta(days=1), settings)
    kept = {m: Segment(m, cell, "2026-11-22T00:00:00Z") for m, cell in yesterday.items()}
    started = time.process_time()
    cells = computed(ids, spend, TODAY, settings)
    changes = [(m, kept.get(m), c) for m, c in cells.items() if m not in kept or kept[m].computed_cell != c]
    took = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Figures(members, len(spend), took, len(changes), (peak - before) / 1024)


def report(figures: Figures) -> list[str]:
    return [f"members {figures.members:,}, spenders {figures.spenders:,}: classing and diff "
            f"{figures.classing_seconds:.1f} s CPU (one core), {figures.changed:,} cells changed a day on; "
            f"peak memory held ≈ {figures.peak_mb:,.0f} MB (ids, spend, kept segments, cells)",
            "the scans and writes are DynamoDB's time: see docs/segments.md (not measured locally)"]
