"""Screening over HTTP (API-additions, "Partners and referral links", screening; docs/screening.md): a referee who
signs up on the referrer's phone, with the referrer's phone number, or pays with the referrer's card has the
referrer's credit held for review (pending, never freed by time); staff approve it (it matures as usual) or reject
it (what is left is reversed), once; refunds reverse out of the review's lot, or follow the decision; a review
left open 14 days is approved by the schedule. Honest referees are not held. Every refusal writes nothing."""

from __future__ import annotations

from typing import Any

from tests.support import Api, CallAs, Reply, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
DAY = 86_400


def held_credit(reply: Reply, member_id: str) -> dict[str, Any]:
    assert reply.status == 201, reply.body
    return next(c for c in reply.body["credits"] if c["member_id"] == member_id)


def open_reviews(api: Api) -> list[dict[str, Any]]:
    reply = api.call("GET", "/v1/reviews?status=open", **STAFF)
    assert reply.status == 200, reply.body
    return list(reply.body["items"])


def decide(api: Api, review_id: str, decision: str, note: str = "checked the receipts") -> Reply:
    return api.call("POST", f"/v1/reviews/{review_id}/decision", {"decision": decision, "note": note}, **STAFF)


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers.get("content-type", "").startswith("application/problem+json")


def test_a_referee_on_the_referrers_phone_holds_the_credit_until_staff_approve_it(api: Api) -> None:
    ann = api.sign_up("ann", device_id="iphone-ann")
    honest = api.sign_up("dan", ann["referral_code"], device_id="pixel-dan")
    api.sign_up("bob", ann["referral_code"], device_id="iphone-ann")  # signed up on ann's phone
    assert honest["referrer_id"] == "ann"

    fine = held_credit(api.purchase("O-dan", "dan", 12900), "ann")
    assert "review_id" not in fine
    bought = api.purchase("O-bob", "bob", 12900)
    credit = held_credit(bought, "ann")
    assert credit["bucket"] == "pending" and credit["review_id"].startswith("rv_")
    assert "review_id" not in held_credit(bought, "bob")  # the buyer's own points are never held

    [review] = open_reviews(api)
    assert review["review_id"] == credit["review_id"] and review["member_id"] == "ann"
    assert (review["reasons"], review["score"], review["status"]) == (["same_device"], 60, "open")
    assert review["credit"]["amount"] == credit["points"] and review["credit"]["order_id"] == "O-bob"
    assert review["credit"]["buyer_id"] == "bob" and review["credit"]["level"] == 1

    pending = api.points("ann")["pending"]
    assert pending == fine["points"] + credit["points"]
    back = api.refund("O-bob", "R-1", 4300)  # a third back: reversed out of the review's lot
    assert back.status == 201
    left = credit["points"] - credit["points"] * 4300 // 12900
    shown = api.call("GET", f"/v1/reviews/{credit['review_id']}", **STAFF).body
    assert shown["credit"]["held"] == left

    api.move_clock(8 * DAY)  # the hold has ended: dan's credit is free, the held one is not
    points = api.points("ann")
    assert (points["available"], points["pending"]) == (fine["points"], left)

    approved = decide(api, credit["review_id"], "approve")
    assert approved.status == 200 and approved.body["status"] == "approved"
    assert approved.body["decided_by"] == "pos" and approved.body["note"] == "checked the receipts"
    points = api.points("ann")
    assert (points["available"], points["pending"]) == (fine["points"] + left, 0)
    assert open_reviews(api) == []

    before = dump_tables()
    refused(decide(api, credit["review_id"], "reject"), 409, "review-closed")
    refused(decide(api, credit["review_id"], "approve"), 409, "review-closed")
    assert dump_tables() == before

    entries = [(e["kind"], e["amount"], e["bucket"], e.get("review")) for e in api.ledger("ann")]
    rid = credit["review_id"]
    assert ("referral", credit["points"], "pending", rid) in entries
    assert ("refund", -(credit["points"] - left), "pending", rid) in entries
    assert ("release", -left, "pending", rid) in entries and ("release", left, "available", None) in entries
    assert api.verify("ann")["chain_valid"] and api.verify("ann")["balances_match"]
    decided = api.call("GET", "/v1/reviews?status=decided", **STAFF).body["items"]
    assert [r["review_id"] for r in decided] == [rid]


