"""A referral link's landing page (no login): counts the click, sets the signed click cookie, and shows the
offer, the owner's disclosure and the way into the app; the link's QR codes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import PUBLIC
from loyalty.partners.domain import CLICK_DAYS
from loyalty.partners.http import Landing
from loyalty.partners.landing import app_link, locale_for, missing_page, page
from loyalty.shared.errors import NotFound
from loyalty.wiring import partners, settings

router = Router(tags=["Referral links"])
CLICK_COOKIE = "ll_click"
Code = Annotated[str, Path(
    min_length=1, max_length=64,
    description="A link code (15 characters with a check) or a member's referral code (8); any case, dashes ignored",
    openapi_examples=examples.shown(
        examples.LINK_CODE, "A code of the right shape, checked under a key no server holds: answers 404",
        "Codes carry a check under a secret only the service holds, so this one is refused without a look-up. A "
        "real one is in the answer of POST /v1/links."))]
HTML = {"text/html": {"schema": {"type": "string"}}}
HTML_404 = {404: "an HTML page unless `format=json`"}
NOT_WORKING = "unknown, mistyped or forged: without format=json, an HTML page says so"
CACHED = "public, max-age=86400"  # a link's QR code never changes


def _html(status: int, body: str, **headers: str) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body,
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             "X-Content-Type-Options": "nosniff", **headers})


def _cookie(name: str) -> str | None:
    for cookie in router.current_event.cookies:
        key, _, value = cookie.strip().partition("=")
        if key == name:
            return value
    return None


@router.operation("GET", "/r/<code>", operation_id="landingPage", summary="A referral link's landing page (no login)",
                  access=PUBLIC, ok_content={**HTML, "application/json": {"model": Landing}}, refusals=(404, 422),
                  pages=HTML_404,
                  description="Counts the click (unique per visitor per day), sets an HttpOnly cookie with a signed "
                              "`click_id`, and answers the page (zh-CN or en by Accept-Language) with the offer, the "
                              "disclosure and a link into the app carrying `code` and `click_id`. `?format=json` "
                              f"answers the same as JSON. A code that is {NOT_WORKING}.")
def landing_page(code: Code, format: Annotated[Literal["json"] | None, Query(
        description="`json`: the landing as JSON instead of the page",
        openapi_examples=examples.shown("json", "The landing as JSON"))] = None) -> Response[Any]:
    s, event = settings(), router.current_event
    locale = locale_for(event.headers.get("accept-language"), s.default_locale)
    landing = partners().land(code, cookie=_cookie(CLICK_COOKIE), source_ip=event.request_context.http.source_ip,
                              user_agent=event.request_context.http.user_agent or "", locale=locale)
    if landing is None:
        if format == "json":
            raise NotFound("No such link.")
        return _html(404, missing_page(locale))
    cookie = Cookie(CLICK_COOKIE, landing.click_id, path="/", secure=True, http_only=True,
                    same_site=SameSite.LAX_MODE, max_age=CLICK_DAYS * 86400)
    offer = landing.offer
    response: Response[Any]
    if format == "json":
        response = answer(Landing, {
            "code": landing.link.code, "click_id": landing.click_id,
            "owner": {"type": landing.link.owner_type, "id": landing.link.owner_id},
            "offer": {"shop_name": offer.shop_name, "points_per_currency_unit": offer.points_per_currency_unit,
                      "currency": offer.currency, "text": offer.text(locale)}})
        response.headers["Cache-Control"] = "no-store"
    else:
        response = _html(200, page(locale=locale, shop=offer.shop_name, offer=offer.text(locale),
                                   disclosure=landing.disclosure, code=landing.link.code,
                                   link=app_link(s.app_link, landing.link.code, landing.click_id)),
                         **{"Content-Language": locale})
    response.cookies.append(cookie)
    return response


@router.operation("GET", "/r/<code>/qr.svg", operation_id="linkQrSvg", summary="A link's QR code as SVG (no login)",
                  access=PUBLIC, ok_content={"image/svg+xml": {"schema": {"type": "string"}}}, refusals=(404, 422),
                  description=f"The QR code of the link's URL, for print. A code that is {NOT_WORKING.split(':')[0]}: "
                              "404.")
def link_qr_svg(code: Code) -> Response[str]:
    from loyalty.partners.qr import qr_svg  # segno: imported by the QR routes only, when they answer

    link = partners().landing_of(code)
    return Response(status_code=200, content_type="image/svg+xml", body=qr_svg(partners().url(link.code)),
                    headers={"Cache-Control": CACHED})


@router.operation("GET", "/r/<code>/qr.png", operation_id="linkQrPng", summary="A link's QR code as PNG (no login)",
                  access=PUBLIC, ok_content={"image/png": {"schema": {"type": "string", "format": "binary"}}},
                  refusals=(404, 422),
                  description=f"The QR code of the link's URL, for chat apps. A code that is "
                              f"{NOT_WORKING.split(':')[0]}: 404.")
def link_qr_png(code: Code):
    # No return annotation: Powertools would serialise the body as JSON text; a PNG's bytes pass through as they are.
    from loyalty.partners.qr import qr_png

    link = partners().landing_of(code)
    return Response(status_code=200, content_type="image/png", body=qr_png(partners().url(link.code)),
                    headers={"Cache-Control": CACHED})


app = create_app(router)
handler = lambda_entry(app)
