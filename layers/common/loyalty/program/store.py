"""What the programme needs from storage (``program.dynamodb`` implements it)."""

from __future__ import annotations

from typing import Protocol

from loyalty.program.domain import ProgramRules


class ProgramChanged(Exception):
    """Another version was published since the current one was read."""


class ProgramStore(Protocol):
    def current(self) -> ProgramRules | None:
        """The current version, or None on a fresh install (the built-in defaults apply)."""
        ...

    def version(self, version: int) -> ProgramRules | None: ...

    def publish(self, rules: ProgramRules, *, previous: ProgramRules, previous_stored: bool) -> None:
        """Make ``rules`` current, only if ``previous`` still is (``ProgramChanged`` if not); on the first
        publish the built-in ``previous`` is stored too, so it stays readable as its version."""
        ...
