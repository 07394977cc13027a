"""Limits on abuse at the HTTP edge: anonymous documents are small and cached, and can be switched off."""

from __future__ import annotations

import re

import pytest

from tests.support import Api


def test_the_docs_page_is_small_and_its_assets_are_cached_for_a_year(api: Api) -> None:
    page = api.call("GET", "/docs")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert len(page.body.encode() if isinstance(page.body, str) else page.body) < 4096  # was 1.8 MB, every time
    assets = re.findall(r'(?:href|src)="/docs/([^"]+)"', page.body)
    assert len(assets) == 2 and '"/openapi.json"' in page.body
    for asset in assets:
        reply = api.call("GET", f"/docs/{asset}")
        assert reply.status == 200, asset
        assert reply.headers["cache-control"] == "public, max-age=31536000, immutable"
        again = api.call("GET", f"/docs/{asset}", headers={"If-None-Match": reply.headers["etag"]})
        assert again.status == 304 and not again.body, asset
    missing = api.call("GET", "/docs/swagger-ui.css")
    assert (missing.status, missing.slug) == (404, "not-found")


@pytest.mark.parametrize("path", ["/docs", "/openapi.json"])
def test_documents_answer_304_to_a_client_that_has_them(api: Api, path: str) -> None:
    first = api.call("GET", path)
    assert first.status == 200 and first.headers["cache-control"] == "public, max-age=300"
    tag = first.headers["etag"]
    assert api.call("GET", path, headers={"If-None-Match": f'"other", {tag}'}).status == 304
    assert api.call("GET", path, headers={"If-None-Match": '"other"'}).status == 200


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/docs/anything.js"])
def test_a_stack_that_serves_no_docs_answers_404(api: Api, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERVE_DOCS", "false")
    reply = api.call("GET", path)
    assert (reply.status, reply.slug) == (404, "not-found"), reply.body
    # Unknown routes still answer problem+json from the same document (which the function still reads).
    assert api.call("POST", "/openapi.json").status == 405
