"""Leads (issue 15, docs/leads.md) over HTTP: a member lists friends who agreed to be contacted; staff work them; a
sign-up with a lead's verified email or phone and no code gets the submitter as referrer and converts the lead once;
the submitter earns ``lead_converted`` at the new member's first purchase only; unconverted contact details are
erased at day 180, not 179; the service never emails a lead."""

from __future__ import annotations

from typing import Any

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, dump_tables

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000], "hold_days": 0, "currency": "CNY"}
HOUR, DAY = 3600, 86400


def publish(api: Api, **earning: Any) -> None:
    reply = api.call("PUT", "/v1/program", {**PLAIN, **earning}, **ADMIN)
    assert reply.status == 200, reply.body


def submit(api: Api, member: str, form_id: str, friends: list[dict[str, Any]], agreed: Any = True) -> Any:
    return api.call("POST", "/v1/members/me/leads", {"form_id": form_id, "friends": friends,
                                                     "friends_agreed": agreed}, as_=member)


def inbox(api: Api, status: str = "new") -> list[dict[str, Any]]:
    found = api.call("GET", f"/v1/leads?status={status}", **STAFF)
    assert found.status == 200, found.body
    return list(found.body["items"])


def sign_up_with(api: Api, sub: str, *, email: str | None = None, phone: str | None = None,
                 **body: Any) -> Any:
    token = api.gateway.mint(sub, [], email=email or f"{sub}@example.com", phone_number=phone)["token"]
    return api.call("POST", "/v1/members", {"email": email or f"{sub}@example.com", "display_name": sub.title(),
                                            **body}, headers={"authorization": f"Bearer {token}"})


def points(api: Api, member: str) -> int:
    found = api.call("GET", f"/v1/members/{member}", **STAFF)
    return int(found.body["balances"]["points"]["available"]) + int(found.body["balances"]["points"]["queued"])


def refused(call: Any, status: int, slug: str) -> None:
    before = dump_tables()
    answer = call()
    assert (answer.status, answer.slug) == (status, slug), answer.body
    assert dump_tables() == before


def test_a_form_is_kept_once_normalised_and_a_member_friend_keeps_nothing(api: Api, clock: FixedClock) -> None:
    api.sign_up("li")
    api.sign_up("wang")
    friends = [{"name": " Zhang Min ", "phone": "139 0013 9000", "note": "Asks about waxing."},
               {"name": "Zhao", "email": "  Zhao.Lei@Example.COM "},
               {"name": "Wang", "email": "WANG@example.com"}]  # a member already
    sent = submit(api, "li", "LF-1", friends)
    assert sent.status == 201, sent.body
    assert [(x["lead_id"], x["status"], x["email"], x["phone"]) for x in sent.body["leads"]] == [
        ("LF-1.1", "new", None, "+8613900139000"), ("LF-1.2", "new", "zhao.lei@example.com", None),
        ("LF-1.3", "already_member", None, None)]
    assert sent.body["leads"][0]["name"] == "Zhang Min" and sent.body["leads"][2]["name"] is None
    again = submit(api, "li", "LF-1", friends)
    assert (again.status, again.body) == (200, sent.body)
    refused(lambda: submit(api, "li", "LF-1", friends[:1]), 409, "idempotency-mismatch")
    refused(lambda: submit(api, "wang", "LF-1", friends), 409, "idempotency-mismatch")
    refused(lambda: submit(api, "li", "LF-2", friends, agreed=False), 422, "validation-error")
    refused(lambda: submit(api, "li", "LF-2", [{"name": "X"}]), 422, "validation-error")
    refused(lambda: submit(api, "li", "LF-2", [{"name": "X", "phone": "12"}]), 422, "validation-error")
    refused(lambda: submit(api, "li", "LF-2", [{"name": "X", "email": "a@b.cn"}] * 2), 422, "validation-error")
    refused(lambda: submit(api, "li", "LF-2", [{"name": f"F{n}", "email": f"f{n}@b.cn"} for n in range(6)]), 422,
            "validation-error")
    refused(lambda: submit(api, "nobody", "LF-3", friends[:1]), 404, "not-found")
    assert [x["lead_id"] for x in inbox(api)] == ["LF-1.1", "LF-1.2"]
    [member] = inbox(api, "already_member")
    assert member["lead_id"] == "LF-1.3" and member["email"] is None and member["submitted_by"] == "li"


