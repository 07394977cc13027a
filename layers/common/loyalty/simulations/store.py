"""What simulations need from storage and from the queue that runs them (``simulations.dynamodb``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from loyalty.simulations.domain import RecordedPurchase, Simulation


class SimulationStore(Protocol):
    def simulation(self, simulation_id: str) -> Simulation | None: ...

    def start(self, simulation: Simulation) -> bool:
        """Keep a new simulation, unless one with its id exists (False: nothing written)."""
        ...

    def progress(self, simulation_id: str, progress: Mapping[str, int]) -> None:
        """Record how far a running simulation got (never over a finished one)."""
        ...

    def finish(self, simulation_id: str, result: Mapping[str, Any], progress: Mapping[str, int],
               finished_at: str) -> None: ...

    @property
    def parts(self) -> int:
        """How many parts the recorded purchases are read in, side by side (a parallel Scan's segments)."""
        ...

    def purchases(self, part: int, start: str, end: str) -> Iterator[list[RecordedPurchase]]:
        """The purchases of one part recorded from ``start`` up to ``end`` (RFC 3339; a page at a time; a few at the
        edges may be outside: the caller looks at each one's instant)."""
        ...

    def ancestors(self, member_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The referral paths (nearest first) of these members, of those that exist."""
        ...


class WorkQueue(Protocol):
    def send(self, message: dict[str, Any]) -> None:
        """Have the simulations function run the message's work (on AWS an SQS message to it)."""
        ...
