"""The HTTP edges every route shares: another method on a known path, unknown paths, UTF-8 answers."""

from __future__ import annotations

import json

import pytest

from tests.support import Api


@pytest.mark.parametrize(("method", "path", "allow"), [
    ("GET", "/v1/purchases", "POST"),
    ("DELETE", "/v1/program", "GET, PUT"),
    ("PUT", "/v1/members/dan", "GET"),
    ("POST", "/v1/members/me/preferences", "GET, PATCH"),
    ("POST", "/openapi.json", "GET"),
])
def test_a_known_path_with_another_method_answers_405_with_allow(api: Api, method: str, path: str,
                                                                 allow: str) -> None:
    reply = api.call(method, path, as_="pos", groups=("staff",))
    assert (reply.status, reply.slug) == (405, "method-not-allowed"), reply.body
    assert reply.headers["allow"] == allow
    assert reply.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("path", "allow"), [("/v1/purchases", "POST, OPTIONS"),
                                             ("/v1/members/dan", "GET, OPTIONS"),
                                             ("/v1/program", "GET, PUT, OPTIONS")])
def test_a_cors_preflight_of_a_known_path_answers_204_without_a_token(api: Api, path: str, allow: str) -> None:
    """The console's browser asks before each cross-origin call; the catch-all route (no authorizer) answers,
    and API Gateway adds the CORS headers."""
    reply = api.gateway.invoke("OPTIONS", path, {"origin": "https://console.example",
                                                 "access-control-request-method": "POST",
                                                 "access-control-request-headers": "authorization,content-type"}, b"")
    assert (reply[0], reply[1]["allow"], reply[2]) == (204, allow, b"")
    assert api.gateway.invoke("OPTIONS", "/v2/nothing", {}, b"")[0] == 404


@pytest.mark.parametrize("path", ["/v2/purchases", "/v1/purchases/O-1", "/v1/members/dan/ledger/extra", "/"])
def test_an_unknown_path_answers_404(api: Api, path: str) -> None:
    reply = api.call("GET", path)
    assert (reply.status, reply.slug) == (404, "not-found"), reply.body
    assert "allow" not in reply.headers


def test_answers_are_utf8_not_escaped(api: Api) -> None:
    api.sign_up("li", display_name="李伟")
    reply = api.gateway.invoke("GET", "/v1/members/li", {"authorization": f"Bearer {api.token('li')}"}, b"")
    raw = reply[2]
    assert "李伟".encode() in raw and b"\\u" not in raw
    assert json.loads(raw)["display_name"] == "李伟"


@pytest.mark.parametrize("name", ["Li\x00Wei", "Li\r\nBcc: x@example.com", "Li\nWei", "\u202eieW iL", "Li\x7f"])
def test_names_with_control_characters_are_refused(api: Api, name: str) -> None:
    reply = api.call("POST", "/v1/members", {"email": "li@example.com", "display_name": name}, as_="li")
    assert (reply.status, reply.slug) == (422, "validation-error"), reply.body
    assert reply.body["errors"][0]["loc"] == ["body", "display_name"]


def test_a_purchase_without_occurred_at_occurred_when_it_was_recorded(api: Api, clock: object) -> None:
    api.sign_up("dan")
    body = {"order_id": "O-1", "member_id": "dan", "amount_minor": 12900, "currency": "CNY"}
    first = api.call("POST", "/v1/purchases", body, as_="pos", groups=("staff",))
    assert first.status == 201, first.body
    assert first.body["occurred_at"] == "2026-11-23T09:30:00Z"  # the fixed clock's now
    again = api.call("POST", "/v1/purchases", body, as_="pos", groups=("staff",))
    assert (again.status, again.body) == (200, first.body)
    dated = api.call("POST", "/v1/purchases", {**body, "occurred_at": "2026-11-23T08:00:00Z"}, as_="pos",
                     groups=("staff",))
    assert (dated.status, dated.slug) == (409, "idempotency-mismatch")
