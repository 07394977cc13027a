"""Who may do what: every route of the template × every kind of caller gets exactly the contract's
answer, a refused request writes nothing, and no member reads or changes another member's data.

Callers: no token, a garbage token, a well-formed token signed with another secret (claiming
admin), an unsigned token (``alg: none``, claiming admin), an expired token, the member itself
(``dan``), another member (``bob``), staff and admin; the till (a client-credentials token with the
scope ``loyalty/pos``: staff's rights), a staff person without MFA (the groups withheld: a member),
a person's access token claiming staff (the pre-token trigger rewrites ID tokens only: a member), and
a partner (not a member: no member routes, no sign-up; its own partner and links), and a partner token without
its `partner_id` claim (refused by the partner routes too). The contract (API.md, "Identity and roles";
API-additions.md): a missing or bad token is 401 on every authorized route; a valid token whose role
does not allow the route is 403; any other caller is answered by the route itself (never 401/403,
never 5xx). The documents and the catch-all route are public.

The table ``ROUTES`` says who may call each route, with a sample request; the routes themselves
come from ``infra/template.yaml``, so a route added there and not here fails
``test_every_route_of_the_template_is_in_the_table`` (and its own case).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

import jwt
import pytest

from localdev import template
from localdev.server import ISSUER
from loyalty.shared.clock import FixedClock
from tests.support import Api, Reply, dump_tables

WEEK = 7 * 86400
SELF, OTHER, STAFF, ADMIN = "dan", "bob", "pos", "boss"
FOREIGN_KEY = "a-signing-key-that-is-not-the-local-servers"

NO_CARD = "bc_" + "0" * 20  # a card id of the right shape that no sale made
# Who a route admits, by the caller's role.
PUBLIC = frozenset({"nobody", "self", "other", "staff", "admin", "till", "partner", "partner without id"})
ANY_CALLER = frozenset({"self", "other", "staff", "admin", "till", "partner", "partner without id"})
ANY_MEMBER = frozenset({"self", "other", "staff", "admin"})  # people acting on themselves: not the till, no partner
SELF_OR_STAFF = frozenset({"self", "staff", "admin", "till"})
# People acting on themselves, and staff (the till too) acting for a member the body names (the counter).
ANY_MEMBER_OR_STAFF = ANY_MEMBER | {"till"}
STAFF_ONLY = frozenset({"staff", "admin", "till"})
ADMIN_ONLY = frozenset({"admin"})
# Partners (API-additions, "Partners and referral links"): admin, or the partner the path names (P-1, the partner
# caller's own); links: people acting on themselves as members, and partners acting on themselves.
ADMIN_OR_PARTNER = frozenset({"admin", "partner"})
ANY_MEMBER_OR_PARTNER = ANY_MEMBER | {"partner"}


@dataclass(frozen=True)
class Expect:
    admits: frozenset[str]
    path: str  # the template's path with its variables filled in
    body: Mapping[str, object] | None = None
    headers: dict[str, str] = field(default_factory=dict)


# Sample write bodies replay what the world already holds where they can: a caller refused a route
# must get 403, not the recorded answer of someone else's request.
PURCHASE = {"order_id": "O-1", "member_id": SELF, "amount_minor": 12900, "currency": "CNY",
            "occurred_at": "2026-11-23T09:30:00Z"}
ADJUSTMENT = {"adjustment_id": "A-1", "member_id": SELF, "points": 5, "reason": "goodwill"}


class RedemptionBody(TypedDict):
    points: int
    reward: str


REDEMPTION: RedemptionBody = {"points": 10, "reward": "coffee"}
# An unsubscribe token names an unsubscribe id and an opt-in generation and carries an HMAC (docs/reminders.md):
# a well-formed one with a made-up MAC.
FORGED_UNSUBSCRIBE = "A" * 22 + "B" * 8 + "." + "A" * 24
PARTNER = {"partner_id": "P-1", "name": "Wang", "email": "wang@example.com", "commission_bps": 500,
           "attribution_days": 30}
# A link code of the right shape whose check and tag were made under another key: refused before any look-up.
FORGED_LINK_CODE = "K7Q2M9XDHT4F7HR"
NO_REVIEW = "rv_" + "0" * 24  # a well-formed review id no review has (404 to those admitted)
PROGRAM = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 7, "currency": "CNY"}

ROUTES: dict[tuple[str, str], Expect] = {
    ("POST", "/v1/members"): Expect(ANY_MEMBER, "/v1/members", {"email": "x@example.com", "display_name": "X"}),
    ("GET", "/v1/members/me"): Expect(ANY_MEMBER, "/v1/members/me"),
    ("PATCH", "/v1/members/me"): Expect(ANY_MEMBER, "/v1/members/me", {"display_name": "Dan"}),
    ("GET", "/v1/members"): Expect(STAFF_ONLY, f"/v1/members?email={SELF}@example.com"),
    ("GET", "/v1/members/me/card"): Expect(ANY_MEMBER, "/v1/members/me/card"),
    ("GET", "/v1/members/me/referrals"): Expect(ANY_MEMBER, "/v1/members/me/referrals"),
    ("GET", "/v1/members/{member_id}"): Expect(SELF_OR_STAFF, f"/v1/members/{SELF}"),
    ("GET", "/v1/members/{member_id}/referrals"): Expect(SELF_OR_STAFF, f"/v1/members/{SELF}/referrals"),
    ("GET", "/v1/members/me/ledger"): Expect(ANY_MEMBER, "/v1/members/me/ledger"),
    ("GET", "/v1/members/{member_id}/ledger"): Expect(SELF_OR_STAFF, f"/v1/members/{SELF}/ledger"),
    ("GET", "/v1/members/{member_id}/ledger/verify"): Expect(ADMIN_ONLY, f"/v1/members/{SELF}/ledger/verify"),
    ("GET", "/v1/ledger/anchor"): Expect(ADMIN_ONLY, "/v1/ledger/anchor"),
    ("POST", "/v1/purchases"): Expect(STAFF_ONLY, "/v1/purchases", PURCHASE),
    ("POST", "/v1/purchases/{order_id}/refunds"): Expect(
        STAFF_ONLY, "/v1/purchases/O-1/refunds", {"refund_id": "R-1", "amount_minor": 100}),
    # The till may call it, but only naming a member with their code (without one: 422, which it gets here).
    ("POST", "/v1/redemptions"): Expect(ANY_MEMBER_OR_STAFF, "/v1/redemptions", REDEMPTION,
                                        {"Idempotency-Key": "k-1"}),
    ("POST", "/v1/adjustments"): Expect(ADMIN_ONLY, "/v1/adjustments", ADJUSTMENT),
    ("GET", "/v1/program"): Expect(ANY_CALLER, "/v1/program"),
    ("GET", "/v1/program/versions/{version}"): Expect(ANY_CALLER, "/v1/program/versions/1"),
    ("PUT", "/v1/program"): Expect(ADMIN_ONLY, "/v1/program", PROGRAM),
    # --- simulations (issue 14) ---
    ("POST", "/v1/program/simulations"): Expect(ADMIN_ONLY, "/v1/program/simulations", {
        "simulation_id": "S-1", "program": {"referral_rates_bps": [1500]}, "from": "2026-11-01", "to": "2026-11-30"}),
    ("GET", "/v1/program/simulations/{simulation_id}"): Expect(ADMIN_ONLY, "/v1/program/simulations/S-1"),
    # --- end simulations ---
    # tiers and statuses (docs/earning-tiers.md): a programme version, the admin's
    ("GET", "/v1/tiers"): Expect(ADMIN_ONLY, "/v1/tiers"),
    ("PUT", "/v1/tiers"): Expect(ADMIN_ONLY, "/v1/tiers", {"tiers": [], "statuses": []}),
    ("GET", "/v1/members/me/preferences"): Expect(ANY_MEMBER, "/v1/members/me/preferences"),
    ("PATCH", "/v1/members/me/preferences"): Expect(ANY_MEMBER, "/v1/members/me/preferences", {"notices": True}),
    ("GET", "/v1/members/{member_id}/messages"): Expect(STAFF_ONLY, f"/v1/members/{SELF}/messages"),
    # The shop's figures (API-additions.md, "Knowing the customers": Metrics): staff and admin, never a member.
    ("GET", "/v1/metrics"): Expect(STAFF_ONLY, "/v1/metrics?from=2026-11-01&to=2026-11-30"),
    # Outreach configuration (docs/reminders.md, "Configuring (admin)"): reading it too.
    ("GET", "/v1/outreach/settings"): Expect(ADMIN_ONLY, "/v1/outreach/settings"),
    ("PUT", "/v1/outreach/settings"): Expect(ADMIN_ONLY, "/v1/outreach/settings", {"min_gap_hours": 48}),
    ("GET", "/v1/outreach/replacements"): Expect(ADMIN_ONLY, "/v1/outreach/replacements"),
    ("PUT", "/v1/outreach/replacements"): Expect(
        ADMIN_ONLY, "/v1/outreach/replacements", {"rules": [{"category": "filters", "interval_days": 90}]}),
    ("GET", "/v1/outreach/holidays"): Expect(ADMIN_ONLY, "/v1/outreach/holidays"),
    ("PUT", "/v1/outreach/holidays"): Expect(ADMIN_ONLY, "/v1/outreach/holidays", {"holidays": [
        {"holiday_id": "spring-2027", "date": "2027-02-06", "names": {"en": "Spring Festival"}}]}),
    ("POST", "/v1/outreach/campaigns"): Expect(ADMIN_ONLY, "/v1/outreach/campaigns", {
        "campaign_id": "C-1", "headline": {"en": "Hello"}, "message": {"en": "A message"}}),
    ("GET", "/v1/outreach/campaigns/{campaign_id}"): Expect(ADMIN_ONLY, "/v1/outreach/campaigns/C-1"),
    ("POST", "/v1/outreach/preview"): Expect(ADMIN_ONLY, "/v1/outreach/preview", {
        "member_id": SELF, "kind": "checkin", "occasion": "O-1"}),
    # One-click unsubscribe needs no login: the link's token is the credential (a forged one here).
    ("GET", "/u/{token}"): Expect(PUBLIC, f"/u/{FORGED_UNSUBSCRIBE}"),
    ("POST", "/u/{token}"): Expect(PUBLIC, f"/u/{FORGED_UNSUBSCRIBE}"),
    ("POST", "/v1/partners"): Expect(ADMIN_ONLY, "/v1/partners", PARTNER),
    ("GET", "/v1/partners"): Expect(ADMIN_ONLY, "/v1/partners"),
    ("GET", "/v1/partners/{partner_id}"): Expect(ADMIN_OR_PARTNER, "/v1/partners/P-1"),
    ("GET", "/v1/partners/{partner_id}/commission"): Expect(ADMIN_OR_PARTNER, "/v1/partners/P-1/commission"),
    ("GET", "/v1/partners/{partner_id}/ledger"): Expect(ADMIN_OR_PARTNER, "/v1/partners/P-1/ledger"),
    ("GET", "/v1/partners/{partner_id}/ledger/verify"): Expect(ADMIN_OR_PARTNER, "/v1/partners/P-1/ledger/verify"),
    ("GET", "/v1/partners/{partner_id}/report"): Expect(ADMIN_OR_PARTNER, "/v1/partners/P-1/report"),
    ("POST", "/v1/partners/{partner_id}/payouts"): Expect(ADMIN_ONLY, "/v1/partners/P-1/payouts",
                                                          {"payout_id": "PO-1", "amount_minor": 1}),
    ("POST", "/v1/links"): Expect(ANY_MEMBER_OR_PARTNER, "/v1/links", {"link_id": "L-1", "campaign": "spring"}),
    ("GET", "/v1/links"): Expect(ANY_MEMBER_OR_PARTNER, "/v1/links"),
    ("GET", "/v1/links/settings"): Expect(ADMIN_ONLY, "/v1/links/settings"),
    ("PUT", "/v1/links/settings"): Expect(ADMIN_ONLY, "/v1/links/settings", {"disclosures": {"partner": {
        "en": "I earn a commission if you buy through this link."}}}),
    # Reviews of held credits (docs/screening.md): staff (the till too), never a member or a partner.
    ("GET", "/v1/reviews"): Expect(STAFF_ONLY, "/v1/reviews?status=open"),
    ("GET", "/v1/reviews/{review_id}"): Expect(STAFF_ONLY, f"/v1/reviews/{NO_REVIEW}"),
    ("POST", "/v1/reviews/{review_id}/decision"): Expect(STAFF_ONLY, f"/v1/reviews/{NO_REVIEW}/decision",
                                                         {"decision": "approve", "note": "checked"}),
    # Coupons and the rewards catalogue (API-additions, "Coupons", "Rewards catalogue"; docs/wallet.md).
    ("PUT", "/v1/coupon-templates/{template_id}"): Expect(ADMIN_ONLY, "/v1/coupon-templates/T-1", {
        "name": "Ten off", "amount_off_minor": 1000, "valid_days": 30}),
    ("GET", "/v1/coupon-templates"): Expect(STAFF_ONLY, "/v1/coupon-templates"),
    ("POST", "/v1/coupons"): Expect(STAFF_ONLY, "/v1/coupons", {"issue_id": "I-1", "template_id": "T-none",
                                                               "member_id": SELF}),
    ("GET", "/v1/members/me/coupons"): Expect(ANY_MEMBER, "/v1/members/me/coupons"),
    ("GET", "/v1/members/{member_id}/coupons"): Expect(STAFF_ONLY, f"/v1/members/{SELF}/coupons"),
    ("POST", "/v1/coupons/{code}/redemptions"): Expect(STAFF_ONLY, "/v1/coupons/2222222222222/redemptions", {
        "redemption_id": "CR-1", "member_id": SELF, "subtotal_minor": 12900}),
    ("POST", "/v1/coupon-redemptions/{redemption_id}/void"): Expect(STAFF_ONLY, "/v1/coupon-redemptions/CR-1/void"),
    ("PUT", "/v1/rewards/{reward_id}"): Expect(ADMIN_ONLY, "/v1/rewards/R-1", {"name": "Mug", "points": 100,
                                                                              "stock": None}),
    ("GET", "/v1/rewards"): Expect(ANY_CALLER, "/v1/rewards"),
    # Bundle cards (docs/wallet.md): an admin puts products, any caller lists them; the till sells, uses, refunds.
    ("PUT", "/v1/bundles/{product_id}"): Expect(ADMIN_ONLY, "/v1/bundles/WASH-6", {
        "name": "6 car washes", "uses": 6, "price_minor": 28800, "valid_days": 365}),
    ("GET", "/v1/bundles"): Expect(ANY_CALLER, "/v1/bundles"),
    ("POST", "/v1/bundle-sales"): Expect(STAFF_ONLY, "/v1/bundle-sales", {
        "sale_id": "BS-1", "member_id": SELF, "product_id": "NO-SUCH-PRODUCT"}),
    ("GET", "/v1/bundle-cards/{card_id}"): Expect(STAFF_ONLY, f"/v1/bundle-cards/{NO_CARD}"),
    ("POST", "/v1/bundle-cards/{card_id}/uses"): Expect(STAFF_ONLY, f"/v1/bundle-cards/{NO_CARD}/uses",
                                                        {"use_id": "U-1"}),
    ("POST", "/v1/bundle-cards/{card_id}/refunds"): Expect(STAFF_ONLY, f"/v1/bundle-cards/{NO_CARD}/refunds",
                                                           {"refund_id": "BR-1"}),
    # --- stored value (docs/wallet.md): admins set the tiers and cap; staff top up and withdraw (with the code) ---
    ("GET", "/v1/wallet/settings"): Expect(ADMIN_ONLY, "/v1/wallet/settings"),
    ("PUT", "/v1/wallet/settings"): Expect(ADMIN_ONLY, "/v1/wallet/settings", {
        "top_up_bonus": [{"min_minor": 200000, "bonus_bps": 100}], "max_principal_minor": 500000}),
    ("GET", "/v1/top-ups/quote"): Expect(STAFF_ONLY, f"/v1/top-ups/quote?member_id={SELF}&amount_minor=300000"),
    ("POST", "/v1/top-ups"): Expect(STAFF_ONLY, "/v1/top-ups", {"top_up_id": "TU-1", "member_id": SELF,
                                                                "amount_minor": 1000, "currency": "CNY"}),
    ("POST", "/v1/members/{member_id}/stored-value/withdrawals"): Expect(
        STAFF_ONLY, f"/v1/members/{SELF}/stored-value/withdrawals", {"withdrawal_id": "WD-1"}),
    # --- end of stored value ---
    # --- actions (docs/earning-actions.md): staff (the till too) credit actions; members check in, read their own ---
    ("POST", "/v1/actions"): Expect(STAFF_ONLY, "/v1/actions", {"action_id": "AC-1", "member_id": SELF,
                                                                "action": "review", "ref": "O-1"}),
    ("POST", "/v1/members/me/check-ins"): Expect(ANY_MEMBER, "/v1/members/me/check-ins", {}),
    ("GET", "/v1/members/me/actions"): Expect(ANY_MEMBER, "/v1/members/me/actions"),
    ("GET", "/v1/members/{member_id}/actions"): Expect(STAFF_ONLY, f"/v1/members/{SELF}/actions"),
    # --- end of actions ---
    # --- feedback (docs/feedback.md): members send and read their own; staff (the till too) list, answer, close ---
    ("POST", "/v1/members/me/feedback"): Expect(ANY_MEMBER, "/v1/members/me/feedback", {
        "feedback_id": "FB-1", "kind": "complaint", "order_id": "O-1", "text": "Streaks.", "rating": 2}),
    ("GET", "/v1/members/me/feedback"): Expect(ANY_MEMBER, "/v1/members/me/feedback"),
    ("GET", "/v1/feedback"): Expect(STAFF_ONLY, "/v1/feedback?status=open"),
    ("POST", "/v1/feedback/{feedback_id}/replies"): Expect(STAFF_ONLY, "/v1/feedback/FB-NONE/replies", {
        "reply_id": "RE-1", "text": "Sorry."}),
    ("PATCH", "/v1/feedback/{feedback_id}"): Expect(STAFF_ONLY, "/v1/feedback/FB-NONE", {"status": "closed"}),
    # --- end of feedback ---
    # --- segments (docs/segments.md): staff (the till too) read the grid and set segments; admins the thresholds ---
    ("GET", "/v1/segments"): Expect(STAFF_ONLY, "/v1/segments"),
    ("GET", "/v1/segments/{cell}/members"): Expect(STAFF_ONLY, "/v1/segments/A1/members"),
    ("PUT", "/v1/members/{member_id}/segment"): Expect(STAFF_ONLY, f"/v1/members/{SELF}/segment",
                                                       {"class": "A", "grade": 1}),
    ("DELETE", "/v1/members/{member_id}/segment"): Expect(STAFF_ONLY, f"/v1/members/{SELF}/segment"),
    ("GET", "/v1/segments/settings"): Expect(ADMIN_ONLY, "/v1/segments/settings"),
    ("PUT", "/v1/segments/settings"): Expect(ADMIN_ONLY, "/v1/segments/settings", {
        "a_percent": 10, "b_percent": 30, "c_percent": 60, "grade1_days": 30, "grade2_days": 180}),
    # --- end of segments ---
    # --- leads (docs/leads.md): members submit their friends; staff (the till too) list and work them ---
    ("POST", "/v1/members/me/leads"): Expect(ANY_MEMBER, "/v1/members/me/leads", {
        "form_id": "LF-1", "friends": [{"name": "Zhang", "email": "zhang@example.com"}], "friends_agreed": True}),
    ("GET", "/v1/leads"): Expect(STAFF_ONLY, "/v1/leads?status=new"),
    ("PATCH", "/v1/leads/{lead_id}"): Expect(STAFF_ONLY, "/v1/leads/LF-NONE.1", {"status": "contacted"}),
    # --- end of leads ---
    # A referral link's landing page and QR codes need no login: anyone may open a link.
    ("GET", "/r/{code}"): Expect(PUBLIC, f"/r/{FORGED_LINK_CODE}"),
    ("GET", "/r/{code}/qr.svg"): Expect(PUBLIC, f"/r/{FORGED_LINK_CODE}/qr.svg"),
    ("GET", "/r/{code}/qr.png"): Expect(PUBLIC, f"/r/{FORGED_LINK_CODE}/qr.png"),
    # surprises (docs/earning-surprise.md): anyone may audit
    ("GET", "/v1/program/surprise/commitments"): Expect(PUBLIC, "/v1/program/surprise/commitments"),
    ("GET", "/v1/program/surprise/days/{day}"): Expect(PUBLIC, "/v1/program/surprise/days/2026-11-22"),
    ("GET", "/openapi.json"): Expect(PUBLIC, "/openapi.json"),
    ("GET", "/docs"): Expect(PUBLIC, "/docs"),
    ("GET", "/docs/{asset}"): Expect(PUBLIC, "/docs/swagger-ui.css"),
    ("ANY", "$default"): Expect(PUBLIC, "/v2/nowhere"),
}


# Bodies a route would refuse (422, 415) if the caller were allowed: refused callers must get 401/403 anyway.
BAD_BODIES: list[tuple[dict[str, str], bytes]] = [
    ({}, b'{"unknown_field": 1.5}'),
    ({}, b"{not json"),
    ({"content-type": "text/plain"}, b"plain text"),
    ({}, b'{"padding": "' + b"x" * 600_000 + b'"}'),  # over every route's body limit (413)
]


def template_routes() -> list[tuple[str, str]]:
    return [(route.method, route.path) for spec in template.functions() for route in spec.routes]


def _claims(api: Api, sub: str, groups: list[str], expires_in: int = 3600) -> dict[str, Any]:
    """Claims as the local server signs them, issued an hour ago by its clock (tokens expire by that clock)."""
    now = int(api.gateway.clock.now().timestamp())
    return {"sub": sub, "cognito:groups": groups, "iss": ISSUER, "token_use": "access", "client_id": "local",
            "iat": now - 3600, "exp": now + expires_in}


@dataclass(frozen=True)
class Caller:
    name: str
    role: str  # "nobody" for a missing or bad token
    authorization: Callable[[Api], str | None]


CALLERS = [
    Caller("no token", "nobody", lambda api: None),
    Caller("garbage token", "nobody", lambda api: "Bearer not-a-jwt"),
    Caller("token signed with another secret", "nobody",
           lambda api: "Bearer " + jwt.encode(_claims(api, SELF, ["admin"]), FOREIGN_KEY, algorithm="HS256")),
    Caller("unsigned token", "nobody",
           # PyJWT annotates the key without None, the only key its "none" algorithm accepts
           lambda api: "Bearer " + jwt.encode(_claims(api, SELF, ["admin"]), None,  # type: ignore[arg-type]
                                               algorithm="none")),
    Caller("expired token", "nobody",
           lambda api: "Bearer " + jwt.encode(_claims(api, SELF, ["admin"], -60), api.gateway.secret,
                                               algorithm="HS256")),
    Caller("the member itself", "self", lambda api: f"Bearer {api.token(SELF)}"),
    Caller("another member", "other", lambda api: f"Bearer {api.token(OTHER)}"),
    Caller("staff", "staff", lambda api: f"Bearer {api.token(STAFF, 'staff')}"),
    Caller("admin", "admin", lambda api: f"Bearer {api.token(ADMIN, 'admin')}"),
    Caller("the till", "till", lambda api: "Bearer " + api.gateway.mint("till-7", [], scope="loyalty/pos")["token"]),
    Caller("staff without MFA", "other",
           lambda api: "Bearer " + api.gateway.mint("pos-2", ["staff", "admin"], mfa=False)["token"]),
    Caller("a person's access token claiming staff", "other",
           lambda api: "Bearer " + jwt.encode({**_claims(api, "pos-3", ["staff", "admin"]), "scope": "loyalty/pos"},
                                              api.gateway.secret, algorithm="HS256")),
    Caller("a partner", "partner",
           lambda api: "Bearer " + api.gateway.mint("pat", ["partner"], partner_id="P-1")["token"]),
    # In the group but without its partner_id claim: not a partner the partner routes can serve, nor a member.
    Caller("a partner without its partner_id", "partner without id",
           lambda api: "Bearer " + api.gateway.mint("pat-2", ["partner"])["token"]),
]


def build_world(api: Api, clock: FixedClock) -> None:
    """Dan (referred by carol, opted in to marketing) with points, a redemption and an adjustment on record;
    bob, another member."""
    api.sign_up(SELF, api.sign_up("carol")["referral_code"], marketing_opt_in=True)
    api.sign_up(OTHER)
    assert api.purchase("O-1", SELF, 12900).status == 201
    clock.advance(WEEK)
    assert api.call("POST", "/v1/adjustments", ADJUSTMENT, as_=ADMIN, groups=("admin",)).status == 201
    assert api.redeem(SELF, REDEMPTION["points"], "k-1", REDEMPTION["reward"]).status == 201


def send(api: Api, method: str, expect: Expect, authorization: str | None) -> Reply:
    headers = dict(expect.headers)
    if authorization is not None:
        headers["Authorization"] = authorization
    return api.call("GET" if method == "ANY" else method, expect.path, expect.body, headers=headers)


def assert_refused(reply: Reply, status: int, slug: str, who: str) -> None:
    """A bare problem document: nothing of anyone's data."""
    assert (reply.status, reply.slug) == (status, slug), (who, reply.body)
    assert reply.headers["content-type"] == "application/problem+json", who
    assert set(reply.body) == {"type", "title", "status", "detail"}, (who, reply.body)


