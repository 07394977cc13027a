"""The landing page of a link: one small HTML document, no JavaScript, its CSS inline, in zh-CN or English.

Pure: it is given what to say (the offer, the disclosure, the code and the signed click id) and returns the page.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from loyalty.partners.domain import LOCALES, grouped

_TEXT = {
    "en": {"title": "{shop}: an invitation", "heading": "You're invited to {shop}",
           "open": "Open the app and join", "hint": "Signing up another way? Type this code when asked for a "
                                                     "referral code:",
           "missing": "This link does not work", "missing_text": "The link may be mistyped or no longer in use. "
                                                                  "Check it, or ask the person who shared it for a "
                                                                  "new one.",
           "disclosure": "Disclosure"},
    "zh-CN": {"title": "{shop}：邀请函", "heading": "邀请您加入{shop}", "open": "打开应用并加入",
              "hint": "通过其他方式注册？在填写推荐码时输入：", "missing": "此链接无效",
              "missing_text": "链接可能输入有误或已停用。请检查链接，或请分享者重新发送。", "disclosure": "披露"},
}
_STYLE = ("body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;margin:0;"
          "background:#f6f7f9;color:#1b1f24;line-height:1.5}main{max-width:32rem;margin:0 auto;padding:2rem 1.25rem}"
          "h1{font-size:1.6rem;margin:0 0 1rem}.offer{font-size:1.15rem}"
          ".open{display:inline-block;margin:1rem 0;padding:.8rem 1.4rem;background:#0b5cad;color:#fff;"
          "border-radius:.5rem;text-decoration:none;font-weight:600}.open:focus{outline:3px solid #f0b400}"
          ".code{font-family:ui-monospace,monospace;font-size:1.3rem;letter-spacing:.08em;font-weight:700}"
          ".disclosure{margin-top:2rem;padding:.75rem 1rem;border-left:4px solid #6b7280;background:#fff}")


def locale_for(accept_language: str | None, default: str) -> str:
    """zh-CN or en, whichever ``Accept-Language`` prefers first (by q), else ``default`` (if one of them)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        found = re.search(r"q=([0-9.]+)", params)
        try:
            quality = float(found.group(1)) if found else 1.0
        except ValueError:
            quality = 0.0
        language = tag.strip().lower()
        chosen = "zh-CN" if language.startswith("zh") else "en" if language.startswith("en") else None
        if chosen and quality > 0:
            ranked.append((-quality, position, chosen))
    if ranked:
        return min(ranked)[2]
    return default if default in LOCALES else "zh-CN"


def app_link(base: str, code: str, click_id: str) -> str:
    """The app link with the code and the click id added to its query."""
    parts = urlsplit(base)
    query = "&".join(q for q in (parts.query, urlencode({"code": code, "click_id": click_id})) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _document(locale: str, title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="robots" content="noindex"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>")


def page(*, locale: str, shop: str, offer: str, disclosure: str, code: str, link: str) -> str:
    """The landing page: the offer, the way into the app (with the code and click id), the code to type, and the
    owner's disclosure."""
    text = _TEXT[locale]
    e = html.escape
    body = (f"<h1>{e(text['heading'].format(shop=shop))}</h1>"
            f'<p class="offer">{e(offer)}</p>'
            f'<p><a class="open" href="{e(link)}">{e(text["open"])}</a></p>'
            f'<p>{e(text["hint"])} <span class="code">{e(grouped(code))}</span></p>'
            f'<aside class="disclosure" aria-label="{e(text["disclosure"])}"><p>{e(disclosure)}</p></aside>')
    return _document(locale, text["title"].format(shop=shop), body)


def missing_page(locale: str) -> str:
    """The page of a link that does not work (mistyped, forged, unknown)."""
    text = _TEXT[locale]
    return _document(locale, text["missing"], f"<h1>{html.escape(text['missing'])}</h1>"
                                              f"<p>{html.escape(text['missing_text'])}</p>")
