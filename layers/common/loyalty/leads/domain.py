"""Leads' rules (docs/leads.md): what a member submits, how contacts are normalised, what staff may change, when a
lead's contact details are erased.

No I/O. A form is keyed by the client's ``form_id`` (its idempotency key): the same body again is a replay, another
body under the same id is refused. Each friend of a form is one lead, ``<form_id>.<n>`` (n = 1…5), so a retried
submission writes the same items. A contact (a normalised email or phone) is owned by the first lead that lists it:
its claim item is put only where none is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from loyalty.identity.domain import normalize_phone
from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.errors import IdempotencyMismatch, LoyaltyError, ValidationProblem
from loyalty.shared.once import fingerprint

MAX_FRIENDS = 5
ERASE_AFTER = timedelta(days=180)  # an unconverted lead's contact details are erased this long after it was sent
MAX_NOTE = 500
# A lead's statuses. new → contacted / not_interested (staff), any of those three → converted (a sign-up) or
# erased (180 days); duplicate (another lead listed the contact first) and already_member (the contact is a
# member's) are decided at submission and never convert.
NEW, CONTACTED, NOT_INTERESTED, CONVERTED, ERASED = "new", "contacted", "not_interested", "converted", "erased"
DUPLICATE, ALREADY_MEMBER = "duplicate", "already_member"
STATUSES = (NEW, CONTACTED, NOT_INTERESTED, CONVERTED, DUPLICATE, ALREADY_MEMBER, ERASED)
OPEN = (NEW, CONTACTED, NOT_INTERESTED)  # a lead that may still convert, and that staff may work
STAFF_STATUSES = (CONTACTED, NOT_INTERESTED)
EMAIL, PHONE = "email", "phone"


class LeadClosed(LoyaltyError):
    slug, status, title = "lead-closed", 409, "The lead is converted, erased or not the contact's first lead"


def normalize_email(text: str) -> str:
    """An email as leads compare it: trimmed and lower-cased (``Li.Wei@Example.COM `` is ``li.wei@example.com``)."""
    return text.strip().lower()


def contact_key(kind: str, value: str) -> str:
    """A contact as its claim item names it: ``email:li.wei@example.com``, ``phone:+8613800138000``."""
    return f"{kind}:{value}"


@dataclass(frozen=True)
class Friend:
    """A friend as submitted, normalised: a name, an email or a phone (or both), a note for staff."""

    name: str
    email: str | None = None
    phone: str | None = None
    note: str | None = None

    def contacts(self) -> list[str]:
        """The contact keys this friend can be matched by, email first."""
        found = [contact_key(EMAIL, self.email)] if self.email else []
        return found + ([contact_key(PHONE, self.phone)] if self.phone else [])


def friend_of(name: str, email: str | None, phone: str | None, note: str | None, index: int) -> Friend:
    """A submitted friend normalised: the email trimmed and lower-cased, the phone in E.164 (``normalize_phone``,
    the members' rule: a number without a country code is China's). Neither, or a phone that cannot be one → 422."""
    mail = normalize_email(email) if email is not None and email.strip() else None
    number = None
    if phone is not None and phone.strip():
        number = normalize_phone(phone)
        if number is None:
            raise ValidationProblem("not a phone number: give it in E.164 (+8613800138000), or a Chinese number "
                                    "without +86", loc=["body", "friends", index, "phone"])
    if mail is None and number is None:
        raise ValidationProblem("each friend needs an email or a phone", loc=["body", "friends", index])
    return Friend(name.strip(), mail, number, note.strip() if note and note.strip() else None)


def check_form(friends: list[Friend], agreed: bool) -> None:
    """1–5 friends, none listed twice (by any contact), who agreed to be contacted (``friends_agreed``)."""
    if agreed is not True:
        raise ValidationProblem("friends_agreed must be true: list only friends who agreed to be contacted",
                                loc=["body", "friends_agreed"])
    if not 1 <= len(friends) <= MAX_FRIENDS:
        raise ValidationProblem(f"1–{MAX_FRIENDS} friends", loc=["body", "friends"])
    seen: set[str] = set()
    for index, friend in enumerate(friends):
        for contact in friend.contacts():
            if contact in seen:
                raise ValidationProblem(f"{contact.split(':', 1)[1]} is listed twice", loc=["body", "friends", index])
            seen.add(contact)


@dataclass(frozen=True)
class Lead:
    lead_id: str
    form_id: str
    submitter: str  # the member who listed the friend
    created_at: str
    status: str = NEW
    name: str | None = None  # None once erased (and for a friend who is already a member)
    email: str | None = None
    phone: str | None = None
    note: str | None = None  # the submitter's note
    staff_note: str | None = None
    updated_at: str | None = None
    updated_by: str | None = None
    duplicate_of: str | None = None  # the lead that listed the contact first
    converted_member_id: str | None = None
    converted_at: str | None = None
    erased_at: str | None = None
    version: int = 0

    @property
    def erasable(self) -> bool:
        """Whether its contact details are still kept and would be erased at 180 days (it did not convert)."""
        return self.status not in (CONVERTED, ERASED, ALREADY_MEMBER)

    def erase_due_at(self) -> datetime:
        return parse_rfc3339(self.created_at) + ERASE_AFTER

    def contacts(self) -> list[str]:
        return Friend(self.name or "", self.email, self.phone).contacts()


@dataclass(frozen=True)
class Form:
    """A submission: who sent it, its fingerprint (a replay's test) and its leads, in the order listed."""

    form_id: str
    submitter: str
    created_at: str
    fingerprint: str
    lead_ids: tuple[str, ...]


@dataclass(frozen=True)
class Submitted:
    """A form and its leads as they are now (the answer to a submission and to its replays)."""

    form: Form
    leads: tuple[Lead, ...]


@dataclass(frozen=True)
class Claim:
    """A contact's owner: the first lead that listed it, and the member that converted it (None: not yet)."""

    contact: str
    lead_id: str
    submitter: str
    claimed_at: str
    contacts: tuple[str, ...]  # every contact of the lead (a conversion marks all of their claims)
    converted_by: str | None = None


def request_of(submitter: str, friends: list[Friend]) -> dict[str, Any]:
    """What a submission means (its fingerprint tells a replay from a reused id)."""
    return {"submitter": submitter, "friends": [[f.name, f.email, f.phone, f.note] for f in friends]}


def lead_id_of(form_id: str, index: int) -> str:
    return f"{form_id}.{index + 1}"


def new_form(form_id: str, submitter: str, friends: list[Friend], now: datetime) -> tuple[Form, list[Lead]]:
    """The form and one ``new`` lead per friend (the write decides which are duplicates)."""
    at = to_rfc3339(now)
    ids = tuple(lead_id_of(form_id, i) for i in range(len(friends)))
    form = Form(form_id, submitter, at, fingerprint(request_of(submitter, friends)), ids)
    return form, [Lead(ids[i], form_id, submitter, at, NEW, f.name, f.email, f.phone, f.note)
                  for i, f in enumerate(friends)]


def same_submission(found: Form, asked: Form) -> Form:
    """The form a submission under an existing id answers: the one kept, if the body is the same."""
    if found.fingerprint != asked.fingerprint:
        raise IdempotencyMismatch(f"Form {found.form_id} was sent with another body.")
    return found


def as_duplicate(lead: Lead, first: str) -> Lead:
    return replace(lead, status=DUPLICATE, duplicate_of=first)


def as_member(lead: Lead) -> Lead:
    """A friend who is already a member: nothing of the contact is kept (the member's own profile has it)."""
    return replace(lead, status=ALREADY_MEMBER, name=None, email=None, phone=None, note=None,
                   erased_at=lead.created_at)


def worked(lead: Lead, status: str, note: str | None, by: str, now: datetime) -> tuple[Lead, bool]:
    """The lead as staff mark it (contacted or not interested, with a note), and whether that changed it: the same
    status and note again is a replay. A converted, erased, duplicate or already-member lead → ``409 lead-closed``."""
    if status not in STAFF_STATUSES:
        raise ValueError(status)
    if lead.status not in OPEN:
        raise LeadClosed(f"Lead {lead.lead_id} is {lead.status}.")
    note = note.strip() if note and note.strip() else None
    if lead.status == status and lead.staff_note == note:
        return lead, False
    return replace(lead, status=status, staff_note=note, updated_at=to_rfc3339(now), updated_by=by,
                   version=lead.version + 1), True


def erased(lead: Lead, now: datetime) -> Lead:
    """The lead's tombstone: its status and dates, none of the contact's details."""
    return replace(lead, status=ERASED, name=None, email=None, phone=None, note=None, staff_note=None,
                   erased_at=to_rfc3339(now), version=lead.version + 1)


def converted(lead: Lead, member_id: str, now: datetime) -> Lead:
    return replace(lead, status=CONVERTED, converted_member_id=member_id, converted_at=to_rfc3339(now),
                   version=lead.version + 1)


def first_claim(claims: list[Claim]) -> Claim | None:
    """Of the claims a sign-up's verified contacts found, the one that converts: not converted yet, the earliest
    claimed (the email's on a tie)."""
    open_claims = [c for c in claims if c.converted_by is None]
    return min(open_claims, key=lambda c: c.claimed_at) if open_claims else None


def erase_due(created_before: datetime) -> str:
    """The sort-key bound of leads whose 180 days are up at ``created_before + 180 days``."""
    return to_rfc3339(created_before)
