"""What members allow: their preferences, and one-click unsubscribe links that need no login."""

from __future__ import annotations

import html
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import PUBLIC, SIGNED_IN
from loyalty.members.http import PreferenceChanges, Preferences
from loyalty.wiring import outreach, services

router = Router(tags=["Members"])
Token = Annotated[str, Path(
    min_length=10, max_length=400, pattern=r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
    description="The token of an unsubscribe link: the last segment of the URL in an email's List-Unsubscribe header",
    openapi_examples=examples.shown(
        examples.UNSUBSCRIBE_TOKEN, "The example member's token, signed elsewhere: answers 404",
        "Tokens are signed with a secret only the service holds, so this one (made up) is refused with 404. "
        "A real one is in every marketing email's List-Unsubscribe header; an admin's preview of one "
        "(POST /v1/outreach/preview) shows it too."))]
PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 520px; margin: 3em auto;"><h1>{title}</h1>{body}</body></html>"""
HTML = {"text/html": {"schema": {"type": "string"}}}
UNSUBSCRIBED = "You will not receive marketing emails from us any more. / 您将不再收到我们的营销邮件。"
OUT_OF_DATE = ("This link is from an email sent before you last chose to hear from us, so it changes nothing: "
               "use the link in a newer email, or your preferences in the app. / 此链接来自您重新订阅之前的邮件,"
               "不会更改任何设置:请使用较新邮件中的链接,或在应用中修改偏好。")


def _page(title: str, body: str) -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8",
                    body=PAGE.format(title=html.escape(title), body=body),
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.operation("GET", "/v1/members/me/preferences", operation_id="readMyPreferences",
                  summary="The caller's contact preferences", access=SIGNED_IN, model=Preferences,
                  refusals=(404,))
def read_preferences() -> Response[Preferences]:
    return answer(Preferences, services().members.get(router.caller().sub).member)


@router.operation("PATCH", "/v1/members/me/preferences", operation_id="changeMyPreferences",
                  summary="Change the caller's contact preferences (fields sent only)", access=SIGNED_IN,
                  model=Preferences, body=True, refusals=(404,))
def change_preferences(body: PreferenceChanges) -> Response[Preferences]:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("birthday") is not None:
        changes["birthday"] = changes["birthday"].isoformat()
    return answer(Preferences, services().members.update_preferences(router.caller().sub, changes))


@router.operation("GET", "/u/<token>", operation_id="unsubscribePage",
                  summary="The page an unsubscribe link opens (no login)", access=PUBLIC,
                  ok_content=HTML, refusals=(404, 422))
def unsubscribe_page(token: Token) -> Response[str]:
    if not outreach().admin.link_is_current(token):  # a forged or damaged link is a 404, before anything is shown
        return _page("Link out of date / 链接已过期", f"<p>{html.escape(OUT_OF_DATE)}</p>")
    form = (f'<form method="post" action="/u/{html.escape(token)}"><p>{html.escape(UNSUBSCRIBED)}</p>'
            '<button type="submit">Unsubscribe / 退订</button></form>')
    return _page("Unsubscribe / 退订", form)


@router.operation("POST", "/u/<token>", operation_id="unsubscribe",
                  summary="One-click unsubscribe (RFC 8058 List-Unsubscribe-Post; no login)", access=PUBLIC,
                  ok_content=HTML, refusals=(404, 422))
def unsubscribe(token: Token) -> Response[str]:
    if not outreach().admin.unsubscribe(token):
        return _page("Link out of date / 链接已过期", f"<p>{html.escape(OUT_OF_DATE)}</p>")
    return _page("Unsubscribed / 已退订", f"<p>{html.escape(UNSUBSCRIBED)}</p>")


app = create_app(router)
handler = lambda_entry(app, any_body_under=("/u/",))
