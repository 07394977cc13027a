"""Programme rules: read the current or any earlier version, publish a new one."""

from __future__ import annotations

from typing import Any

from loyalty.program.domain import (
    DEFAULT_PROGRAM,
    ComplianceProfileViolated,
    ProgramRules,
)
from loyalty.program.store import ProgramChanged, ProgramStore
from loyalty.shared.clock import Clock, SystemClock
from loyalty.shared.errors import NotFound, VersionConflict
from loyalty.shared.once import Contention, RetryPolicy


class ProgramService:
    def __init__(self, store: ProgramStore, retry: RetryPolicy | None = None, clock: Clock | None = None) -> None:
        self._store = store
        self._retry = retry or RetryPolicy()
        self._clock = clock or SystemClock()

    def current(self) -> ProgramRules:
        """The version new purchases are credited under (the built-in defaults on a fresh install)."""
        return self._retry.run(self._store.current) or DEFAULT_PROGRAM

    def version(self, version: int) -> ProgramRules:
        rules = self._retry.run(lambda: self._store.version(version))
        if rules is None and version == DEFAULT_PROGRAM.version and self.current() is DEFAULT_PROGRAM:
            rules = DEFAULT_PROGRAM
        if rules is None:
            raise NotFound(f"No program version {version}.")
        return rules

    def publish(self, *, expected_version: int | None = None, **changes: Any) -> ProgramRules:
        """Make a new version current: the current one with ``changes`` (``ProgramRules`` fields; a change of None
        keeps the current value, as ``PUT /v1/program`` keeps a key its body leaves out). Old versions stay
        readable; nothing already credited changes.

        With ``expected_version`` the publish only happens if that is still the current version
        (an admin editing what they read); without it, it is published on top of whatever is current.
        Rules their profile forbids are refused (``422 compliance-profile``), checked against the profile they would
        run under.
        """
        given: dict[str, Any] = {name: tuple(value) if isinstance(value, list) else value
                 for name, value in changes.items() if value is not None}

        tried: list[ProgramRules] = []  # a try whose answer was lost may have published: recognise it

        def attempt() -> ProgramRules:
            stored = self._store.current()
            if stored is not None and stored in tried:
                return stored
            previous = stored or DEFAULT_PROGRAM
            if expected_version is not None and expected_version != previous.version:
                raise VersionConflict(f"The program is at version {previous.version}, not {expected_version}.")
            rules = previous.changed({**given, "version": previous.version + 1}, self._clock.now())
            problems = rules.compliance_problems()
            if problems:
                raise ComplianceProfileViolated("; ".join(problems) + ".")
            tried.append(rules)
            try:
                self._store.publish(rules, previous=previous, previous_stored=stored is not None)
            except ProgramChanged:
                raise Contention("program") from None
            return rules

        return self._retry.run(attempt)