def test_the_first_member_to_list_a_contact_owns_it(api: Api, clock: FixedClock) -> None:
    api.sign_up("li")
    api.sign_up("tom")
    assert submit(api, "li", "LF-1", [{"name": "Zhao", "email": "zhao@example.com"}]).status == 201
    clock.advance(60)
    later = submit(api, "tom", "LF-2", [{"name": "Zhao L.", "email": "ZHAO@example.com", "phone": "13900139000"},
                                        {"name": "Qian", "phone": "+86 139 0013 9001"}])
    assert [(x["status"]) for x in later.body["leads"]] == ["duplicate", "new"]
    [dup] = inbox(api, "duplicate")
    assert dup["duplicate_of"] == "LF-1.1"
    joined = sign_up_with(api, "zhao", email="zhao@example.com", phone="+8613900139000")
    assert joined.status == 201 and joined.body["referrer_id"] == "li"  # the first lead's submitter


def test_staff_work_the_inbox_oldest_first_with_cursors(api: Api, clock: FixedClock) -> None:
    api.sign_up("li")
    for n in range(3):
        submit(api, "li", f"LF-{n}", [{"name": f"F{n}", "email": f"f{n}@example.com"}])
        clock.advance(60)
    page = api.call("GET", "/v1/leads?status=new&limit=2", **STAFF).body
    rest = api.call("GET", f"/v1/leads?status=new&limit=2&cursor={page['next_cursor']}", **STAFF).body
    assert [x["lead_id"] for x in page["items"] + rest["items"]] == ["LF-0.1", "LF-1.1", "LF-2.1"]
    assert api.call("GET", "/v1/leads?status=contacted&cursor=" + page["next_cursor"], **STAFF).status == 422
    worked = api.call("PATCH", "/v1/leads/LF-0.1", {"status": "contacted", "note": "Comes Saturday."}, **STAFF)
    assert worked.status == 200 and (worked.body["status"], worked.body["staff_note"]) == (
        "contacted", "Comes Saturday.")
    assert worked.body["updated_by"] == "pos"
    assert api.call("PATCH", "/v1/leads/LF-0.1", {"status": "contacted", "note": "Comes Saturday."},
                    **STAFF).body == worked.body
    api.call("PATCH", "/v1/leads/LF-1.1", {"status": "not_interested"}, **STAFF)
    assert [x["lead_id"] for x in inbox(api)] == ["LF-2.1"]
    assert [x["lead_id"] for x in inbox(api, "contacted")] == ["LF-0.1"]
    refused(lambda: api.call("PATCH", "/v1/leads/LF-9.1", {"status": "contacted"}, **STAFF), 404, "not-found")
    refused(lambda: api.call("PATCH", "/v1/leads/LF-2.1", {"status": "converted"}, **STAFF), 422,
            "validation-error")
    assert api.call("GET", "/v1/leads", as_="li").status == 403


def test_a_sign_up_without_a_code_converts_and_the_first_purchase_earns_the_action_once(
        api: Api, clock: FixedClock) -> None:
    publish(api, actions={"lead_converted": {"points": 100}})
    api.sign_up("li")
    submit(api, "li", "LF-1", [{"name": "Zhang", "phone": "139 0013 9000"}])
    api.call("PATCH", "/v1/leads/LF-1.1", {"status": "not_interested"}, **STAFF)  # still converts
    joined = sign_up_with(api, "zhang", phone="+8613900139000")
    assert joined.status == 201 and joined.body["referrer_id"] == "li"
    [lead] = inbox(api, "converted")
    assert (lead["lead_id"], lead["converted_member_id"]) == ("LF-1.1", "zhang")
    assert lead["phone"] == "+8613900139000"  # a converted lead keeps its details
    before = points(api, "li")
    assert api.purchase("O-1", "zhang", 10000).status == 201
    api.move_clock(60)  # the poster posts the queued credits
    first = points(api, "li")
    assert first - before == 100 + 10  # the action, and 10 % of 100 points as the referrer
    assert api.purchase("O-2", "zhang", 10000).status == 201
    api.move_clock(60)
    assert points(api, "li") - first == 10  # the referral credit only: the action was the first purchase's
    entries = api.ledger("li")
    actions = [e for e in entries if e.get("rule") == "action:lead_converted"]
    assert len(actions) == 1 and actions[0]["amount"] == 100, entries
    counts = {a["action"]: a for a in api.call("GET", "/v1/members/li/actions", **STAFF).body["actions"]}
    assert counts["lead_converted"]["lifetime"] == 1