def test_every_route_of_the_template_is_in_the_table() -> None:
    routes = template_routes()
    assert len(routes) == len(set(routes))
    assert sorted(set(routes) - set(ROUTES)) == [], "routes in the template without an expectation here"
    assert sorted(set(ROUTES) - set(routes)) == [], "expectations for routes the template no longer has"


@pytest.mark.parametrize("route", template_routes(), ids=[f"{m} {p}" for m, p in template_routes()])
def test_every_caller_gets_exactly_the_contracts_answer(api: Api, clock: FixedClock, route: tuple[str, str]) -> None:
    expect = ROUTES.get(route)
    assert expect is not None, f"{route} is in the template but not in ROUTES: say who may call it"
    build_world(api, clock)
    for caller in CALLERS:
        before = dump_tables()
        reply = send(api, route[0], expect, caller.authorization(api))
        if caller.role in expect.admits:
            assert reply.status not in (401, 403) and reply.status < 500, (caller.name, reply.status, reply.body)
            continue
        status, slug = (401, "unauthorized") if caller.role == "nobody" else (403, "forbidden")
        assert_refused(reply, status, slug, caller.name)
        if expect.body is not None:
            # Who may call is checked before the body: a refused caller learns nothing about what it sent.
            for bad, raw in BAD_BODIES:
                headers = {**expect.headers, **bad}
                if (auth := caller.authorization(api)) is not None:
                    headers["Authorization"] = auth
                refused = api.call(route[0], expect.path, headers=headers, raw=raw)
                assert_refused(refused, status, slug, f"{caller.name} sending {raw[:20]!r}")
        assert dump_tables() == before, f"{caller.name} was refused {route} but something was written"


