"""What segments need from storage (``segments.dynamodb``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Protocol

from loyalty.segments.domain import DaySpend, Segment, SegmentSettings, Spend


class SpendSource(Protocol):
    """Each member's net spend and last purchase day over local days ``first``–``last``: the one place purchases
    (recorded, refunded, or imported) reach segments. The metrics aggregator keeps it (docs/segments.md)."""

    def spending(self, first: str, last: str) -> dict[str, Spend]: ...

    def daily(self, first: str, last: str) -> list[DaySpend]:
        """The same, a row per member and local day (what ``spending`` sums)."""
        ...


class SegmentStore(Protocol):
    parts: int  # the parallel scans' segments (and the recompute's workers)

    def settings(self) -> SegmentSettings: ...

    def save_settings(self, settings: SegmentSettings) -> None: ...

    def segment(self, member_id: str) -> Segment | None: ...

    def member_ids(self, part: int) -> Iterator[str]:
        """The ids of every member in scan segment ``part`` of ``parts``."""
        ...

    def kept(self, part: int) -> Iterator[Segment]:
        """The segments kept in scan segment ``part`` of ``parts``."""
        ...

    def write(self, before: Segment | None, after: Segment, shard: int | None = None) -> bool:
        """Put ``after`` if the item is still ``before`` (None: absent), moving the counts from ``before``'s cell to
        ``after``'s in the same transaction (in count shard ``shard``: the recompute's worker's own; None: the
        member's). False when the item changed meanwhile (nothing written)."""
        ...

    def counts(self) -> Mapping[str, int]: ...

    def last_run(self) -> str | None: ...

    def finish_run(self, at: str, members: int, changed: int) -> None: ...

    def listed(self, cell: str, *, limit: int, after: str | None) -> tuple[list[Segment], str | None]: ...
