"""Members: sign up (optionally under a referrer), read a member, read the referral tree."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import SELF_OR_STAFF, SIGNED_IN
from loyalty.http.types import MemberIdInPath
from loyalty.members.http import Member, NewMember, ReferralTree
from loyalty.wiring import services

router = Router(tags=["Members"])


@router.operation("POST", "/v1/members", operation_id="signUp", summary="Sign up the caller as a member",
                  access=SIGNED_IN, ok=201, model=Member, body=True, refusals=(409,),
                  description="The member's email is the one the caller's token carries as verified (`email`, "
                              "`email_verified`); a body `email` that differs from it (ignoring case), or a token "
                              "without a verified email, is refused with `422 email-not-verified`. A verified "
                              "`phone_number` is kept too. The till and partners cannot sign up (`403`).")
def sign_up(body: NewMember) -> Response[Member]:
    s, caller = services(), router.caller()
    view = s.members.sign_up(
        member_id=caller.sub, email=caller.email, requested_email=body.email, phone_number=caller.phone_number,
        display_name=body.display_name,
        locale=body.locale or s.settings.default_locale, marketing_opt_in=body.marketing_opt_in,
        birthday=body.birthday.isoformat() if body.birthday else None, referral_code=body.referral_code,
        time_zone=body.time_zone,
    )
    return answer(Member, view, 201)


@router.operation("GET", "/v1/members/me", operation_id="readMe", summary="The caller's membership and balances",
                  access=SIGNED_IN, model=Member, refusals=(404,))
def read_me() -> Response[Member]:
    return answer(Member, services().members.get(router.caller().sub, queued=True))


@router.operation("GET", "/v1/members/me/referrals", operation_id="readMyReferrals",
                  summary="The caller's referral tree and what it earned", access=SIGNED_IN, model=ReferralTree,
                  refusals=(404,))
def read_my_referrals() -> Response[ReferralTree]:
    return answer(ReferralTree, services().members.referrals(router.caller().sub))


@router.operation("GET", "/v1/members/<member_id>", operation_id="readMember",
                  summary="A member (staff, or the member itself)", access=SELF_OR_STAFF, model=Member,
                  refusals=(404, 422))
def read_member(member_id: MemberIdInPath) -> Response[Member]:
    return answer(Member, services().members.get(member_id, queued=True))


@router.operation("GET", "/v1/members/<member_id>/referrals", operation_id="readReferrals",
                  summary="A member's referral tree (staff, or the member itself)", access=SELF_OR_STAFF,
                  model=ReferralTree, refusals=(404, 422))
def read_referrals(member_id: MemberIdInPath) -> Response[ReferralTree]:
    return answer(ReferralTree, services().members.referrals(member_id))


app = create_app(router)
handler = lambda_entry(app)