def owners(changed: dict[str, set[str]]) -> dict[str, set[str]]:
    """Whose each changed item is (its ``member_id``, else its key), per table."""
    found: dict[str, set[str]] = {}
    for table, items in changed.items():
        for text in items:
            item = json.loads(text)
            found.setdefault(table, set()).add(item.get("member_id", {}).get("S") or item.get("pk", {}).get("S", ""))
    return found


def test_a_members_redemption_only_ever_touches_its_own_account(api: Api, clock: FixedClock) -> None:
    build_world(api, clock)
    assert api.call("POST", "/v1/adjustments", {**ADJUSTMENT, "adjustment_id": "A-2", "member_id": OTHER,
                                                "points": 50}, as_=ADMIN, groups=("admin",)).status == 201
    dans = api.redeem(SELF, REDEMPTION["points"], "k-1", REDEMPTION["reward"])
    assert dans.status == 200  # dan's own replay
    dan_points, dan_ledger = api.points(SELF), api.ledger(SELF)

    # Naming another member in the body is no way in: without their member code it is not a request at all, and
    # with it (shown to them on dan's card) a member is still not staff.
    before = dump_tables()
    named = api.call("POST", "/v1/redemptions", {**REDEMPTION, "member_id": SELF}, as_=OTHER,
                     headers={"Idempotency-Key": "k-2"})
    assert (named.status, named.slug) == (422, "validation-error")
    code = api.call("GET", "/v1/members/me/card", as_=SELF).body["member_code"]
    with_code = api.call("POST", "/v1/redemptions", {**REDEMPTION, "member_id": SELF, "member_code": code},
                         as_=OTHER, headers={"Idempotency-Key": "k-2"})
    assert_refused(with_code, 403, "forbidden", "another member with dan's code")
    assert dump_tables() == before

    # Dan's idempotency key with dan's body: bob's own redemption, never dan's recorded answer.
    mine = api.redeem(OTHER, REDEMPTION["points"], "k-1", REDEMPTION["reward"])
    assert mine.status == 201, mine.body
    assert mine.body["redemption_id"] != dans.body["redemption_id"]
    assert mine.body["balances"]["points"] == {"available": 40, "pending": 0, "lifetime_earned": 50, "expiring": []}
    after = dump_tables()
    changed = {t: set(after[t]) - set(before[t]) for t in after if after[t] != before[t]}
    # The dashboard's figures took bob's entries into the shop's totals, marked counted by bob's entry ids: no
    # one member's data.
    figures = {json.loads(i)["pk"]["S"] for i in changed.pop("MetricsTable", set())}
    assert figures and all(pk in {"DAY", "MONTH", "YEAR"} or pk.startswith(f"COUNTED#entry/{OTHER}/")
                           for pk in figures), figures
    assert owners(changed) == {"AccountsTable": {OTHER}, "LedgerTable": {OTHER}, "OperationsTable": {OTHER}}
    assert [json.loads(i)["pk"]["S"] for i in changed["OperationsTable"]] == [f"redemption/{OTHER}/k-1"]
    assert (api.points(SELF), api.ledger(SELF)) == (dan_points, dan_ledger)


