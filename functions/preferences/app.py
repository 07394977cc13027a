"""What members allow: their preferences, and one-click unsubscribe links that need no login."""

from __future__ import annotations

import html
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import caller, create_app, json_response, lambda_entry, responses
from loyalty.http.schemas import PreferencesIn, PreferencesOut
from loyalty.members import Member
from loyalty.wiring import outreach, services

router = APIGatewayHttpRouter()
Token = Annotated[str, Path(min_length=10, max_length=400, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")]
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 520px; margin: 3em auto;"><h1>{title}</h1>{body}</body></html>"""
LINK_PROBLEMS = {status: shown for status, shown in responses(200, PreferencesOut, 404).items() if status in (404, 422)}
UNSUBSCRIBED = "You will not receive marketing emails from us any more. / 您将不再收到我们的营销邮件。"


def _preferences(member: Member) -> dict[str, Any]:
    return {"marketing_opt_in": member.marketing_opt_in, "notices": member.notices, "locale": member.locale,
            "time_zone": member.time_zone, "birthday": member.birthday}


def _page(title: str, body: str) -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8",
                    body=PAGE.format(title=html.escape(title), body=body),
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.get("/v1/members/me/preferences", summary="The caller's contact preferences", tags=["Members"],
            responses=responses(200, PreferencesOut, 404))
def read_preferences() -> Response[PreferencesOut]:
    return json_response(_preferences(services().members.get(caller(router).sub).member))


@router.patch("/v1/members/me/preferences", summary="Change the caller's contact preferences (fields sent only)",
              tags=["Members"], responses=responses(200, PreferencesOut, 404))
def change_preferences(body: PreferencesIn) -> Response[PreferencesOut]:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("birthday") is not None:
        changes["birthday"] = changes["birthday"].isoformat()
    return json_response(_preferences(services().members.update_preferences(caller(router).sub, changes)))


@router.get("/u/<token>", summary="The page an unsubscribe link opens (no login)", tags=["Unsubscribe"],
            responses={**LINK_PROBLEMS, 200: {"description": "A page with a one-click button",
                                              "content": {"text/html": {"schema": {"type": "string"}}}}})
def unsubscribe_page(token: Token) -> Response[str]:
    outreach().member_for_token(token)  # a forged or damaged link is a 404, before anything is shown
    form = (f'<form method="post" action="/u/{html.escape(token)}"><p>{html.escape(UNSUBSCRIBED)}</p>'
            '<button type="submit">Unsubscribe / 退订</button></form>')
    return _page("Unsubscribe / 退订", form)


@router.post("/u/<token>", summary="One-click unsubscribe (RFC 8058 List-Unsubscribe-Post; no login)",
             tags=["Unsubscribe"],
             responses={**LINK_PROBLEMS, 200: {"description": "Unsubscribed",
                                               "content": {"text/html": {"schema": {"type": "string"}}}}})
def unsubscribe(token: Token) -> Response[str]:
    outreach().unsubscribe(token)
    return _page("Unsubscribed / 已退订", f"<p>{html.escape(UNSUBSCRIBED)}</p>")


app = create_app(router)
handler = lambda_entry(app, any_body_under=("/u/",))