def test_a_rejected_credit_is_reversed_and_later_refunds_take_nothing_more(api: Api) -> None:
    ann = api.sign_up("ann", phone="+8613800138000")
    api.sign_up("carl", ann["referral_code"], phone="+8613800138000")  # the referrer's own number
    credit = held_credit(api.purchase("O-carl", "carl", 12900), "ann")
    [review] = open_reviews(api)
    assert review["reasons"] == ["same_phone"] and review["score"] == 100
    earned = api.points("ann")["lifetime_earned"]

    rejected = decide(api, credit["review_id"], "reject", "same person, two accounts")
    assert rejected.status == 200 and rejected.body["status"] == "rejected"
    points = api.points("ann")
    assert (points["pending"], points["available"]) == (0, 0)
    assert points["lifetime_earned"] == earned - credit["points"]

    assert api.refund("O-carl", "R-1", 12900).status == 201  # the buyer's points go; ann's are gone already
    points = api.points("ann")
    assert (points["pending"], points["available"], points["lifetime_earned"]) == (0, 0, 0)
    assert [(e["kind"], e["amount"]) for e in reversed(api.ledger("ann"))] == [("referral", credit["points"]),
                                                                                ("referral", -credit["points"])]
    assert api.verify("ann")["balances_match"]


def test_a_purchase_paid_with_the_referrers_card_is_held(api: Api) -> None:
    ann = api.sign_up("ann")
    assert api.purchase("O-ann", "ann", 5000, payment_fingerprint="fp-ann-visa").status == 201
    api.sign_up("eve", ann["referral_code"])
    assert "review_id" not in held_credit(api.purchase("O-eve-1", "eve", 5000, payment_fingerprint="fp-eve"), "ann")
    credit = held_credit(api.purchase("O-eve-2", "eve", 5000, payment_fingerprint="fp-ann-visa"), "ann")
    [review] = open_reviews(api)
    assert review["review_id"] == credit["review_id"] and review["reasons"] == ["same_card"]


def test_a_decision_before_the_credit_is_posted_sends_it_where_the_decision_says(api: Api) -> None:
    ann = api.sign_up("ann", device_id="tablet")
    api.sign_up("bob", ann["referral_code"], device_id="tablet")
    api.sign_up("cat", ann["referral_code"], device_id="tablet")
    with api.poster_held():
        approve = held_credit(api.purchase("O-bob", "bob", 12900), "ann")
        reject = held_credit(api.purchase("O-cat", "cat", 12900), "ann")
        assert decide(api, approve["review_id"], "approve").status == 200
        assert decide(api, reject["review_id"], "reject").status == 200
        assert api.queued("ann")["queued"] == approve["points"] + reject["points"]
        api.move_clock(3600)  # the anchor publishes while ann's account holds only the decisions, no entry
    api.move_clock(3600)  # … and again once the credits are posted: ann's chain is new, not rewritten
    anchor = api.call("GET", "/v1/ledger/anchor", as_="boss", groups=("admin",))
    assert anchor.status == 200 and anchor.body["published_at"] == "2026-11-23T11:00:00Z", anchor.body
    points = api.points("ann")
    assert (points["pending"], points["available"]) == (approve["points"], 0)  # held as usual, then free
    api.move_clock(8 * DAY)
    assert api.points("ann")["available"] == approve["points"]
    assert api.verify("ann")["balances_match"] and api.verify("ann")["chain_valid"]