def test_staff_at_the_counter_only_ever_touch_the_named_members_account(api: Api, clock: FixedClock) -> None:
    build_world(api, clock)
    code = api.call("GET", "/v1/members/me/card", as_=SELF).body["member_code"]
    dan_points, bob_points, bob_ledger = api.points(SELF), api.points(OTHER), api.ledger(OTHER)
    before = dump_tables()
    # dan's code does not open bob's account, nor bob's id dan's code
    wrong = api.call("POST", "/v1/redemptions", {**REDEMPTION, "member_id": OTHER, "member_code": code},
                     as_=STAFF, groups=("staff",), headers={"Idempotency-Key": "till-1"})
    assert (wrong.status, wrong.slug) == (422, "member-code-invalid")
    assert dump_tables() == before
    right = api.call("POST", "/v1/redemptions", {**REDEMPTION, "member_id": SELF, "member_code": code},
                     as_=STAFF, groups=("staff",), headers={"Idempotency-Key": "till-1"})
    assert right.status == 201, right.body
    after = dump_tables()
    changed = {t: set(after[t]) - set(before[t]) for t in after if after[t] != before[t]}
    changed.pop("MetricsTable", None)  # the dashboard's daily counts (everyone's together) count the redemption
    assert owners(changed) == {"AccountsTable": {SELF}, "LedgerTable": {SELF}, "OperationsTable": {SELF}}
    [operation] = [json.loads(i) for i in changed["OperationsTable"]]
    assert (operation["pk"]["S"], operation["by"]["S"]) == (f"redemption/{SELF}/till-1", STAFF)
    assert api.points(SELF)["available"] == dan_points["available"] - REDEMPTION["points"]
    assert (api.points(OTHER), api.ledger(OTHER)) == (bob_points, bob_ledger)


def test_a_forged_unsubscribe_link_changes_nobody(api: Api, clock: FixedClock) -> None:
    build_world(api, clock)
    before = dump_tables()
    for method in ("GET", "POST"):
        reply = api.call(method, f"/u/{FORGED_UNSUBSCRIBE}")
        assert (reply.status, reply.slug) == (404, "not-found"), reply.body
    assert dump_tables() == before
    preferences = api.call("GET", "/v1/members/me/preferences", as_=SELF)
    assert preferences.body["marketing_opt_in"] is True
