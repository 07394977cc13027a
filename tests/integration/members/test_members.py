"""Sign-up, the referral tree, reading members."""

from __future__ import annotations

import json
import re
from typing import Any

import jwt
import pytest

from loyalty.members.domain import CODE_ALPHABET
from tests.support import Api, dump_tables


def test_sign_up_gives_a_code_without_ambiguous_characters_and_a_link(api: Api) -> None:
    member = api.sign_up("li", locale="zh-CN", birthday="1990-05-01", marketing_opt_in=True, display_name="  Li ")
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", member["referral_code"])
    assert not set("01ILOU") & set(member["referral_code"])
    assert member["referral_link"].endswith(f"/r/{member['referral_code']}")
    assert (member["display_name"], member["birthday"], member["marketing_opt_in"], member["referrer_id"]) == (
        "Li", "1990-05-01", True, None)
    assert member["balances"]["points"] == {"available": 0, "pending": 0, "lifetime_earned": 0, "queued": 0,
                                            "expiring": []}
    assert member["balances"]["bundles"] == []
    me = api.call("GET", "/v1/members/me", as_="li")
    # the read adds the member's segment (docs/segments.md): D3 until a recompute has seen them
    assert me.status == 200 and me.body == {**member, "segment": {"class": "D", "grade": 3, "source": "computed",
                                                                  "computed_at": None}}


def test_codes_are_read_the_way_people_type_them(api: Api) -> None:
    code = api.sign_up("alice")["referral_code"]
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    bob = api.sign_up("bob", typed)
    assert bob["referrer_id"] == "alice"


def test_the_referrer_is_fixed_at_sign_up(api: Api) -> None:
    alice, _ = api.chain("alice", "bob")
    again = api.call("POST", "/v1/members", {"email": "bob@example.com", "display_name": "Bob",
                                             "referral_code": alice["referral_code"]}, as_="bob")
    assert again.slug == "member-exists"
    assert api.call("GET", "/v1/members/me", as_="bob").body["referrer_id"] == "alice"


def test_referral_tree_levels_direct_referrals_and_points(api: Api) -> None:
    api.chain("alice", "bob", "carol", "dan")
    alice = api.call("GET", "/v1/members/alice", as_="pos", groups=("staff",)).body
    api.sign_up("bea", alice["referral_code"])
    api.purchase("O-1", "carol", 20000)  # bob gets 20 (level 1), alice 10 (level 2)
    tree = api.call("GET", "/v1/members/me/referrals", as_="alice").body
    assert tree["levels"] == [{"level": 1, "members": 2}, {"level": 2, "members": 1}, {"level": 3, "members": 1}]
    assert sorted(d["member_id"] for d in tree["direct"]) == ["bea", "bob"]
    assert tree["points_from_referrals"] == 10
    assert tree["referral_code"] == alice["referral_code"]
    staff_view = api.call("GET", "/v1/members/alice/referrals", as_="pos", groups=("staff",))
    assert staff_view.body == tree
    assert api.call("GET", "/v1/members/alice/referrals", as_="bob").slug == "forbidden"


def test_the_tree_is_credited_ten_levels_deep_at_most(api: Api) -> None:
    subs = [f"m{i:02d}" for i in range(12)]
    api.chain(*subs)
    rates = [1000] * 10
    program = {"points_per_currency_unit": 10, "referral_rates_bps": rates, "hold_days": 0, "currency": "CNY"}
    assert api.call("PUT", "/v1/program", program, as_="boss", groups=("admin",)).status == 200
    credits = api.purchase("O-1", "m11", 10000).body["credits"]
    assert [(c["member_id"], c["level"], c["points"]) for c in credits] == [("m11", 0, 1000)] + [
        (f"m{11 - k:02d}", k, 100) for k in range(1, 11)]
    assert all(c["bucket"] == "available" and c["available_at"] is None for c in credits)
    assert api.points("m00")["available"] == 0  # eleven levels up: beyond the hard maximum
    assert api.points("m01")["available"] == 100


def test_staff_read_members_and_members_read_only_themselves(api: Api) -> None:
    api.chain("alice", "bob")
    assert api.call("GET", "/v1/members/bob", as_="pos", groups=("staff",)).status == 200
    assert api.call("GET", "/v1/members/bob", as_="boss", groups=("admin",)).status == 200
    assert api.call("GET", "/v1/members/bob", as_="bob").status == 200
    assert api.call("GET", "/v1/members/bob", as_="alice").status == 403


