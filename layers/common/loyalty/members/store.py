"""What membership needs from storage (``members.dynamodb`` implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from loyalty.ledger.accounts import Account
from loyalty.members.domain import LinkTarget, Member, Referee

if TYPE_CHECKING:
    from loyalty.program.domain import ProgramRules


class MemberTaken(Exception):
    """A member with this id already exists."""


class CodeTaken(Exception):
    """The referral code drawn is already someone's (draw another)."""


class UnsubscribeIdTaken(Exception):
    """The unsubscribe id drawn already names another member's links (draw another)."""


class NoSuchMember(Exception):
    """The member to change does not exist."""


class SignUpScreen(Protocol):
    """Screening as sign-up needs it (``screening.usecases.Screener``): the verdicts of the credits the new member's
    purchases will make, as plain signal → weight maps, and remembering the member's signals once it is one."""

    def sign_up_verdicts(self, *, member_id: str, ancestors: Sequence[str], partner: str | None, code: str | None,
                         email: str | None, phone: str | None, device_id: str | None, card: str | None,
                         partner_email: str | None = None) -> dict[str, dict[str, int]]: ...

    def remember(self, *, member_id: str, tag: str, email: str | None = None, phone: str | None = None,
                 device_id: str | None = None, card: str | None = None, code: str | None = None) -> None: ...


class LinkResolver(Protocol):
    """What sign-up needs to know of links (the partners feature answers it)."""

    def target(self, code: str) -> LinkTarget | None:
        """What a link code (as typed, scanned or carried by a link) names; None when it is no link's (a mistyped
        or forged code is refused without a look-up)."""
        ...

    def code_of_click(self, click_id: str) -> str | None:
        """The link code a signed click id was issued for; None when the signature does not hold."""
        ...


@dataclass(frozen=True)
class LeadMatch:
    """A lead a new member's verified email or phone matches (docs/leads.md): its submitter becomes the referrer."""

    lead_id: str
    submitter: str
    claim: Any  # leads.domain.Claim: what the conversion's conditions name


class LeadMatcher(Protocol):
    """What sign-up needs of leads (``leads.usecases.LeadMatcher``)."""

    def match(self, email: str | None, phone: str | None) -> LeadMatch | None:
        """The lead these verified contacts match and that has not converted, in one read; None: none."""
        ...

    def converting(self, match: LeadMatch, member_id: str, now: datetime) -> list[dict[str, Any]]:
        """The transaction items that convert the lead, once, in the sign-up's own transaction."""
        ...


class MemberStore(Protocol):
    def members(self, member_ids: Sequence[str]) -> dict[str, Member]:
        """The members of these ids that exist, in one read."""
        ...

    def members_with_accounts(self, member_ids: Sequence[str]) -> tuple[dict[str, Member], dict[str, Account]]:
        """Members and their accounts (an empty account for one without), in one read."""
        ...

    def member_read(self, member_id: str) -> tuple[dict[str, Member], dict[str, Account], ProgramRules | None]:
        """Tiers (docs/earning-tiers.md): the member, their account and the current programme, in one read."""
        ...

    def create_member(self, member: Member, also: Sequence[dict[str, Any]] = ()) -> None:
        """The member, its code, its unsubscribe id and its edges in the tree, with the transaction items ``also``
        (a lead's conversion), or nothing: ``MemberTaken``, ``CodeTaken``, ``UnsubscribeIdTaken``, or
        ``Contention`` if the referrer's side (or the lead) changed."""
        ...

    def member_id_for_code(self, code: str) -> str | None: ...

    def member_ids_by_email(self, email: str) -> list[str]:
        """The members whose email is this one, ignoring case (an index query: may lag a write by a moment)."""
        ...

    def member_ids_by_phone(self, phone_number: str) -> list[str]:
        """The members with this phone number (E.164; an index query: may lag a write by a moment)."""
        ...

    def member_id_for_unsubscribe(self, unsubscribe_id: str) -> str | None:
        """Whose unsubscribe links name this id (``Member.unsubscribe_id``), or None."""
        ...

    def referees(self, member_id: str, *, level: int, limit: int) -> list[Referee]: ...

    def referee_counts(self, member_id: str) -> dict[int, int]: ...

    def update_member(self, member_id: str, fields: dict[str, Any]) -> None:
        """Change some profile fields (None removes one); ``NoSuchMember`` if there is no such member."""
        ...

    def update_profile(self, member: Member, fields: dict[str, Any]) -> None:
        """Change profile fields of ``member`` (as read; None removes one), a new display name in the member's
        edges too, in one write; ``NoSuchMember`` if there is no such member, ``Contention`` if an edge is gone."""
        ...

    def opt_out_if(self, member_id: str, seen_opted_in_at: str | None) -> bool:
        """Opt the member out of marketing if their ``opted_in_at`` is still ``seen_opted_in_at``, in one
        conditional write; False, changing nothing, if they opted in again since. ``NoSuchMember`` if there is
        no such member."""
        ...
