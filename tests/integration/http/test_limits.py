"""Limits on abuse at the HTTP edge: anonymous documents are small and cached, and can be switched off."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support import Api, dump_tables

DOCUMENT = Path(__file__).resolve().parents[3] / "functions" / "docs" / "openapi.json"


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


def _long_items(count: int) -> list[dict[str, object]]:
    """Items at their longest: 200-character names (in Chinese, 3 bytes a character), 64-character SKUs."""
    return [{"sku": f"SKU-{n:03d}-" + "X" * 56, "name": "洗" * 200, "category": "c" * 64, "quantity": 10_000,
             "amount_minor": 1} for n in range(count)]


def test_a_body_over_its_routes_limit_is_refused_413_before_it_is_read(api: Api) -> None:
    api.sign_up("dan")
    before = dump_tables()
    big = {"email": "li@example.com", "display_name": "Li", "padding": "x" * 17_000}  # would be a 422 if parsed
    reply = api.call("POST", "/v1/members", big, as_="li")
    assert (reply.status, reply.slug) == (413, "payload-too-large"), reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    assert "16384 bytes" in reply.body["detail"]
    huge = {"order_id": "O-1", "member_id": "dan", "amount_minor": 100, "currency": "CNY",
            "items": _long_items(200), "note": "y" * 300_000}
    reply = api.call("POST", "/v1/purchases", huge, as_="pos", groups=("staff",))
    assert (reply.status, reply.slug) == (413, "payload-too-large"), reply.body
    assert dump_tables() == before


def test_a_purchase_with_200_items_at_their_longest_fits_its_limit(api: Api) -> None:
    api.sign_up("dan")
    body = {"order_id": "O-1", "member_id": "dan", "amount_minor": 100, "currency": "CNY", "items": _long_items(200)}
    size = len(json.dumps(body).encode())  # as most clients send it: \u escapes, 6 bytes a character
    assert 256 * 1024 < size < 512 * 1024
    reply = api.call("POST", "/v1/purchases", body, as_="pos", groups=("staff",))
    assert reply.status == 201, reply.body
    too_many = api.purchase("O-2", "dan", 100, items=_long_items(201))
    assert (too_many.status, too_many.slug) == (422, "validation-error")


def test_every_route_that_reads_a_body_documents_its_limit() -> None:
    document = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                limit = operation["x-max-body-bytes"]
                assert f"larger than {limit} bytes" in operation["responses"]["413"]["description"], (method, path)
            else:
                assert "x-max-body-bytes" not in operation, (method, path)
