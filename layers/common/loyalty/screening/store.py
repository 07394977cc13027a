"""What screening needs from storage (``screening.dynamodb`` implements it): the signal index, the sign-up
counts per code and hour, and the reviews."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from loyalty.ledger.store import Record
from loyalty.screening.domain import Shared
from loyalty.screening.review import Review


class ScreeningStore(Protocol):
    def shared(self, keys: Mapping[str, Sequence[str]]) -> Shared:
        """Who used each of these keyed signals (per kind), in one read."""
        ...

    def note(self, kind: str, key: str, member_id: str, tag: str) -> None:
        """Add a member (and the holder whose referee it is, ``tag``) to a keyed signal's users."""
        ...

    def sign_ups(self, code: str, hour: str) -> int:
        """How many sign-ups ``code`` had in ``hour`` so far."""
        ...

    def count_sign_up(self, code: str, hour: str) -> int:
        """Count a sign-up under ``code`` in ``hour`` (an RFC 3339 hour); how many the hour has now."""
        ...

    def review(self, review_id: str) -> Review | None: ...

    def reviews(self, status: str, *, limit: int, after: str | None) -> tuple[list[Review], str | None]:
        """Reviews with this status (``open``: oldest first; decided: latest decision first), a page at a time."""
        ...

    def open_before(self, instant: datetime, limit: int) -> list[Review]:
        """Open reviews opened before ``instant``, oldest first."""
        ...

    def opened(self, review: Review) -> list[Record]:
        """The records that open a review, written with the purchase that holds the credit."""
        ...

    def decided(self, before: Review, after: Review) -> list[Record]:
        """The records that close a review, written with the decision's entries; refused if it is not open."""
        ...
