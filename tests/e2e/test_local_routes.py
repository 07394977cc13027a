"""The local-only routes over HTTP against `python -m localdev`, where they must behave like AWS: a burst of
connections, tokens that expire by the server's clock, delivery after each request, and a clock that does on
its way what AWS would have done in the time it skips."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests

from tests.e2e.conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
DAY = 86400
BURST = 300


def _now(http: Client) -> datetime:
    return datetime.fromisoformat(http("GET", "/local/clock").json()["now"].replace("Z", "+00:00"))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _token(base: str, **body: Any) -> requests.Response:
    return requests.post(f"{base}/local/tokens", json=body, timeout=10)


def test_a_burst_of_hundreds_of_connections_is_served(base_url: str) -> None:
    # Was: socketserver's listen backlog of 5; a burst of 20 clients already saw connections reset or time out.
    split = urlsplit(base_url)
    start = threading.Barrier(BURST)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def one() -> None:
        start.wait()
        try:
            connection = http.client.HTTPConnection(split.hostname or "127.0.0.1", split.port, timeout=10)
            connection.request("GET", "/local/clock")
            outcome = str(connection.getresponse().status)
            connection.close()
        except OSError as error:
            outcome = type(error).__name__
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == {"200": BURST}


def test_tokens_carry_cognitos_claims_and_expire_by_the_servers_clock(base_url: str) -> None:
    minted = _token(base_url, sub="pat", groups=["partner"], email="pat@example.com", phone_number="+8613800138000",
                    partner_id="P-1", scope="openid profile loyalty/partner")
    assert minted.status_code == 200, minted.text
    token = minted.json()["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert {k: claims[k] for k in ("sub", "cognito:groups", "email", "email_verified", "phone_number",
                                   "phone_number_verified", "partner_id", "scope")} == {
        "sub": "pat", "cognito:groups": ["partner"], "email": "pat@example.com", "email_verified": True,
        "phone_number": "+8613800138000", "phone_number_verified": True, "partner_id": "P-1",
        "scope": "openid profile loyalty/partner"}
    issued = datetime.fromtimestamp(claims["iat"], UTC)
    assert abs(issued - _now(Client(base_url))) < timedelta(minutes=1)  # the server's clock, not the machine's
    assert claims["exp"] - claims["iat"] == 12 * 3600 and _at(minted.json()["expires_at"]).timestamp() == claims["exp"]

    def me(bearer: str) -> int:
        return requests.get(f"{base_url}/v1/members/me", headers={"Authorization": f"Bearer {bearer}"},
                            timeout=10).status_code

    assert me(token) == 403  # valid, but a partner is not a member
    http = Client(base_url)
    http("POST", "/local/clock", body={"advance_seconds": 12 * 3600 - 60})
    assert me(token) == 403
    http("POST", "/local/clock", body={"advance_seconds": 61})  # 12 h + 1 s after minting
    assert me(token) == 401
    fresh = _token(base_url, sub="pat", groups=[]).json()["token"]
    assert me(fresh) == 404


def test_tokens_of_each_kind_of_caller(base_url: str) -> None:
    def claims(**body: Any) -> dict[str, Any]:
        reply = _token(base_url, **body)
        assert reply.status_code == 200, reply.text
        decoded: dict[str, Any] = jwt.decode(reply.json()["token"], options={"verify_signature": False})
        return decoded

    member = claims(sub="dan")
    assert (member["token_use"], member["cognito:groups"], member["email"], member["email_verified"]) == (
        "id", [], "dan@example.com", True)
    assert claims(sub="pos", groups=["staff"])["cognito:groups"] == ["staff"]  # MFA set up unless told otherwise
    # Without MFA: the groups the pre-token trigger leaves (the same function).
    assert claims(sub="boss", groups=["admin", "staff", "partner"], mfa=False)["cognito:groups"] == ["partner"]
    till = claims(sub="till-7", scope="loyalty/pos")
    assert {k: till[k] for k in ("sub", "client_id", "scope", "token_use")} == {
        "sub": "till-7", "client_id": "till-7", "scope": "loyalty/pos", "token_use": "access"}
    assert not {"cognito:groups", "email", "email_verified"} & set(till)


@pytest.mark.parametrize("body", [
    {"sub": "a", "mfa": "no"}, {"sub": "a", "mfa": 0},
    {"sub": "a", "groups": ["owner"]}, {"sub": "a", "groups": "staff"}, {"sub": "a", "groups": [["staff"]]},
    {"sub": "a b"}, {"sub": "a", "email": "not-an-email"}, {"sub": "a", "email": 7},
    {"sub": "a", "phone_number": "13800138000"}, {"sub": "a", "phone_number": "+0861380013800"},
    {"sub": "a", "phone_number": "+86 138 0013 8000"}, {"sub": "a", "phone_number": "+8613800138000123456"},
    {"sub": "a", "partner_id": ""}, {"sub": "a", "partner_id": "P 1"}, {"sub": "a", "scope": "a  b"},
    {"sub": "a", "scope": ["a", "b"]}, {"sub": "a", "scope": 'say "hi"'}, {"sub": "a", "scope": ""},
])
def test_malformed_token_requests_are_refused(base_url: str, body: dict[str, Any]) -> None:
    reply = _token(base_url, **body)
    assert reply.status_code == 422 and reply.headers["content-type"] == "application/problem+json", body
    assert reply.json()["status"] == 422 and reply.json()["type"].endswith("/validation-error")


def _to_the_next_2am_utc(http: Client) -> datetime:
    """02:00 UTC tomorrow: 10:00 in Shanghai, inside the sending window."""
    now = _now(http)
    start = (now + timedelta(days=1)).replace(hour=2, minute=0, second=0)
    http("POST", "/local/clock", body={"advance_seconds": int((start - now).total_seconds())})
    return start


def test_what_a_request_caused_is_delivered_before_the_next_request(base_url: str) -> None:
    http = Client(base_url)
    _to_the_next_2am_utc(http)
    admin = http.login("owner", "admin")
    http.login("cam")
    body = {"email": "cam@example.com", "display_name": "Cam", "marketing_opt_in": True, "time_zone": "Asia/Shanghai"}
    assert http("POST", "/v1/members", "cam", body).status_code == 201
    campaign = {"campaign_id": "C-E2E", "headline": {"en": "Expert day"}, "message": {"en": "Saturday."}}
    assert http("POST", "/v1/outreach/campaigns", admin, campaign).status_code == 202
    # No tick: the fan-out queue, the send queue and the sender ran before the next request was served.
    sent = [m["subject"] for m in http("GET", "/local/outbox").json()["items"] if m["to"] == "cam@example.com"]
    assert sent == ["Expert day"]


def test_a_purchase_then_three_days_of_clock_is_what_aws_would_have_sent(base_url: str) -> None:
    http = Client(base_url)
    staff = http.login("pos-1", "staff")
    _to_the_next_2am_utc(http)
    http.login("dora")
    body = {"email": "dora@example.com", "display_name": "Dora", "marketing_opt_in": True,
            "time_zone": "Asia/Shanghai", "locale": "en"}
    assert http("POST", "/v1/members", "dora", body).status_code == 201
    bought = _now(http)
    purchase = {"order_id": "E2E-CLOCK-1", "member_id": "dora", "amount_minor": 12900, "currency": "CNY",
                "occurred_at": bought.isoformat().replace("+00:00", "Z")}
    assert http("POST", "/v1/purchases", staff, purchase).status_code == 201

    moved = http("POST", "/local/clock", body={"advance_seconds": 3 * DAY})  # one move, no tick
    assert moved.status_code == 200
    assert _at(moved.json()["now"]) >= bought + timedelta(days=3)

    mail = [m for m in http("GET", "/local/outbox").json()["items"] if m["to"] == "dora@example.com"]
    assert [m["subject"] for m in mail] == ["Thank you for your purchase, Dora", "How are you settling in, Dora?"]
    first_slot = bought.replace(minute=bought.minute - bought.minute % 5, second=0) + timedelta(minutes=5)
    thanks, greeting = (_at(m["sent_at"]) for m in mail)
    assert timedelta(0) <= thanks - first_slot < timedelta(seconds=5)  # the first dispatch after the purchase
    # Two days after the purchase, at the first dispatch from then (a slot on the 5-minute grid).
    assert timedelta(0) <= greeting - (bought + timedelta(days=2)) < timedelta(minutes=5, seconds=5)
    assert greeting.minute % 5 == 0 and greeting.second < 5
    assert 9 <= greeting.astimezone(ZoneInfo("Asia/Shanghai")).hour < 20
    log = {(m["kind"], m["occasion"]): m["status"]
           for m in http("GET", "/v1/members/dora/messages", staff).json()["items"]}
    assert log == {("thank_you", "E2E-CLOCK-1"): "sent", ("greeting", "E2E-CLOCK-1"): "sent"}

    # A year on, what was left goes out on the way; the move takes seconds, not the hours of 100,000 slots.
    started = time.perf_counter()
    assert http("POST", "/local/clock", body={"advance_seconds": 365 * DAY}).status_code == 200
    print(f"a year of the local server's clock: {time.perf_counter() - started:.2f} s")
    subjects = [m["subject"] for m in http("GET", "/local/outbox").json()["items"] if m["to"] == "dora@example.com"]
    assert sorted(subjects[2:4]) == ["129 points are now yours to spend", "How is it going with your purchase?"]
    assert subjects[4:] == ["We miss you, Dora"]
