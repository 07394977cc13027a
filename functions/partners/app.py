"""Partners and their referral links: an admin adds partners; partners and members make links (each with its
code, landing page and QR codes) and list their own; an admin sets what links must disclose."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry, written
from loyalty.http.auth import ADMIN_ONLY, ADMIN_OR_PARTNER, SIGNED_IN_OR_PARTNER, Caller
from loyalty.http.types import PeriodFrom, PeriodTo
from loyalty.ledger.http import Cursor, LedgerPage, LedgerVerification, Limit, ledger_page
from loyalty.partners.domain import MEMBER, PARTNER, LinkSettings, Owner
from loyalty.partners.http import (
    CommissionBalance,
    Link,
    LinkList,
    NewLink,
    NewPartner,
    NewPayout,
    Partner,
    PartnerIdInPath,
    PartnerList,
    PartnerReport,
    Payout,
)
from loyalty.partners.http import LinkSettings as LinkSettingsBody
from loyalty.partners.landing import locale_for
from loyalty.shared.errors import Forbidden
from loyalty.wiring import commission, partner_reports, partners, services, settings

router = Router(tags=["Partners"])


@router.operation("POST", "/v1/partners", operation_id="createPartner", summary="Add a partner (admin)",
                  access=ADMIN_ONLY, ok=201, model=Partner, replays=True, body=True, refusals=(409,),
                  description="Exactly once by `partner_id`: the same body again answers 200 with the first "
                              "answer, another body `409 idempotency-mismatch`. The partner signs in with the group "
                              "`partner` and the claim `partner_id`.")
def create_partner(body: NewPartner) -> Response[Partner]:
    return written(Partner, partners().create_partner(**body.model_dump()), "PartnerCreated")


@router.operation("GET", "/v1/partners", operation_id="listPartners", summary="Every partner (admin)",
                  access=ADMIN_ONLY, model=PartnerList)
def list_partners() -> Response[PartnerList]:
    return answer(PartnerList, {"items": partners().partners()})


@router.operation("GET", "/v1/partners/<partner_id>", operation_id="readPartner",
                  summary="A partner (admin, or the partner itself)", access=ADMIN_OR_PARTNER, model=Partner,
                  refusals=(404, 422),
                  description="Another partner gets `403` (as a member does for another member).")
def read_partner(partner_id: PartnerIdInPath) -> Response[Partner]:
    return answer(Partner, partners().partner(partner_id))


def _owner(caller: Caller, partner_id: str | None) -> Owner:
    """Whose link: the partner an admin names; else the calling partner's, else the calling person's own."""
    if partner_id is not None:
        if caller.is_admin or (caller.is_partner and caller.partner_id == partner_id):
            return Owner(PARTNER, partner_id)
        raise Forbidden("Only an admin names the partner of a link; a partner makes its own, a member its own.")
    if caller.is_partner and caller.partner_id is not None:
        return Owner(PARTNER, caller.partner_id)
    return Owner(MEMBER, caller.sub)


def _locale() -> str:
    return locale_for(router.current_event.headers.get("accept-language"), settings().default_locale)


@router.operation("POST", "/v1/links", operation_id="createLink",
                  summary="Make a referral link (a partner's or a member's own; admin: a partner's)",
                  access=SIGNED_IN_OR_PARTNER, ok=201, model=Link, replays=True, body=True, refusals=(404, 409),
                  description="Exactly once by the owner and `link_id`. A member must be one already (`404`); a "
                              "partner makes its own links, an admin names the partner with `partner_id` (anyone "
                              "else naming one: `403`). The answer has the code, the landing page's URL, the URLs "
                              "of its QR codes (SVG for print, PNG for chat apps) and the disclosure the owner "
                              "must show next to it.")
def create_link(body: NewLink) -> Response[Link]:
    owner = _owner(router.caller(), body.partner_id)
    outcome = partners().create_link(owner, link_id=body.link_id, campaign=body.campaign, sub_id=body.sub_id,
                                     locale=_locale())
    return written(Link, outcome, "LinkCreated")


@router.operation("GET", "/v1/links", operation_id="listLinks",
                  summary="The caller's referral links (admin: a partner's, with partner_id)",
                  access=SIGNED_IN_OR_PARTNER, model=LinkList, refusals=(422,))
def list_links(
    partner_id: Annotated[str | None, Query(min_length=1, max_length=128, openapi_examples=examples.shown(
        examples.PARTNER_ID, f"{examples.ALTERNATIVE} partner (admin only): the example partner's links"))] = None,
) -> Response[LinkList]:
    owner = _owner(router.caller(), partner_id)
    return answer(LinkList, {"items": partners().links(owner, _locale())})


@router.operation("GET", "/v1/links/settings", operation_id="readLinkSettings",
                  summary="What links must disclose, by owner type and locale (admin)", access=ADMIN_ONLY,
                  model=LinkSettingsBody)
def read_link_settings() -> Response[LinkSettingsBody]:
    return answer(LinkSettingsBody, partners().settings())


@router.operation("PUT", "/v1/links/settings", operation_id="changeLinkSettings",
                  summary="Set what links must disclose (admin)", access=ADMIN_ONLY, model=LinkSettingsBody,
                  body=True,
                  description="Replaces the texts given; each owner type keeps the default texts of the locales "
                              "the body leaves out (en and zh-CN ship).")
def change_link_settings(body: LinkSettingsBody) -> Response[LinkSettingsBody]:
    saved = partners().save_settings(LinkSettings({k: dict(v) for k, v in body.disclosures.items()}))
    return answer(LinkSettingsBody, saved)


@router.operation("GET", "/v1/partners/<partner_id>/commission", operation_id="readCommission",
                  summary="A partner's commission balance (admin, or the partner itself)", access=ADMIN_OR_PARTNER,
                  model=CommissionBalance, refusals=(404, 422))
def read_commission(partner_id: PartnerIdInPath) -> Response[CommissionBalance]:
    return answer(CommissionBalance, commission().balance(partner_id))


@router.operation("GET", "/v1/partners/<partner_id>/ledger", operation_id="readPartnerLedger",
                  summary="A partner's ledger, newest first (admin, or the partner itself)", access=ADMIN_OR_PARTNER,
                  model=LedgerPage, refusals=(404, 422),
                  description="The same shape as a member's ledger: the partner's hash-chained `commission` entries "
                              "(`member_id` is the chain's holder, `partner#<partner_id>`): commissions, releases, "
                              "refunds' reversals and payouts. Commission a purchase queued is posted within a "
                              "second or two, in batches (an entry whose `parts` list each order).")
def read_partner_ledger(partner_id: PartnerIdInPath, limit: Limit = 50, cursor: Cursor = None) -> Response[LedgerPage]:
    return answer(LedgerPage, ledger_page(services().ledger, commission().holder(partner_id), limit, cursor))


@router.operation("GET", "/v1/partners/<partner_id>/ledger/verify", operation_id="verifyPartnerLedger",
                  summary="Verify a partner's hash chain and balances (admin, or the partner itself)",
                  access=ADMIN_OR_PARTNER, model=LedgerVerification, refusals=(404, 422),
                  description="As for a member's chain: every entry's hash recomputed, each linked to the one before, "
                              "and the sums of the entries against the stored balances (`member_id` is the chain's "
                              "holder, `partner#<partner_id>`).")
def verify_partner_ledger(partner_id: PartnerIdInPath) -> Response[LedgerVerification]:
    return answer(LedgerVerification, services().ledger.verify(commission().holder(partner_id)))


@router.operation("POST", "/v1/partners/<partner_id>/payouts", operation_id="payOutCommission",
                  summary="Pay out a partner's available commission (admin)", access=ADMIN_ONLY, ok=201,
                  model=Payout, replays=True, body=True, refusals=(404, 409),
                  description="A `payout` entry on the partner's ledger, exactly once by `payout_id`. More than is "
                              "available now → `409 insufficient-commission`, nothing written (racing payouts "
                              "never take more than is there: the write's own condition settles it).")
def pay_out(partner_id: PartnerIdInPath, body: NewPayout) -> Response[Payout]:
    outcome = commission().pay_out(partner_id=partner_id, payout_id=body.payout_id, amount_minor=body.amount_minor,
                                   requested_by=router.caller().sub)
    return written(Payout, outcome, "CommissionPaidOut")


GroupBy = Annotated[Literal["day", "campaign", "sub_id"], Query(
    description="Rows by local day (every day of the period), by campaign or by sub-id",
    openapi_examples=examples.shown("campaign", "By campaign"))]
Format = Annotated[Literal["json", "csv"], Query(description="`csv`: the rows as CSV (text/csv), a header first",
                                                 openapi_examples=examples.shown("json", "JSON"))]


@router.operation("GET", "/v1/partners/<partner_id>/report", operation_id="readPartnerReport",
                  summary="A partner's clicks, sign-ups, sales and commission (admin, or the partner itself)",
                  access=ADMIN_OR_PARTNER, refusals=(404, 422),
                  ok_content={"application/json": {"model": PartnerReport}, "text/csv": {"schema": {"type": "string"}}},
                  description="By local day in the programme's time zone, campaign or sub-id; `format=csv` answers "
                              "the same rows as CSV. Clicks count as they happen; sign-ups, sales and commission "
                              "follow within seconds (counted from the streams). Commission is pending while its "
                              "hold lasts and available after, both net of refunds.")
def read_partner_report(partner_id: PartnerIdInPath, first: PeriodFrom = None, last: PeriodTo = None,
                        group_by: GroupBy = "day", format: Format = "json") -> Response[Any]:
    commission().holder(partner_id)  # an unknown partner is a 404, not an empty report
    report = partner_reports().report(partner_id, first, last, group_by)
    if format == "csv":
        from loyalty.partners.report import to_csv

        filename = f"{partner_id}-{report.period.first.isoformat()}-{report.period.last.isoformat()}-{group_by}.csv"
        return Response(status_code=200, content_type="text/csv; charset=utf-8", body=to_csv(report),
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})
    return answer(PartnerReport, report)


app = create_app(router)
handler = lambda_entry(app)
