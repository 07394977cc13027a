"""What leads need from storage (``leads.dynamodb`` implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from loyalty.leads.domain import Claim, Form, Lead


class ContactsTaken(Exception):
    """The submission's transaction found these contacts claimed by earlier leads (nothing was written)."""

    def __init__(self, contacts: Sequence[str]) -> None:
        super().__init__(", ".join(contacts))
        self.contacts = list(contacts)


class FormTaken(Exception):
    """A form with this id exists (a replay, a twin that got there first, or a reused id)."""


class LeadStore(Protocol):
    def form(self, form_id: str) -> Form | None: ...

    def leads(self, lead_ids: Sequence[str]) -> list[Lead]:
        """The leads of these ids that exist, in the order given (one read)."""
        ...

    def lead(self, lead_id: str) -> Lead | None: ...

    def submit(self, form: Form, leads: Sequence[Lead]) -> None:
        """The form, its leads and a claim for each contact of each lead that owns its contacts (status ``new``),
        all or nothing: ``FormTaken``, ``ContactsTaken`` (which contacts another lead owns), else ``Contention``."""
        ...

    def claims(self, contacts: Sequence[str]) -> list[Claim]:
        """The claims of these contacts that exist (one read)."""
        ...

    def save(self, before: Lead, after: Lead) -> None:
        """Replace ``before`` by ``after``; ``Contention`` if the lead changed since ``before`` was read."""
        ...

    def erase(self, before: Lead, after: Lead) -> None:
        """Replace ``before`` by its tombstone ``after`` and drop the claims of its contacts, all or nothing;
        ``Contention`` if the lead changed (it converted, say) since it was read."""
        ...

    def listed(self, status: str, *, limit: int, after: str | None) -> tuple[list[Lead], str | None]:
        """Leads with this status (new: oldest first; the others: newest first), a page at a time."""
        ...

    def erasable_before(self, instant: datetime, limit: int) -> list[Lead]:
        """Leads whose contact details are kept and that were sent before ``instant``, oldest first."""
        ...

    def converting(self, claim: Claim, member_id: str, now: datetime) -> list[dict[str, Any]]:
        """The transaction items that convert the claim's lead for the new member: each claim of the lead marked
        (only if none was), the lead ``converted`` (only if it is still open)."""
        ...