def test_a_review_left_open_fourteen_days_is_approved_by_the_schedule(api: Api) -> None:
    ann = api.sign_up("ann", device_id="tablet")
    api.sign_up("bob", ann["referral_code"], device_id="tablet")
    credit = held_credit(api.purchase("O-bob", "bob", 12900), "ann")
    api.move_clock(13 * DAY)
    assert [r["review_id"] for r in open_reviews(api)] == [credit["review_id"]]
    api.move_clock(2 * DAY)
    assert open_reviews(api) == []
    shown = api.call("GET", f"/v1/reviews/{credit['review_id']}", **STAFF).body
    assert (shown["status"], shown["decided_by"]) == ("approved", "system:review-deadline")
    assert api.points("ann")["available"] == credit["points"]


def test_refusals_write_nothing(api: Api) -> None:
    ann = api.sign_up("ann", device_id="tablet")
    api.sign_up("bob", ann["referral_code"], device_id="tablet")
    credit = held_credit(api.purchase("O-bob", "bob", 12900), "ann")
    before = dump_tables()
    refused(decide(api, "rv_" + "0" * 24, "approve"), 404, "not-found")
    refused(api.call("POST", f"/v1/reviews/{credit['review_id']}/decision", {"decision": "maybe", "note": "x"},
                     **STAFF), 422, "validation-error")
    refused(api.call("POST", f"/v1/reviews/{credit['review_id']}/decision", {"decision": "approve"}, **STAFF),
            422, "validation-error")
    refused(api.call("GET", "/v1/reviews/not-a-review", **STAFF), 422, "validation-error")
    refused(api.call("GET", "/v1/reviews?cursor=%21%21", **STAFF), 422, "validation-error")
    refused(api.call("POST", f"/v1/reviews/{credit['review_id']}/decision", {"decision": "approve", "note": "mine"},
                     as_="ann"), 403, "forbidden")
    assert api.call("GET", "/v1/reviews", as_="ann").status == 403
    assert dump_tables() == before


def test_a_partners_held_commission_is_pending_in_its_report_until_decided(api: Api) -> None:
    """A partner signing up through its own link (the partner's mailbox): the commission is held; the report shows it
    pending past its usual hold while the review is open, available once approved, reversed once rejected."""
    from tests.integration.partners.test_partners import ADMIN, partner_link

    code = partner_link(api)["code"]
    api.sign_up("wang", code)  # wang@example.com: the partner's own address
    first = api.purchase("O-w1", "wang", 10000)
    second = api.purchase("O-w2", "wang", 20000)
    held = [p.body["commission"] for p in (first, second)]
    assert [c["amount_minor"] for c in held] == [500, 1000] and all("review_id" in c for c in held)
    [one, two] = [c["review_id"] for c in held]
    [review, _] = open_reviews(api)
    assert review["member_id"] == "partner#P-wang" and review["credit"]["partner_id"] == "P-wang"
    assert review["reasons"] == ["same_email"]

    def row() -> dict[str, Any]:
        reply = api.call("GET", "/v1/partners/P-wang/report?from=2026-11-23&to=2026-12-31&group_by=campaign", **ADMIN)
        assert reply.status == 200, reply.body
        [found] = reply.body["rows"]
        return {k: found[k] for k in ("commission_pending_minor", "commission_available_minor",
                                      "commission_reversed_minor")}

    api.move_clock(8 * 86_400)  # past the usual hold: still pending, under review
    assert row() == {"commission_pending_minor": 1500, "commission_available_minor": 0,
                     "commission_reversed_minor": 0}
    assert api.refund("O-w2", "R-1", 5000).status == 201  # a quarter back while under review
    assert decide(api, one, "approve").status == 200
    assert decide(api, two, "reject", "the partner's own purchases").status == 200
    assert row() == {"commission_pending_minor": 0, "commission_available_minor": 500,
                     "commission_reversed_minor": 1000}
    commission = api.call("GET", "/v1/partners/P-wang/commission", **ADMIN).body
    assert (commission["available"], commission["pending"], commission["lifetime_earned"]) == (500, 0, 500)
