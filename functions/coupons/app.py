"""Coupons (docs/wallet.md, "Coupons"): an admin publishes templates; staff issue coupons, redeem them at the till
and void a redemption within 15 minutes; members read their own."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.coupons.http import (
    CodeInPath,
    Coupon,
    CouponList,
    CouponRedemption,
    CouponTemplate,
    CouponTemplateList,
    CouponTemplateTerms,
    CouponVoid,
    NewCoupon,
    NewCouponRedemption,
    RedemptionIdInPath,
    TemplateIdInPath,
)
from loyalty.http.api import Router, answer, create_app, lambda_entry, written
from loyalty.http.auth import ADMIN_ONLY, SIGNED_IN, STAFF_ONLY
from loyalty.http.types import MemberIdInPath
from loyalty.wiring import coupons

router = Router(tags=["Coupons"])


@router.operation("PUT", "/v1/coupon-templates/<template_id>", operation_id="putCouponTemplate",
                  summary="Publish or change a coupon template (admin)", access=ADMIN_ONLY, model=CouponTemplate,
                  body=True,
                  description="Exactly one of `amount_off_minor` and `percent_off_bps` (`max_off_minor` caps a "
                              "percentage). A change applies to coupons issued and used from then on; coupons "
                              "already issued keep their expiry. `issue_on` issues automatically: `sign_up` to every "
                              "new member, `referred_sign_up` to a referred one, `birthday` on the member's birthday "
                              "(the programme's time zone).")
def put_template(template_id: TemplateIdInPath, body: CouponTemplateTerms) -> Response[CouponTemplate]:
    return answer(CouponTemplate, coupons().put_template(body.template(template_id)))


@router.operation("GET", "/v1/coupon-templates", operation_id="listCouponTemplates",
                  summary="Every coupon template (staff)", access=STAFF_ONLY, model=CouponTemplateList)
def list_templates() -> Response[CouponTemplateList]:
    return answer(CouponTemplateList, {"items": coupons().templates()})


@router.operation("POST", "/v1/coupons", operation_id="issueCoupon", summary="Issue a coupon to a member (staff)",
                  access=STAFF_ONLY, ok=201, model=Coupon, replays=True, body=True, refusals=(404, 409),
                  description="Exactly once by `issue_id`. Past the template's `per_member_limit` (active coupons "
                              "of the template the member holds at once) → `409 coupon-limit`, nothing written. An "
                              "unknown template or member → `404`.")
def issue(body: NewCoupon) -> Response[Coupon]:
    outcome = coupons().issue(issue_id=body.issue_id, template_id=body.template_id, member_id=body.member_id,
                              by=router.caller().sub)
    return written(Coupon, outcome, "CouponIssued")


@router.operation("GET", "/v1/members/me/coupons", operation_id="listMyCoupons", summary="The caller's coupons",
                  access=SIGNED_IN, model=CouponList,
                  description="Oldest first; `status` is read at the moment of the request (`expired` once "
                              "`expires_at` has passed).")
def my_coupons() -> Response[CouponList]:
    return answer(CouponList, {"items": coupons().coupons(router.caller().sub)})


@router.operation("GET", "/v1/members/<member_id>/coupons", operation_id="listCoupons",
                  summary="A member's coupons (staff)", access=STAFF_ONLY, model=CouponList, refusals=(422,))
def member_coupons(member_id: MemberIdInPath) -> Response[CouponList]:
    return answer(CouponList, {"items": coupons().coupons(member_id)})


@router.operation("POST", "/v1/coupons/<code>/redemptions", operation_id="redeemCoupon",
                  summary="Use a coupon at the till (staff)", access=STAFF_ONLY, ok=201, model=CouponRedemption,
                  replays=True, body=True, refusals=(404, 409),
                  description="Once, by its owner, whatever races: `409 coupon-used`; `422 coupon-not-applicable` "
                              "(expired, another member's, below `min_spend_minor`); an unknown code → `404`. "
                              "Exactly once by `redemption_id`; a voided one → `409 redemption-voided`. "
                              "`discount_minor`: the amount off, or floor(subtotal × bps / 10000) capped by "
                              "`max_off_minor`, never above the subtotal.")
def redeem(code: CodeInPath, body: NewCouponRedemption) -> Response[CouponRedemption]:
    outcome = coupons().redeem(code=code, redemption_id=body.redemption_id, member_id=body.member_id,
                               subtotal_minor=body.subtotal_minor, by=router.caller().sub)
    return written(CouponRedemption, outcome, "CouponRedeemed")


@router.operation("POST", "/v1/coupon-redemptions/<redemption_id>/void", operation_id="voidCouponRedemption",
                  summary="Cancel a coupon's use within 15 minutes (staff)", access=STAFF_ONLY, model=CouponVoid,
                  refusals=(404, 409, 422),
                  description="A sale cancelled at the till: the coupon is active again and the redemption id "
                              "is spent (`409 redemption-voided`). Later than 15 minutes after the redemption → "
                              "`409 void-window-passed`. Voiding again answers 200 with the first void's answer.")
def void(redemption_id: RedemptionIdInPath) -> Response[CouponVoid]:
    return answer(CouponVoid, coupons().void(redemption_id, by=router.caller().sub).result)


app = create_app(router)
handler = lambda_entry(app)
