"""The ledger as members, staff and auditors read it: pages of entries, and chain verification."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.errors import ValidationProblem
from loyalty.http.api import caller, create_app, decode_cursor, encode_cursor, json_response, lambda_entry, responses
from loyalty.http.schemas import LedgerPageOut, MemberId, VerificationOut
from loyalty.usecases.ledger import entry_body
from loyalty.wiring import services

router = APIGatewayHttpRouter()
TAGS = ["Ledger"]
Limit = Annotated[int, Query(ge=1, le=100, description="Entries per page")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]


def _page(member_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    before = None
    if cursor is not None:
        before = decode_cursor(cursor)
        if before is None:
            raise ValidationProblem("cursor is not one this service issued", loc=["query", "cursor"])
    s = services()
    page = s.ledger.page(member_id, limit=limit, before_seq=before)
    if not page.entries and before is None:
        s.members.get(member_id)  # an empty first page of a non-member is a 404, not an empty ledger
    return {
        "items": [entry_body(e) for e in page.entries],
        "next_cursor": encode_cursor(page.entries[-1].seq) if page.has_more else None,
    }


@router.get("/v1/members/me/ledger", summary="The caller's ledger, newest first", tags=TAGS,
            responses=responses(200, LedgerPageOut, 404))
def read_my_ledger(limit: Limit = 50, cursor: Cursor = None) -> Response[LedgerPageOut]:
    return json_response(_page(caller(router).sub, limit, cursor))


@router.get("/v1/members/<member_id>/ledger", summary="A member's ledger, newest first (staff, or self)",
            tags=TAGS, responses=responses(200, LedgerPageOut, 404))
def read_ledger(member_id: Annotated[MemberId, Path()], limit: Limit = 50,
                cursor: Cursor = None) -> Response[LedgerPageOut]:
    caller(router).require_self_or_staff(member_id)
    return json_response(_page(member_id, limit, cursor))


@router.get("/v1/members/<member_id>/ledger/verify", summary="Verify a member's hash chain and balances (admin)",
            tags=TAGS, responses=responses(200, VerificationOut, 404))
def verify_ledger(member_id: Annotated[MemberId, Path()]) -> Response[VerificationOut]:
    caller(router).require_admin()
    report = services().ledger.verify_member(member_id)
    return json_response({
        "member_id": report.member_id, "entries": report.entries, "chain_valid": report.chain_valid,
        "balances_match": report.balances_match, "head_hash": report.head_hash,
        "first_invalid_seq": report.first_invalid_seq, "problems": report.problems,
    })



app = create_app(router)
handler = lambda_entry(app)
