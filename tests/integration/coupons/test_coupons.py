"""Coupons over HTTP (API-additions, "Coupons"; docs/wallet.md): an admin publishes templates; staff issue coupons
(exactly once, never past the per-member limit), redeem them at the till (once, by the owner, above the minimum
spend, before expiry) and void a redemption within 15 minutes; sign-ups and birthdays issue them automatically.
Every refusal writes nothing."""

from __future__ import annotations

from typing import Any

from tests.support import Api, CallAs, Reply, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
ADMIN: CallAs = {"as_": "owner", "groups": ("admin",)}
DAY = 86_400


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers.get("content-type", "").startswith("application/problem+json")


def template(api: Api, template_id: str, **fields: Any) -> dict[str, Any]:
    body = {"name": template_id, "valid_days": 30, **fields}
    reply = api.call("PUT", f"/v1/coupon-templates/{template_id}", body, **ADMIN)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def issue(api: Api, issue_id: str, template_id: str, member_id: str) -> Reply:
    return api.call("POST", "/v1/coupons", {"issue_id": issue_id, "template_id": template_id,
                                            "member_id": member_id}, **STAFF)


def redeem(api: Api, code: str, redemption_id: str, member_id: str, subtotal_minor: int) -> Reply:
    return api.call("POST", f"/v1/coupons/{code}/redemptions", {
        "redemption_id": redemption_id, "member_id": member_id, "subtotal_minor": subtotal_minor}, **STAFF)


def coupons(api: Api, member_id: str) -> list[dict[str, Any]]:
    reply = api.call("GET", f"/v1/members/{member_id}/coupons", **STAFF)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def test_a_coupon_is_issued_once_used_once_by_its_owner_and_voided_within_15_minutes(api: Api) -> None:
    api.sign_up("ann")
    api.sign_up("bob")
    template(api, "twenty", amount_off_minor=2000, min_spend_minor=10000, per_member_limit=1)

    issued = issue(api, "I-1", "twenty", "ann")
    assert issued.status == 201, issued.body
    coupon = issued.body
    assert (coupon["status"], coupon["member_id"], coupon["used_at"]) == ("active", "ann", None)
    assert len(coupon["code"]) == 13 and coupon["expires_at"] == "2026-12-23T09:30:00Z"
    again = issue(api, "I-1", "twenty", "ann")
    assert (again.status, again.body) == (200, coupon)  # a replay: the first answer
    refused(issue(api, "I-1", "twenty", "bob"), 409, "idempotency-mismatch")

    before = dump_tables()
    refused(issue(api, "I-2", "twenty", "ann"), 409, "coupon-limit")  # one active at once
    refused(issue(api, "I-3", "none", "ann"), 404, "not-found")
    refused(issue(api, "I-4", "twenty", "nobody"), 404, "not-found")
    refused(redeem(api, coupon["code"], "S-1", "bob", 20000), 422, "coupon-not-applicable")  # another member's
    refused(redeem(api, coupon["code"], "S-1", "ann", 9999), 422, "coupon-not-applicable")  # below min spend
    refused(redeem(api, "2222222222222", "S-1", "ann", 20000), 404, "not-found")
    refused(redeem(api, "not a code", "S-1", "ann", 20000), 404, "not-found")
    assert dump_tables() == before

    used = redeem(api, coupon["code"].lower(), "S-1", "ann", 12900)  # any case
    assert used.status == 201 and used.body == {"redemption_id": "S-1", "code": coupon["code"], "discount_minor": 2000}
    assert redeem(api, coupon["code"], "S-1", "ann", 12900).status == 200  # a replay
    before = dump_tables()
    refused(redeem(api, coupon["code"], "S-2", "ann", 12900), 409, "coupon-used")
    assert dump_tables() == before
    [shown] = coupons(api, "ann")
    assert (shown["status"], shown["used_at"]) == ("used", "2026-11-23T09:30:00Z")

    # the slot is free again once it is used: a second coupon of the template
    second = issue(api, "I-5", "twenty", "ann")
    assert second.status == 201
    refused(issue(api, "I-6", "twenty", "ann"), 409, "coupon-limit")

    api.move_clock(14 * 60)
    voided = api.call("POST", "/v1/coupon-redemptions/S-1/void", **STAFF)
    assert voided.status == 200 and voided.body["code"] == coupon["code"]
    assert api.call("POST", "/v1/coupon-redemptions/S-1/void", **STAFF).body == voided.body  # idempotent
    assert [c["status"] for c in coupons(api, "ann")] == ["active", "active"]
    refused(redeem(api, coupon["code"], "S-1", "ann", 12900), 409, "redemption-voided")
    again_used = redeem(api, coupon["code"], "S-3", "ann", 12900)
    assert again_used.status == 201

    api.move_clock(16 * 60)
    before = dump_tables()
    refused(api.call("POST", "/v1/coupon-redemptions/S-3/void", **STAFF), 409, "void-window-passed")
    refused(api.call("POST", "/v1/coupon-redemptions/S-9/void", **STAFF), 404, "not-found")
    assert dump_tables() == before


