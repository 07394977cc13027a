"""What feedback needs from storage (``feedback.dynamodb`` implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from loyalty.feedback.domain import Feedback


class FeedbackStore(Protocol):
    def feedback(self, feedback_id: str) -> Feedback | None: ...

    def create(self, feedback: Feedback) -> bool:
        """Keep a new feedback; False if its id is taken (a replay, or a reused id)."""
        ...

    def save(self, before: Feedback, after: Feedback, also: Sequence[dict[str, Any]] = ()) -> None:
        """Replace ``before`` by ``after`` with the transaction items ``also`` (an email planned), all or none;
        ``Contention`` if the feedback changed since ``before`` was read."""
        ...

    def listed(self, status: str, *, limit: int, after: str | None) -> tuple[list[Feedback], str | None]:
        """Feedback with this status (open: oldest first; closed: newest first), a page at a time."""
        ...

    def of_member(self, member_id: str, *, limit: int, after: str | None) -> tuple[list[Feedback], str | None]:
        """A member's feedback, newest first, a page at a time."""
        ...

    def awaiting_before(self, instant: datetime, limit: int) -> list[Feedback]:
        """Open complaints without a reply or an alert, sent before ``instant``, oldest first."""
        ...

    def oldest_awaiting(self) -> Feedback | None: ...

    def order_owner(self, order_id: str) -> str | None:
        """Whose purchase the order is (None: no such purchase)."""
        ...

    def plan(self, reminder: Any) -> dict[str, Any]:
        """The transaction item that puts an email in outreach's due index."""
        ...