def _as(api: Api, sub: str, **claims: Any) -> dict[str, str]:
    """The Authorization header of a token minted with these claims (``POST /local/tokens``'s fields)."""
    groups = claims.pop("groups", [])
    return {"Authorization": f"Bearer {api.gateway.mint(sub, groups, **claims)['token']}"}


def test_the_members_email_and_phone_are_the_ones_the_token_verified(api: Api) -> None:
    headers = _as(api, "li", email="Li.Wei@Example.com", phone_number="+8613800138000")
    reply = api.call("POST", "/v1/members", {"email": "li.wei@example.com", "display_name": "Li"}, headers=headers)
    assert reply.status == 201, reply.body  # the same address, in another case
    assert reply.body["email"] == "Li.Wei@Example.com"  # as Cognito verified it
    [item] = [json.loads(i) for i in dump_tables()["MembersTable"] if '"PROFILE"' in i]
    assert (item["email"]["S"], item["phone_number"]["S"]) == ("Li.Wei@Example.com", "+8613800138000")


def test_a_sign_up_with_somebody_elses_email_is_refused_and_writes_nothing(api: Api) -> None:
    # Was: the body's email was stored, so anyone could sign up a victim's address (birthday today, opted in)
    # and have the shop write to the victim with the attacker's display name.
    before = dump_tables()
    for body_email in ("victim@example.com", "eve@example.com.evil"):
        reply = api.call("POST", "/v1/members", {"email": body_email, "display_name": "Eve", "marketing_opt_in": True,
                                                 "birthday": "1990-11-23"}, as_="eve")
        assert (reply.status, reply.slug) == (422, "email-not-verified"), reply.body
        assert reply.headers["content-type"] == "application/problem+json"
    # A token without a verified address cannot sign up with any.
    unverified = {"Authorization": "Bearer " + jwt.encode(
        {**jwt.decode(api.token("eve").split()[-1], options={"verify_signature": False}),
         "email": "eve@example.com", "email_verified": False}, api.gateway.secret, algorithm="HS256")}
    reply = api.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve"}, headers=unverified)
    assert (reply.status, reply.slug) == (422, "email-not-verified"), reply.body
    assert dump_tables() == before


@pytest.mark.parametrize("claims", [{"scope": "loyalty/pos"}, {"groups": ["partner"], "partner_id": "P-1"}],
                         ids=["the till", "a partner"])
def test_the_till_and_partners_are_not_members(api: Api, claims: dict[str, Any]) -> None:
    before = dump_tables()
    headers = _as(api, "machine-7", **claims)
    reply = api.call("POST", "/v1/members", {"email": "machine-7@example.com", "display_name": "Till"}, headers=headers)
    assert (reply.status, reply.slug) == (403, "forbidden"), reply.body
    assert api.call("GET", "/v1/members/me", headers=headers).status == 403
    assert dump_tables() == before


def test_a_drawn_unsubscribe_id_that_is_taken_is_drawn_again_and_never_re_points_a_link(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    from loyalty.members import usecases
    from loyalty.members.domain import new_unsubscribe_id

    taken = new_unsubscribe_id()
    draws = iter([taken, taken])  # Dan draws it, then Eve draws it too (a collision), then a fresh one
    monkeypatch.setattr(usecases, "new_unsubscribe_id", lambda: next(draws, None) or new_unsubscribe_id())
    api.sign_up("dan", marketing_opt_in=True)
    api.sign_up("eve", marketing_opt_in=True)  # was: Eve's sign-up re-pointed Dan's links to her
    client = boto3.client("dynamodb")
    table = next(t for t in client.list_tables()["TableNames"] if "Members" in t)

    def item(pk: str, sk: str) -> dict[str, Any]:
        return dict(client.get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}})["Item"])

    assert item(f"U#{taken}", "UNSUBSCRIBE")["member_id"] == {"S": "dan"}
    eves = item("M#eve", "PROFILE")["unsubscribe_id"]["S"]
    assert eves != taken and item(f"U#{eves}", "UNSUBSCRIBE")["member_id"] == {"S": "eve"}
