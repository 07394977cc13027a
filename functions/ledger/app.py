"""The ledger as members, staff and auditors read it: pages of entries, chain verification, the latest anchor."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.anchoring.http import AnchorDigest
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY, SELF_OR_STAFF, SIGNED_IN
from loyalty.http.types import MemberIdInPath
from loyalty.ledger.http import Cursor, LedgerPage, LedgerVerification, Limit, ledger_page
from loyalty.shared.errors import NotFound
from loyalty.wiring import anchoring, services

router = Router(tags=["Ledger"])


def _page(member_id: str, limit: int, cursor: str | None) -> LedgerPage:
    s = services()
    page = ledger_page(s.ledger, member_id, limit, cursor)
    if not page.items and cursor is None:
        s.members.get(member_id)  # an empty first page of a non-member is a 404, not an empty ledger
    return page


@router.operation("GET", "/v1/members/me/ledger", operation_id="readMyLedger",
                  summary="The caller's ledger, newest first", access=SIGNED_IN, model=LedgerPage,
                  refusals=(404, 422))
def read_my_ledger(limit: Limit = 50, cursor: Cursor = None) -> Response[LedgerPage]:
    return answer(LedgerPage, _page(router.caller().sub, limit, cursor))


@router.operation("GET", "/v1/members/<member_id>/ledger", operation_id="readLedger",
                  summary="A member's ledger, newest first (staff, or self)", access=SELF_OR_STAFF,
                  model=LedgerPage, refusals=(404, 422))
def read_ledger(member_id: MemberIdInPath, limit: Limit = 50, cursor: Cursor = None) -> Response[LedgerPage]:
    return answer(LedgerPage, _page(member_id, limit, cursor))


@router.operation("GET", "/v1/members/<member_id>/ledger/verify", operation_id="verifyLedger",
                  summary="Verify a member's hash chain and balances (admin)", access=ADMIN_ONLY,
                  model=LedgerVerification, refusals=(404, 422))
def verify_ledger(member_id: MemberIdInPath) -> Response[LedgerVerification]:
    s = services()
    report = s.ledger.verify(member_id)
    if report.entries == 0:
        s.members.get(member_id)  # a non-member is a 404, not an empty chain
    return answer(LedgerVerification, report)


@router.operation("GET", "/v1/ledger/anchor", operation_id="readLatestAnchor",
                  summary="The latest digest of every chain head (admin)", access=ADMIN_ONLY, model=AnchorDigest,
                  refusals=(404,),
                  description="The whole-ledger check's latest publication (docs/anchoring.md): every hour the anchor "
                              "reads every chain's head and, if any moved, refuses to publish when a chain no "
                              "longer holds a head it published before, and otherwise writes their Merkle root to "
                              "the Object Lock bucket. Nothing is published while no head moves, so an old "
                              "`published_at` can be a quiet ledger; a failed or refused run raises the anchor's "
                              "alarm. `404` until the first digest.")
def read_latest_anchor() -> Response[AnchorDigest]:
    digest = anchoring().latest()
    if digest is None:
        raise NotFound("No digest has been published yet.")
    return answer(AnchorDigest, digest)


app = create_app(router)
handler = lambda_entry(app)