def test_a_sign_up_with_a_code_keeps_the_code_and_the_lead_does_not_convert(api: Api, clock: FixedClock) -> None:
    publish(api, actions={"lead_converted": {"points": 100}})
    api.sign_up("li")
    code = api.sign_up("tom")["referral_code"]
    submit(api, "li", "LF-1", [{"name": "Zhang", "email": "zhang@example.com"}])
    joined = sign_up_with(api, "zhang", referral_code=code)
    assert joined.status == 201 and joined.body["referrer_id"] == "tom"
    assert [x["lead_id"] for x in inbox(api)] == ["LF-1.1"] and inbox(api, "converted") == []
    assert api.purchase("O-1", "zhang", 10000).status == 201
    api.move_clock(60)
    assert points(api, "li") == 0


def test_two_sign_ups_of_one_lead_convert_it_once(api: Api, clock: FixedClock) -> None:
    api.sign_up("li")
    submit(api, "li", "LF-1", [{"name": "Zhang", "email": "zhang@example.com", "phone": "13900139000"}])
    first = sign_up_with(api, "zhang", email="zhang@example.com")
    second = sign_up_with(api, "zhang2", email="zhang2@example.com", phone="+8613900139000")
    assert first.body["referrer_id"] == "li" and second.body["referrer_id"] is None
    [lead] = inbox(api, "converted")
    assert lead["converted_member_id"] == "zhang"


def test_unconverted_contact_details_are_erased_at_day_180_not_179_and_no_lead_is_emailed(
        api: Api, clock: FixedClock) -> None:
    api.sign_up("li")
    submit(api, "li", "LF-1", [{"name": "Zhang", "email": "zhang@example.com", "note": "Likes red."},
                               {"name": "Zhao", "email": "zhao@example.com", "phone": "13900139001"}])
    sign_up_with(api, "zhao", email="zhao@example.com")  # converted: kept
    api.call("PATCH", "/v1/leads/LF-1.1", {"status": "contacted", "note": "Called Zhang."}, **STAFF)
    api.move_clock(179 * DAY)
    assert [x["name"] for x in inbox(api, "contacted")] == ["Zhang"]
    api.move_clock(DAY - HOUR)  # 180 days less an hour: still kept
    assert [x["name"] for x in inbox(api, "contacted")] == ["Zhang"]
    api.move_clock(2 * HOUR)  # 180 days have passed: the hourly schedule's next run erases it
    [tomb] = inbox(api, "erased")
    assert {k: tomb[k] for k in ("lead_id", "name", "email", "phone", "note", "staff_note", "submitted_by")} == {
        "lead_id": "LF-1.1", "name": None, "email": None, "phone": None, "note": None, "staff_note": None,
        "submitted_by": "li"}
    assert tomb["submitted_at"] and tomb["erased_at"]
    assert inbox(api, "contacted") == [] and [x["name"] for x in inbox(api, "converted")] == ["Zhao"]
    api.move_clock(DAY)  # again: nothing changes
    assert inbox(api, "erased") == [tomb]
    # the contact is free again: a new form may list it
    assert submit(api, "li", "LF-2", [{"name": "Zhang", "email": "zhang@example.com"}]).body["leads"][0][
        "status"] == "new"
    assert api.outbox("zhang@example.com") == []  # the service never writes to a lead
    assert [m for m in api.outbox() if "zhang" in m["to"]] == []