def test_a_percentage_is_floored_and_capped_and_an_expired_coupon_gives_its_slot_back(api: Api) -> None:
    api.sign_up("ann")
    template(api, "tenpc", percent_off_bps=1000, max_off_minor=5000, valid_days=2, per_member_limit=1)
    first = issue(api, "I-1", "tenpc", "ann").body
    assert redeem(api, first["code"], "S-1", "ann", 12345).body["discount_minor"] == 1234  # floor(1234.5)
    second = issue(api, "I-2", "tenpc", "ann").body
    assert redeem(api, second["code"], "S-2", "ann", 900_000).body["discount_minor"] == 5000  # capped
    third = issue(api, "I-3", "tenpc", "ann").body
    refused(issue(api, "I-4", "tenpc", "ann"), 409, "coupon-limit")

    api.move_clock(2 * DAY)
    assert [c["status"] for c in coupons(api, "ann")][-1] == "expired"  # read at the moment of the request
    before = dump_tables()
    refused(redeem(api, third["code"], "S-3", "ann", 20000), 422, "coupon-not-applicable")
    assert dump_tables() == before
    fourth = issue(api, "I-4", "tenpc", "ann")  # the expired one's slot is given back by this write
    assert fourth.status == 201
    mine = api.call("GET", "/v1/members/me/coupons", as_="ann")
    assert [c["status"] for c in mine.body["items"]] == ["used", "used", "expired", "active"]


def test_templates_validate_and_list(api: Api) -> None:
    before = dump_tables()
    for body in ({"name": "x", "valid_days": 3},  # neither
                 {"name": "x", "valid_days": 3, "amount_off_minor": 1, "percent_off_bps": 1},  # both
                 {"name": "x", "valid_days": 3, "amount_off_minor": 1, "max_off_minor": 5},
                 {"name": "x", "valid_days": 3, "amount_off_minor": 1, "issue_on": "monday"}):
        refused(api.call("PUT", "/v1/coupon-templates/t", body, **ADMIN), 422, "validation-error")
    assert dump_tables() == before
    shown = template(api, "t", amount_off_minor=500)
    assert shown == {"template_id": "t", "name": "t", "amount_off_minor": 500, "percent_off_bps": None,
                     "max_off_minor": None, "min_spend_minor": 0, "valid_days": 30, "per_member_limit": None,
                     "issue_on": None}
    assert api.call("GET", "/v1/coupon-templates", **STAFF).body == {"items": [shown]}


def test_sign_ups_and_birthdays_issue_their_coupons_once(api: Api) -> None:
    ann = api.sign_up("ann")
    assert coupons(api, "ann") == []  # a fresh install: no automatic coupon
    template(api, "welcome", amount_off_minor=1000, issue_on="sign_up")
    template(api, "referred", amount_off_minor=2000, issue_on="referred_sign_up")
    template(api, "cake", amount_off_minor=3000, issue_on="birthday")
    api.sign_up("bob")
    api.sign_up("cat", ann["referral_code"], birthday="1990-11-24")
    assert [c["template_id"] for c in coupons(api, "bob")] == ["welcome"]
    assert sorted(c["template_id"] for c in coupons(api, "cat")) == ["referred", "welcome"]

    api.move_clock(DAY)  # 24 November in Shanghai: cat's birthday; the daily schedule ran on the way
    api.tick()
    api.tick()
    assert sorted(c["template_id"] for c in coupons(api, "cat")) == ["cake", "referred", "welcome"]
    assert [c["template_id"] for c in coupons(api, "bob")] == ["welcome"]


def test_a_member_born_on_29_february_gets_the_birthday_coupon_on_28_february_in_a_common_year(api: Api) -> None:
    api.sign_up("leap", birthday="2000-02-29")
    api.sign_up("march", birthday="2000-03-01")
    template(api, "cake", amount_off_minor=3000, issue_on="birthday", per_member_limit=1)
    # 2027-02-27 09:30 UTC; the daily runs at 00:00 UTC (08:00 in Shanghai) on the way
    api.move_clock(96 * DAY)
    assert coupons(api, "leap") == []
    api.move_clock(DAY)  # through 2027-02-28 00:00 UTC: 28 February in Shanghai
    [cake] = coupons(api, "leap")
    assert cake["template_id"] == "cake" and coupons(api, "march") == []
    api.move_clock(DAY)  # 1 March: march's, and no second one for leap
    assert len(coupons(api, "leap")) == 1 and len(coupons(api, "march")) == 1


def test_an_issue_replayed_after_its_coupon_expired_answers_its_first_answer(api: Api) -> None:
    """The replay reads its own coupon among the member's expired ones: it is not swept into its own write (one
    transaction may not touch an item twice, which DynamoDB refuses: a 500 before)."""
    template(api, "day", amount_off_minor=100, valid_days=1, per_member_limit=1)
    api.sign_up("ann")
    first = issue(api, "I-1", "day", "ann")
    assert first.status == 201, first.body
    api.move_clock(2 * DAY)
    again = issue(api, "I-1", "day", "ann")
    assert (again.status, again.body) == (200, first.body)
    assert issue(api, "I-2", "day", "ann").status == 201  # the expired one's slot was given back


def test_many_expired_coupons_give_their_slots_back_in_transactions_of_their_own(api: Api) -> None:
    """Under a large per-member limit a member may hold more expired coupons than one transaction can touch: they
    are swept in batches before the issue, which then counts only live coupons."""
    template(api, "many", amount_off_minor=100, valid_days=1, per_member_limit=120)
    api.sign_up("ann")
    for n in range(120):
        assert issue(api, f"M-{n}", "many", "ann").status == 201
    refused(issue(api, "M-over", "many", "ann"), 409, "coupon-limit")
    api.move_clock(2 * DAY)
    fresh = issue(api, "M-120", "many", "ann")
    assert fresh.status == 201, fresh.body
    statuses = [c["status"] for c in coupons(api, "ann")]
    assert statuses.count("expired") == 120 and statuses.count("active") == 1
    stored = [i for i in dump_tables()["WalletTable"] if '"status": {"S": "expired"}' in i]
    assert len(stored) == 120  # marked expired as stored, not only as read
