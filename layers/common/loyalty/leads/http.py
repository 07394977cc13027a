"""Leads' HTTP models: a member's form of friends, the leads staff list and work."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StringConstraints

from loyalty.http import examples
from loyalty.http.types import Answer, ClientId, Email, Name, Prose, Request, Timestamp
from loyalty.leads.domain import MAX_FRIENDS, MAX_NOTE

LeadIdInPath = Annotated[Annotated[str, StringConstraints(min_length=3, max_length=66,
                                                          pattern=r"^[A-Za-z0-9._:-]+\.[1-5]$")],
                         Path(description="`<form_id>.<n>`: the form's n-th friend (1–5)",
                              openapi_examples=examples.shown(examples.LEAD_ID, "The first friend on Li Wei's form"))]


class LeadStatus(StrEnum):
    """new: to contact; contacted / not_interested: staff worked it; converted: the friend signed up;
    duplicate: another member listed the contact first; already_member: the contact was a member's already;
    erased: its contact details were erased 180 days after it was sent."""

    NEW = "new"
    CONTACTED = "contacted"
    NOT_INTERESTED = "not_interested"
    CONVERTED = "converted"
    DUPLICATE = "duplicate"
    ALREADY_MEMBER = "already_member"
    ERASED = "erased"


Note = Annotated[Prose, StringConstraints(max_length=MAX_NOTE), Field(description=f"1–{MAX_NOTE} characters")]


class NewFriend(Request):
    name: Annotated[Name, StringConstraints(max_length=80), Field(examples=["Zhang Min"])]
    email: Email | None = Field(default=None, description="Trimmed and lower-cased; an email or a phone is needed")
    phone: Annotated[str, StringConstraints(min_length=3, max_length=32)] | None = Field(
        default=None, description="E.164 (`+8613900139000`); spaces, dashes and brackets are ignored, and a number "
                                  "without a country code is read as China's (+86)", examples=["+8613900139000"])
    note: Note | None = Field(default=None, description="For staff: what the friend may need")


class NewLeadForm(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"form_id": examples.LEAD_FORM_ID, "friends": [
            {"name": "Zhang Min", "phone": "139 0013 9000", "note": "Just bought a car; asks about waxing."},
            {"name": "Wang Fang", "email": "wang.fang@example.com"}], "friends_agreed": True}]})

    form_id: ClientId = Field(description="The client's id for this form, its idempotency key: the same body again "
                                          "answers the same; another body → 409. Unique per shop: a UUID is a good "
                                          "choice")
    friends: list[NewFriend] = Field(min_length=1, max_length=MAX_FRIENDS,
                                     description=f"1–{MAX_FRIENDS} friends, each listed once")
    friends_agreed: bool = Field(description="Must be true: the member confirms each friend agreed to be "
                                             "contacted by the shop (else 422)")


class LeadChange(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "contacted", "note": "Called; comes in on Saturday."}]})

    status: Literal["contacted", "not_interested"]
    note: Note | None = Field(default=None, description="Staff's note (replaces the one before)")


class MyLead(Answer):
    """A friend on the member's form as the member sees it."""

    lead_id: str
    name: str | None = Field(description="null once erased, or for a friend who is already a member")
    email: str | None
    phone: str | None
    status: LeadStatus


class LeadFormAnswer(Answer):
    form_id: str
    submitted_at: Timestamp
    leads: list[MyLead]

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(form_id=result.form.form_id, submitted_at=result.form.created_at, leads=[
            MyLead(lead_id=x.lead_id, name=x.name, email=x.email, phone=x.phone, status=x.status)
            for x in result.leads])


class LeadAnswer(Answer):
    """A lead as staff see it."""

    lead_id: str
    form_id: str
    submitted_by: str = Field(description="The member who listed the friend (their referrer if the friend signs up "
                                          "without a code)")
    submitted_at: Timestamp
    status: LeadStatus
    name: str | None = Field(description="null once erased (and for a friend who is already a member)")
    email: str | None
    phone: str | None
    note: str | None = Field(description="The submitter's note")
    staff_note: str | None
    updated_at: Timestamp | None
    updated_by: str | None
    duplicate_of: str | None = Field(description="The lead that listed the contact first")
    converted_member_id: str | None
    converted_at: Timestamp | None
    erased_at: Timestamp | None

    @classmethod
    def of(cls, lead: Any) -> Self:
        return cls(lead_id=lead.lead_id, form_id=lead.form_id, submitted_by=lead.submitter,
                   submitted_at=lead.created_at, status=lead.status, name=lead.name, email=lead.email,
                   phone=lead.phone, note=lead.note, staff_note=lead.staff_note, updated_at=lead.updated_at,
                   updated_by=lead.updated_by, duplicate_of=lead.duplicate_of,
                   converted_member_id=lead.converted_member_id, converted_at=lead.converted_at,
                   erased_at=lead.erased_at)


class LeadList(Answer):
    items: list[LeadAnswer]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")

    @classmethod
    def of(cls, result: Any) -> Self:
        found, after = result
        return cls(items=[LeadAnswer.of(x) for x in found], next_cursor=after)
