"""Leads (docs/leads.md, 转介绍表): a member lists friends who agreed to be contacted; staff work them as an inbox.
The service never writes to a lead; a sign-up that matches one makes its submitter the referrer."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import SIGNED_IN, STAFF_ONLY
from loyalty.leads.domain import friend_of
from loyalty.leads.http import LeadAnswer, LeadChange, LeadFormAnswer, LeadIdInPath, LeadList, LeadStatus, NewLeadForm
from loyalty.shared.errors import ValidationProblem
from loyalty.wiring import leads

router = Router(tags=["Leads"])

StatusQuery = Annotated[LeadStatus, Query(description="new (the inbox to work, oldest first) or another status (the "
                                                      "latest first)",
                                          openapi_examples=examples.shown("new", "The inbox to work"))]
PageSize = Annotated[int, Query(ge=1, le=100, description="Leads per page",
                                openapi_examples=examples.shown(20, "A page of 20"))]
# The example is a cursor of the shape the list gives (after the first friend on Li Wei's form, in the new inbox).
Cursor = Annotated[str | None, Query(max_length=600, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="next_cursor of the previous page of this list",
                                     openapi_examples=examples.shown(
                                         "eyJsaXN0ZWQiOiAiMjAyNi0xMS0yM1QwOTozMDowMFojbGYtMjAyNi0xMS0yMy0wMDAxLjEiLCAi"
                                         "cGsiOiAiTEVBRCNsZi0yMDI2LTExLTIzLTAwMDEuMSIsICJzayI6ICJMRUFEIiwgInN0YXR1cyI6"
                                         "ICJuZXcifQ",
                                         "After the first friend on Li Wei's form in the new inbox (an example: use "
                                         "the next_cursor a page gave)"))]


@router.operation("POST", "/v1/members/me/leads", operation_id="submitLeads",
                  summary="List friends who agreed to hear from the shop (转介绍表)", access=SIGNED_IN, ok=201,
                  model=LeadFormAnswer, replays=True, body=True, refusals=(404, 409),
                  description="1–5 friends, each with an email or a phone (or both), each listed once; "
                              "`friends_agreed` must be `true` (else `422`). Exactly once by `form_id`: the same body "
                              "again → `200` and the form's leads as they are now; another body under the id → "
                              "`409 idempotency-mismatch`. A friend whose email or phone a member has is kept as "
                              "`already_member`, without their details; one another lead listed first, as "
                              "`duplicate`. The shop's staff contact the others; the service never emails them. "
                              "A caller who is not a member yet → `404`.")
def submit_leads(body: NewLeadForm) -> Response[LeadFormAnswer]:
    friends = [friend_of(f.name, f.email, f.phone, f.note, n) for n, f in enumerate(body.friends)]
    created, kept = leads().submit(body.form_id, router.caller().sub, friends, body.friends_agreed)
    return answer(LeadFormAnswer, kept, 201 if created else 200)


@router.operation("GET", "/v1/leads", operation_id="listLeads", summary="Members' leads (staff)", access=STAFF_ONLY,
                  model=LeadList, refusals=(422,),
                  description="`status=new` (the default): the inbox, oldest first; any other status: the latest "
                              "first. Erased leads keep their status, dates and submitter, nothing of the contact.")
def list_leads(status: StatusQuery = LeadStatus.NEW, limit: PageSize = 50, cursor: Cursor = None) -> Response[LeadList]:
    try:
        found = leads().listed(status.value, limit=limit, cursor=cursor)
    except ValueError:
        raise ValidationProblem("This cursor was not given by this list.", loc=["query", "cursor"]) from None
    return answer(LeadList, found)


@router.operation("PATCH", "/v1/leads/<lead_id>", operation_id="workLead",
                  summary="Mark a lead contacted or not interested (staff)", access=STAFF_ONLY, model=LeadAnswer,
                  body=True, refusals=(404, 409),
                  description="With a note for the next person who picks it up. The same change again changes "
                              "nothing; a converted, erased, duplicate or already-member lead → `409 lead-closed`. "
                              "A lead marked not interested still converts if the friend signs up.")
def work_lead(lead_id: LeadIdInPath, body: LeadChange) -> Response[LeadAnswer]:
    return answer(LeadAnswer, leads().work(lead_id, body.status, body.note, router.caller().sub))


app = create_app(router)
handler = lambda_entry(app)
