"""Finding a member at the counter (API-additions): phones on members, staff look-ups, the member card and its
daily code, and staff redeeming a member's points with it. Every refusal is problem+json and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, Reply, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
# START is 09:30 UTC, 17:30 in Shanghai: local midnight is 6 h 30 min away.
TO_LOCAL_MIDNIGHT = 6 * 3600 + 30 * 60


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers["content-type"] == "application/problem+json"


def till(api: Api) -> str:
    return "Bearer " + api.gateway.mint("till-1", [], scope="loyalty/pos")["token"]


def find(api: Api, query: str, **caller: Any) -> Reply:
    return api.call("GET", f"/v1/members?{query}", **(caller or STAFF))


def found(api: Api, query: str) -> list[str]:
    reply = find(api, query)
    assert reply.status == 200, reply.body
    return [m["member_id"] for m in reply.body["items"]]


def card(api: Api, member: str) -> dict[str, Any]:
    reply = api.call("GET", "/v1/members/me/card", as_=member)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def give(api: Api, member: str, points: int) -> None:
    reply = api.call("POST", "/v1/adjustments", {"adjustment_id": f"A-{member}-{points}", "member_id": member,
                                                 "points": points, "reason": "welcome"}, **ADMIN)
    assert reply.status == 201, reply.body


def at_counter(api: Api, member: str, code: str, points: int = 30, key: str = "till-k-1", **caller: Any) -> Reply:
    body = {"points": points, "reward": "car wash", "member_id": member, "member_code": code}
    caller = dict(caller or STAFF)
    headers = {"Idempotency-Key": key, **caller.pop("headers", {})}
    return api.call("POST", "/v1/redemptions", body, headers=headers, **caller)


# -- phones -------------------------------------------------------------------------------------------------------

def test_sign_up_takes_a_phone_in_any_format_and_shows_it_in_e164(api: Api) -> None:
    assert api.sign_up("dan", phone="138 0013 8000")["phone"] == "+8613800138000"
    assert api.sign_up("bob")["phone"] is None
    assert api.call("GET", "/v1/members/me", as_="dan").body["phone"] == "+8613800138000"


def test_without_a_phone_in_the_body_the_verified_claim_is_the_members(api: Api) -> None:
    token = api.gateway.mint("eve", [], phone_number="+85291234567")["token"]
    reply = api.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve"},
                     headers={"Authorization": f"Bearer {token}"})
    assert reply.status == 201 and reply.body["phone"] == "+85291234567", reply.body


@pytest.mark.parametrize("phone", ["abc", "+0123", "1" * 20, "138 0013 800O", 13800138000])
def test_a_phone_that_cannot_be_one_is_refused_at_sign_up_and_nothing_is_written(api: Api, phone: Any) -> None:
    before = dump_tables()
    reply = api.call("POST", "/v1/members", {"email": "dan@example.com", "display_name": "Dan", "phone": phone},
                     as_="dan")
    refused(reply, 422, "validation-error")
    assert reply.body["errors"][0]["loc"][:2] == ["body", "phone"]
    assert dump_tables() == before


def test_a_member_changes_their_phone_and_name_and_the_referrers_tree_shows_the_new_name(api: Api) -> None:
    api.chain("alice", "dan")
    changed = api.call("PATCH", "/v1/members/me", {"display_name": "Dan Li", "phone": "+86 139 0000 1111"},
                       as_="dan")
    assert changed.status == 200, changed.body
    assert (changed.body["display_name"], changed.body["phone"]) == ("Dan Li", "+8613900001111")
    assert changed.body["balances"]["points"]["available"] == 0
    tree = api.call("GET", "/v1/members/me/referrals", as_="alice").body
    assert [d["display_name"] for d in tree["direct"]] == ["Dan Li"]
    assert found(api, "phone=13900001111") == ["dan"]

    removed = api.call("PATCH", "/v1/members/me", {"phone": None}, as_="dan")
    assert removed.status == 200 and removed.body["phone"] is None
    assert removed.body["display_name"] == "Dan Li"  # not sent: unchanged
    assert found(api, "phone=13900001111") == []
    assert api.call("PATCH", "/v1/members/me", {}, as_="dan").body["display_name"] == "Dan Li"


@pytest.mark.parametrize("body", [{"phone": "not a phone"}, {"display_name": None}, {"display_name": ""},
                                  {"display_name": "a\nb"}, {"email": "x@example.com"}, {"phone": 1},
                                  {"display_name": "x" * 81}])
def test_a_bad_profile_change_is_refused_and_nothing_is_written(api: Api, body: dict[str, Any]) -> None:
    api.sign_up("dan", phone="13800138000")
    before = dump_tables()
    refused(api.call("PATCH", "/v1/members/me", body, as_="dan"), 422, "validation-error")
    assert dump_tables() == before


def test_only_members_change_a_profile(api: Api) -> None:
    before = dump_tables()
    refused(api.call("PATCH", "/v1/members/me", {"display_name": "X"}, as_="nobody"), 404, "not-found")
    refused(api.call("PATCH", "/v1/members/me", {"display_name": "X"}, headers={"Authorization": till(api)}),
            403, "forbidden")
    assert dump_tables() == before


# -- look-ups -----------------------------------------------------------------------------------------------------

def test_staff_find_a_member_by_email_phone_referral_code_or_member_code(api: Api) -> None:
    token = api.gateway.mint("dan", [], email="Dan.Li@Example.com")["token"]  # as Cognito verified it
    dan = api.call("POST", "/v1/members", {"email": "dan.li@example.com", "display_name": "Dan",
                                           "phone": "13800138000"}, headers={"Authorization": f"Bearer {token}"}).body
    api.sign_up("bob", phone="+8613800138000")  # a shared family phone
    assert found(api, "email=dan.li@EXAMPLE.com") == ["dan"]
    assert found(api, "phone=%2B86%20138-0013-8000") == ["bob", "dan"]
    assert found(api, f"referral_code={dan['referral_code'].lower()}") == ["dan"]
    assert found(api, f"member_code={card(api, 'dan')['member_code']}") == ["dan"]
    member = find(api, "email=dan.li@example.com").body["items"][0]
    read = api.call("GET", "/v1/members/dan", **STAFF).body
    # a look-up's match is the member read without its segment (a read of the segments table, docs/segments.md)
    assert read.pop("segment") == {"class": "D", "grade": 3, "source": "computed", "computed_at": None}
    assert member == {**read, "balances": member["balances"]}
    assert member["balances"]["points"] == {"available": 0, "pending": 0, "lifetime_earned": 0, "expiring": []}


def test_the_till_and_admins_look_up_too(api: Api) -> None:
    api.sign_up("dan")
    assert find(api, "email=dan@example.com", headers={"Authorization": till(api)}).body["items"][0]["member_id"] \
        == "dan"
    assert [m["member_id"] for m in find(api, "email=dan@example.com", **ADMIN).body["items"]] == ["dan"]


def test_what_matches_nobody_is_an_empty_list(api: Api) -> None:
    dan = api.sign_up("dan", phone="13800138000")
    code = card(api, "dan")["member_code"]
    forged = code[:8] + ("2222222" if code[8:] != "2222222" else "3333333")
    for query in ("email=nobody@example.com", "phone=13800138001", "referral_code=ZZZZZZZZ", "referral_code=0",
                  f"member_code={forged}", f"member_code={dan['referral_code']}", "member_code=nonsense"):
        assert found(api, query) == [], query


@pytest.mark.parametrize("query", ["", "email=dan@example.com&phone=13800138000",
                                   "referral_code=K7Q2M9XD&member_code=K7Q2M9XD4F7H2K9", "phone=abc",
                                   "phone=1", "email=", "nickname=dan", "email=" + "x" * 300])
def test_none_several_or_a_bad_look_up_is_a_422(api: Api, query: str) -> None:
    api.sign_up("dan", phone="13800138000")
    refused(find(api, query), 422, "validation-error")


def test_members_cannot_look_members_up(api: Api) -> None:
    api.sign_up("dan")
    refused(find(api, "email=dan@example.com", as_="dan"), 403, "forbidden")
    refused(find(api, "", as_="dan"), 403, "forbidden")  # who may call comes before the query's checks


# -- the card -----------------------------------------------------------------------------------------------------

def test_the_card_shows_a_short_code_and_its_qr_code(api: Api) -> None:
    dan = api.sign_up("dan")
    shown = card(api, "dan")
    assert set(shown) == {"member_code", "qr_svg", "renews_at"}
    assert len(shown["member_code"]) <= 16 and shown["member_code"].startswith(dan["referral_code"])
    assert shown["qr_svg"].startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in shown["qr_svg"]
    assert shown["renews_at"] == "2026-11-23T16:00:00Z"  # local midnight in Shanghai
    assert card(api, "dan") == shown  # the same all day: nothing stored, recomputed


def test_only_a_member_has_a_card(api: Api) -> None:
    refused(api.call("GET", "/v1/members/me/card", as_="nobody"), 404, "not-found")
    refused(api.call("GET", "/v1/members/me/card", headers={"Authorization": till(api)}), 403, "forbidden")
    refused(api.call("GET", "/v1/members/me/card"), 401, "unauthorized")


def test_the_code_changes_at_local_midnight_and_the_old_one_works_for_an_hour(api: Api, clock: FixedClock) -> None:
    api.sign_up("dan")
    today = card(api, "dan")["member_code"]
    clock.advance(TO_LOCAL_MIDNIGHT + 30 * 60)  # 00:30 local
    tomorrow = card(api, "dan")
    assert tomorrow["member_code"] != today and tomorrow["renews_at"] == "2026-11-24T16:00:00Z"
    assert found(api, f"member_code={today}") == ["dan"]
    assert found(api, f"member_code={tomorrow['member_code']}") == ["dan"]
    clock.advance(30 * 60)  # 01:00 local
    assert found(api, f"member_code={today}") == []
    assert found(api, f"member_code={tomorrow['member_code']}") == ["dan"]


# -- redeeming at the counter ---------------------------------------------------------------------------------------

def test_staff_redeem_a_members_points_with_the_code_on_their_card(api: Api) -> None:
    api.sign_up("dan")
    give(api, "dan", 100)
    code = card(api, "dan")["member_code"]
    first = at_counter(api, "dan", code)
    assert first.status == 201, first.body
    assert first.body["points"] == 30 and first.body["balances"]["points"]["available"] == 70
    assert at_counter(api, "dan", code).body == first.body  # the retry: the first answer
    assert at_counter(api, "dan", code).status == 200
    assert api.points("dan")["available"] == 70
    newest = api.ledger("dan")[0]
    assert (newest["kind"], newest["amount"]) == ("redemption", -30)
    assert api.verify("dan")["balances_match"]
    # the till too, and the member's own redemptions are unchanged
    assert at_counter(api, "dan", code, key="till-k-2", headers={"Authorization": till(api)}).status == 201
    assert api.redeem("dan", 10, "app-k-1").status == 201
    assert api.points("dan")["available"] == 30


def test_a_wrong_or_stale_code_is_refused_and_nothing_is_written(api: Api, clock: FixedClock) -> None:
    api.sign_up("dan")
    api.sign_up("bob")
    give(api, "dan", 100)
    dans, bobs = card(api, "dan")["member_code"], card(api, "bob")["member_code"]
    before = dump_tables()
    for code in (bobs, dans[:-1] + ("2" if dans[-1] != "2" else "3"), "nonsense", dans[:8]):
        refused(at_counter(api, "dan", code), 422, "member-code-invalid")
    assert dump_tables() == before
    clock.advance(TO_LOCAL_MIDNIGHT + 3600)  # 01:00 local: yesterday's code is stale
    before = dump_tables()
    refused(at_counter(api, "dan", dans), 422, "member-code-invalid")
    assert dump_tables() == before
    assert at_counter(api, "dan", card(api, "dan")["member_code"]).status == 201


def test_a_member_cannot_redeem_for_someone_else_even_with_their_code(api: Api) -> None:
    api.sign_up("dan")
    api.sign_up("bob")
    give(api, "dan", 100)
    code = card(api, "dan")["member_code"]
    before = dump_tables()
    refused(at_counter(api, "dan", code, as_="bob"), 403, "forbidden")
    assert dump_tables() == before
    # naming itself with its own code is its own redemption
    assert at_counter(api, "dan", code, as_="dan").status == 201


@pytest.mark.parametrize("extra", [{"member_id": "dan"}, {"member_code": "K7Q2M9XD4F7H2K9"}, {"member_id": ""},
                                   {"member_id": "dan", "member_code": ""}, {"member_id": "a/b", "member_code": "x"}])
def test_member_id_and_member_code_go_together(api: Api, extra: dict[str, str]) -> None:
    api.sign_up("dan")
    give(api, "dan", 100)
    before = dump_tables()
    reply = api.call("POST", "/v1/redemptions", {"points": 10, "reward": "car wash", **extra},
                     headers={"Idempotency-Key": "k-1"}, **STAFF)
    refused(reply, 422, "validation-error")
    assert dump_tables() == before


def test_the_till_must_name_a_member_and_staff_without_one_redeem_their_own(api: Api) -> None:
    api.sign_up("pos")  # a staff person is a member too
    give(api, "pos", 50)
    before = dump_tables()
    reply = api.call("POST", "/v1/redemptions", {"points": 10, "reward": "car wash"},
                     headers={"Idempotency-Key": "k-1", "Authorization": till(api)})
    refused(reply, 422, "validation-error")
    assert reply.body["errors"][0]["loc"] == ["body", "member_id"]
    assert dump_tables() == before
    own = api.call("POST", "/v1/redemptions", {"points": 10, "reward": "car wash"},
                   headers={"Idempotency-Key": "k-1"}, **STAFF)
    assert own.status == 201 and own.body["balances"]["points"]["available"] == 40


def test_an_unknown_member_or_too_few_points_is_refused_and_nothing_is_written(api: Api) -> None:
    api.sign_up("dan")
    give(api, "dan", 10)
    code = card(api, "dan")["member_code"]
    before = dump_tables()
    refused(at_counter(api, "nobody", code), 404, "not-found")
    refused(at_counter(api, "dan", code, points=11), 409, "insufficient-points")
    assert dump_tables() == before
