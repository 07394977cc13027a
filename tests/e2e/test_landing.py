"""A referral link's landing page in a real browser (Debian's Chromium driven by Playwright) against `make run`'s
server: in the browser's language (zh-CN or English, its ``lang`` said), no serious or critical accessibility
violation (axe-core, in the page), no horizontal scrolling on a phone, no script, and the way into the app
carrying the code and the signed click id; the page of a link that does not work is accessible too."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.browsing import PHONE, accessible_and_fits

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

def _token(base_url: str, sub: str, groups: list[str], **claims: str) -> dict[str, str]:
    reply = requests.post(f"{base_url}/local/tokens", json={"sub": sub, "groups": groups, **claims}, timeout=10)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['token']}"}


@pytest.fixture(scope="module")
def link(base_url: str) -> dict[str, Any]:
    admin = _token(base_url, "owner", ["admin"])
    reply = requests.post(f"{base_url}/v1/partners", headers=admin, timeout=30, json={
        "partner_id": "P-wang", "name": "Wang's vlog", "email": "wang@example.com", "commission_bps": 500,
        "attribution_days": 30})
    assert reply.status_code == 201, reply.text
    reply = requests.post(f"{base_url}/v1/links", headers=_token(base_url, "wang", ["partner"], partner_id="P-wang"),
                          json={"link_id": "L-1", "campaign": "spring"}, timeout=30)
    assert reply.status_code == 201, reply.text
    made: dict[str, Any] = reply.json()
    return made


@pytest.mark.parametrize(("lang", "words"), [("zh-CN", "佣金"), ("en", "commission")])
def test_the_landing_page_is_accessible_in_both_languages(browser: Any, base_url: str, link: dict[str, Any],
                                                         lang: str, words: str) -> None:
    context = browser.new_context(viewport=PHONE, locale=lang)
    page = context.new_page()
    answer = page.goto(f"{base_url}/r/{link['code']}")
    assert answer is not None and answer.status == 200
    assert page.evaluate("document.documentElement.lang") == lang
    assert words in page.inner_text("aside")
    assert page.locator("script").count() == 0
    target = urlsplit(page.get_attribute("a.open", "href") or "")
    query = parse_qs(target.query)
    assert query["code"] == [link["code"]] and query["click_id"][0].startswith(link["code"] + ".")
    accessible_and_fits(page, f"the landing page ({lang})")

    typo = link["code"][:-1] + ("3" if link["code"].endswith("2") else "2")
    missing = page.goto(f"{base_url}/r/{typo}")
    assert missing is not None and missing.status == 404
    assert page.evaluate("document.documentElement.lang") == lang
    accessible_and_fits(page, f"the 404 page ({lang})")
    context.close()
