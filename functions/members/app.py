"""Members: sign up (optionally under a referrer), read and change a member, read the referral tree; at the
counter, find a member and show the member's card."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.counter.http import MemberCard
from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import SELF_OR_STAFF, SIGNED_IN, STAFF_ONLY
from loyalty.http.types import MemberIdInPath
from loyalty.members.domain import MemberView
from loyalty.members.http import Member, MemberList, NewMember, ProfileChanges, ReferralTree
from loyalty.wiring import segments, services, settings


def _with_segment(view: MemberView) -> MemberView:
    """A member read shows the member's segment where segments are kept (docs/segments.md)."""
    if not settings().segments_table:
        return view
    return replace(view, segment=segments().of(view.member.member_id))

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
        time_zone=body.time_zone, requested_phone=body.phone, click_id=body.click_id, device_id=body.device_id,
        payment_fingerprint=body.payment_fingerprint,
    )
    return answer(Member, view, 201)


@router.operation("GET", "/v1/members", operation_id="findMembers", summary="Find a member at the counter (staff)",
                  access=STAFF_ONLY, model=MemberList, refusals=(422,),
                  description="Exactly one of `email` (any case), `phone` (E.164, or a Chinese number without "
                              "+86; spaces and dashes ignored), `referral_code` or `member_code` (the code on the "
                              "member's card today, scanned or typed); none or several → `422`. Every member that "
                              "matches exactly, or an empty list; a stale, mistyped or forged member code matches "
                              "nobody.")
def find_members(
    email: Annotated[str | None, Query(min_length=3, max_length=254, openapi_examples=examples.shown(
        examples.MEMBER_EMAIL, "Li Wei, by the address she signed up with"))] = None,
    phone: Annotated[str | None, Query(min_length=3, max_length=32, openapi_examples=examples.shown(
        examples.MEMBER_PHONE, f"{examples.ALTERNATIVE} phone, in any format (138 0013 8000 is the same)"))] = None,
    referral_code: Annotated[str | None, Query(min_length=1, max_length=32, openapi_examples=examples.shown(
        "K7Q2M9XD", f"{examples.ALTERNATIVE} referral code (any case; spaces and dashes ignored)"))] = None,
    member_code: Annotated[str | None, Query(min_length=1, max_length=32, openapi_examples=examples.shown(
        "K7Q2M9XD4F7H2K9", f"{examples.ALTERNATIVE} code on the member's card today (this one is stale: "
                           "it matches nobody)"))] = None,
) -> Response[MemberList]:
    query = {"email": email, "phone": phone, "referral_code": referral_code, "member_code": member_code}
    return answer(MemberList, services().counter.find(query))


@router.operation("PATCH", "/v1/members/me", operation_id="changeMe",
                  summary="Change the caller's profile (fields sent only)", access=SIGNED_IN, model=Member,
                  body=True, refusals=(404,),
                  description="`display_name` and `phone` (E.164; `null` removes it). Contact preferences are "
                              "`PATCH /v1/members/me/preferences`; the email is the verified one, not changed here.")
def change_me(body: ProfileChanges) -> Response[Member]:
    return answer(Member, services().members.update_profile(router.caller().sub, body.model_dump(exclude_unset=True)))


@router.operation("GET", "/v1/members/me/card", operation_id="readMyCard",
                  summary="The caller's member card: today's member code and its QR code", access=SIGNED_IN,
                  model=MemberCard, refusals=(404,))
def read_my_card() -> Response[MemberCard]:
    return answer(MemberCard, services().counter.card(router.caller().sub))


@router.operation("GET", "/v1/members/me", operation_id="readMe", summary="The caller's membership and balances",
                  access=SIGNED_IN, model=Member, refusals=(404,))
def read_me() -> Response[Member]:
    return answer(Member, _with_segment(services().members.get(router.caller().sub, queued=True)))


@router.operation("GET", "/v1/members/me/referrals", operation_id="readMyReferrals",
                  summary="The caller's referral tree and what it earned", access=SIGNED_IN, model=ReferralTree,
                  refusals=(404,))
def read_my_referrals() -> Response[ReferralTree]:
    return answer(ReferralTree, services().members.referrals(router.caller().sub))


@router.operation("GET", "/v1/members/<member_id>", operation_id="readMember",
                  summary="A member (staff, or the member itself)", access=SELF_OR_STAFF, model=Member,
                  refusals=(404, 422))
def read_member(member_id: MemberIdInPath) -> Response[Member]:
    return answer(Member, _with_segment(services().members.get(member_id, queued=True)))


@router.operation("GET", "/v1/members/<member_id>/referrals", operation_id="readReferrals",
                  summary="A member's referral tree (staff, or the member itself)", access=SELF_OR_STAFF,
                  model=ReferralTree, refusals=(404, 422))
def read_referrals(member_id: MemberIdInPath) -> Response[ReferralTree]:
    return answer(ReferralTree, services().members.referrals(member_id))


app = create_app(router)
handler = lambda_entry(app)
