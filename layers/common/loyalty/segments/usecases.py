"""Segments' use cases (docs/segments.md): the daily recompute, a member's segment, staff's manual segments, the
counts per cell and a cell's members, and the thresholds.

The recompute needs a global view (a rank): it reads every member id and every kept segment by parallel scans
(``store.parts`` segments side by side), the window's spend from the spend source, classes everyone in memory,
and writes only the segments whose computed cell changed, each conditioned on the version it read: a manual
segment staff set meanwhile fails the condition, is read again and kept (only its computed cell moves).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalty.segments.domain import (
    WINDOW_DAYS,
    Segment,
    SegmentSettings,
    check_cell,
    computed,
    spend_over,
    unsegmented,
)
from loyalty.segments.store import SegmentStore, SpendSource
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Contention, RetryPolicy


@dataclass(frozen=True)
class Run:
    at: str
    members: int
    changed: int


@dataclass(frozen=True)
class Grid:
    counts: Mapping[str, int]
    computed_at: str | None


class SegmentService:
    def __init__(self, store: SegmentStore, spend: SpendSource, clock: Clock, zone: ZoneInfo,
                 member_exists: Callable[[str], bool], retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._spend = spend
        self._clock = clock
        self._zone = zone
        self._member_exists = member_exists
        self._retry = retry or RetryPolicy()

    # --- the daily recompute

    def recompute(self) -> Run:
        now = self._clock.now()
        at, today = to_rfc3339(now), now.astimezone(self._zone).date()
        settings = self._retry.run(self._store.settings)
        first = (today - timedelta(days=WINDOW_DAYS - 1)).isoformat()
        spend = self._retry.run(lambda: self._spend.spending(first, today.isoformat()))
        parts = range(self._store.parts)
        with ThreadPoolExecutor(max_workers=self._store.parts) as pool:
            members = [m for ids in pool.map(lambda p: list(self._store.member_ids(p)), parts) for m in ids]
            kept = {s.member_id: s for found in pool.map(lambda p: list(self._store.kept(p)), parts) for s in found}
        cells = computed(members, spend, today, settings)
        changes = [(m, kept.get(m), cell) for m, cell in cells.items()
                   if m not in kept or kept[m].computed_cell != cell]
        batches = [changes[n::self._store.parts] for n in parts]
        with ThreadPoolExecutor(max_workers=self._store.parts) as pool:
            changed = sum(pool.map(lambda n: sum(self._apply(m, b, c, at, n) for m, b, c in batches[n]), parts))
        self._retry.run(lambda: self._store.finish_run(at, len(cells), changed))
        return Run(at, len(cells), changed)

    def next_work(self, after: datetime, until: datetime) -> datetime | None:
        """When a recompute would next change a stored cell, for a runner that moves time in steps (``localdev.jobs``;
        on AWS the schedule simply runs daily): ``after`` if one would now, else the start of the first local day up
        to ``until`` whose recompute differs (a purchase leaving the window, a last purchase crossing a grade's
        days), else None. Reads what a recompute reads, once, and classes each day in memory."""
        first, last = after.astimezone(self._zone).date(), until.astimezone(self._zone).date()
        settings = self._retry.run(self._store.settings)
        rows = self._retry.run(lambda: self._spend.daily((first - timedelta(days=WINDOW_DAYS - 1)).isoformat(),
                                                         last.isoformat()))
        members = [m for p in range(self._store.parts) for m in self._store.member_ids(p)]
        kept = {s.member_id: s.computed_cell for p in range(self._store.parts) for s in self._store.kept(p)}
        day = first
        while day <= last:
            spend = spend_over(rows, (day - timedelta(days=WINDOW_DAYS - 1)).isoformat(), day.isoformat())
            if any(kept.get(m) != cell for m, cell in computed(members, spend, day, settings).items()):
                return after if day == first else datetime.combine(day, time(), self._zone)
            day += timedelta(days=1)
        return None

    def _apply(self, member_id: str, before: Segment | None, cell: str, at: str, worker: int) -> bool:
        """Write one member's new computed cell, keeping any manual one: when the write's condition says the item
        changed since the scan (staff set or dropped a manual segment), read it again and write on top of that."""
        for _ in range(8):
            after = Segment(member_id, cell, at) if before is None else replace(
                before, computed_cell=cell, computed_at=at, version=before.version + 1)
            if self._retry.run(lambda b=before, a=after: self._store.write(b, a, worker)):  # type: ignore[misc]
                return True
            before = self._retry.run(lambda: self._store.segment(member_id))
        return False  # kept changing under us: the next run tries again

    # --- reads

    def of(self, member_id: str) -> Segment:
        """A member's segment (D3 computed for a member who joined since the last recompute). The read's
        ``computed_at`` of a computed segment is the last recompute that confirmed it."""
        found = self._retry.run(lambda: self._store.segment(member_id))
        last = self._retry.run(self._store.last_run)
        if found is None:
            return unsegmented(member_id, last)
        if found.manual_cell is None and last is not None and (found.computed_at or "") < last:
            return replace(found, computed_at=last)
        return found

    def grid(self) -> Grid:
        return Grid(self._retry.run(self._store.counts), self._retry.run(self._store.last_run))

    def members_of(self, cell: str, *, limit: int, cursor: str | None) -> tuple[list[Segment], str | None]:
        check_cell(cell)
        return self._retry.run(lambda: self._store.listed(cell, limit=limit, after=cursor))

    # --- staff's manual segments

    def set_manual(self, member_id: str, cell: str, by: str) -> Segment:
        """Staff's segment for a member, kept by every recompute until dropped (setting the same again changes
        nothing). Conditioned on the version read: a recompute's write in between makes it read again."""
        check_cell(cell)
        if not self._retry.run(lambda: self._member_exists(member_id)):
            raise NotFound(f"No member {member_id}.")

        def attempt() -> Segment:
            before = self._store.segment(member_id)
            if before is not None and before.manual_cell == cell:
                return before
            now = to_rfc3339(self._clock.now())
            base = before or Segment(member_id, "D3", None, version=-1)
            after = replace(base, manual_cell=cell, manual_at=now, manual_by=by, version=base.version + 1)
            if not self._store.write(before, after):
                raise Contention(member_id)
            return after

        return self._retry.run(attempt)

    def drop_manual(self, member_id: str) -> Segment:
        """Drop staff's segment: the member is at once in the cell the last recompute computed for them (dropping
        none changes nothing)."""
        if not self._retry.run(lambda: self._member_exists(member_id)):
            raise NotFound(f"No member {member_id}.")

        def attempt() -> Segment:
            before = self._store.segment(member_id)
            if before is None or before.manual_cell is None:
                return self.of(member_id)
            after = replace(before, manual_cell=None, manual_at=None, manual_by=None, version=before.version + 1)
            if not self._store.write(before, after):
                raise Contention(member_id)
            return self.of(member_id)

        return self._retry.run(attempt)

    # --- the thresholds

    def settings(self) -> SegmentSettings:
        return self._retry.run(self._store.settings)

    def change_settings(self, settings: SegmentSettings) -> SegmentSettings:
        """New thresholds (checked), used from the next recompute on."""
        settings.check()
        self._retry.run(lambda: self._store.save_settings(settings))
        return settings
