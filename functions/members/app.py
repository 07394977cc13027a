"""Members: sign up (optionally under a referrer), read a member, read the referral tree."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import caller, create_app, json_response, lambda_entry, responses
from loyalty.http.schemas import MemberId, MemberOut, ReferralsOut, SignUp
from loyalty.usecases.ledger import balances_body
from loyalty.usecases.members import MemberView
from loyalty.wiring import services

router = APIGatewayHttpRouter()
TAGS = ["Members"]


def _link(code: str) -> str:
    return f"{services().settings.referral_link_base}/r/{code}"


def _member_body(view: MemberView) -> dict[str, Any]:
    m = view.member
    return {
        "member_id": m.member_id, "email": m.email, "display_name": m.display_name,
        "referral_code": m.referral_code, "referral_link": _link(m.referral_code), "referrer_id": m.referrer_id,
        "joined_at": m.joined_at, "locale": m.locale, "marketing_opt_in": m.marketing_opt_in,
        "birthday": m.birthday, "time_zone": m.time_zone, "balances": balances_body(view.balances),
    }


def _referrals_body(member_id: str) -> dict[str, Any]:
    summary = services().members.referrals(member_id)
    return {
        "referral_code": summary.member.referral_code, "referral_link": _link(summary.member.referral_code),
        "levels": [{"level": level, "members": count} for level, count in sorted(summary.levels.items())],
        "direct": [{"member_id": r.member_id, "display_name": r.display_name, "joined_at": r.joined_at}
                   for r in summary.direct],
        "points_from_referrals": summary.points_from_referrals,
    }


@router.post("/v1/members", summary="Sign up the caller as a member", tags=TAGS,
             responses=responses(201, MemberOut, 409))
def sign_up(body: SignUp) -> Response[MemberOut]:
    who = caller(router)
    s = services()
    view = s.members.sign_up(
        member_id=who.sub, email=body.email, display_name=body.display_name,
        locale=body.locale or s.settings.default_locale, marketing_opt_in=body.marketing_opt_in,
        birthday=body.birthday.isoformat() if body.birthday else None, referral_code=body.referral_code,
        time_zone=body.time_zone,
    )
    return json_response(_member_body(view), 201)


@router.get("/v1/members/me", summary="The caller's membership and balances", tags=TAGS,
            responses=responses(200, MemberOut, 404))
def read_me() -> Response[MemberOut]:
    return json_response(_member_body(services().members.get(caller(router).sub)))


@router.get("/v1/members/me/referrals", summary="The caller's referral tree and what it earned", tags=TAGS,
            responses=responses(200, ReferralsOut, 404))
def read_my_referrals() -> Response[ReferralsOut]:
    return json_response(_referrals_body(caller(router).sub))


@router.get("/v1/members/<member_id>", summary="A member (staff, or the member itself)", tags=TAGS,
            responses=responses(200, MemberOut, 404))
def read_member(member_id: Annotated[MemberId, Path()]) -> Response[MemberOut]:
    caller(router).require_self_or_staff(member_id)
    return json_response(_member_body(services().members.get(member_id)))


@router.get("/v1/members/<member_id>/referrals", summary="A member's referral tree (staff, or the member itself)",
            tags=TAGS, responses=responses(200, ReferralsOut, 404))
def read_referrals(member_id: Annotated[MemberId, Path()]) -> Response[ReferralsOut]:
    caller(router).require_self_or_staff(member_id)
    return json_response(_referrals_body(member_id))


app = create_app(router)
handler = lambda_entry(app)
