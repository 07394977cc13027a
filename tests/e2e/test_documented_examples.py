"""Every operation's documented example, sent to `python -m localdev` as Swagger's "Try it out" would send it,
gets the documented success status.

The document is read from the running server (``GET /openapi.json``). Operations are sent in the order of the
story the examples tell (``loyalty.http.examples``): the example member signs up before staff record her purchase,
the purchase before its refund, the campaign is started before it is read … Each request carries the path, query,
header and body examples of the document and, unless the operation is public, a token from ``POST /local/tokens``
with the sub the example needs (the member the examples name, for a member acting on itself) and the groups its
``x-access`` needs. Its answer must be the documented success (201 or 202 where declared, else 200) with a body
that fits the documented schema; a write that replays answers its documented 200 when sent again.

One example cannot succeed by nature: an unsubscribe token is signed with a secret the server draws when it
starts. The document says so (the example token answers 404) and this test checks that it does; the link is then
taken as a member would: from the List-Unsubscribe header of an email, here the admin's preview of the example
member's check-in email, and opening and posting it must succeed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker

from loyalty.http.examples import ALTERNATIVE

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# The story's order: what an operation's example needs comes before it.
ORDER = (
    "openApiDocument", "swaggerUi", "swaggerUiAsset",
    "readProgram", "readProgramVersion", "publishProgram",
    "signUp", "changeMe", "readMe", "findMembers", "readMyCard",
    "readMember", "readMyReferrals", "readReferrals", "readMyPreferences", "changeMyPreferences",
    "readOutreachSettings", "changeOutreachSettings", "readReplacementRules", "changeReplacementRules",
    "readHolidays", "changeHolidays",
    "recordPurchase", "recordRefund", "adjustPoints", "redeemPoints",
    "readMyLedger", "readLedger", "verifyLedger", "readLatestAnchor", "readMetrics",
    "startCampaign", "readCampaign", "previewEmail", "readMessages",
    "sendFeedback", "listMyFeedback", "listFeedback", "replyToFeedback", "closeFeedback",  # about the example order
    "readSegmentSettings", "changeSegmentSettings", "readSegments", "listSegmentMembers", "setMemberSegment",
    "dropMemberSegment",
    "submitLeads", "listLeads", "workLead",  # Li Wei's friends (docs/leads.md)
    "unsubscribePage", "unsubscribe",
    "createPartner", "listPartners", "readPartner", "readLinkSettings", "changeLinkSettings", "createLink",
    "listLinks", "landingPage", "linkQrSvg", "linkQrPng",
    "readCommission", "readPartnerLedger", "verifyPartnerLedger", "readPartnerReport", "payOutCommission",
    "listReviews", "readReview", "decideReview",
    "putCouponTemplate", "listCouponTemplates", "issueCoupon", "listMyCoupons", "listCoupons", "redeemCoupon",
    "voidCouponRedemption", "putReward", "listRewards",
    "putBundle", "listBundles", "sellBundle", "readBundleCard", "useBundle", "refundBundle",
    "readWalletSettings", "changeWalletSettings", "quoteTopUp", "topUp", "withdrawStoredValue",  # stored value
    "recordAction", "checkIn", "listMyActions", "listActions",  # actions (docs/earning-actions.md)
    "simulateProgram", "readSimulation",  # rehearsing a rule change over the purchases recorded so far
    "listSurpriseCommitments", "revealSurpriseDay",  # surprises (a day before today: revealed)
    "readTiers", "publishTiers",  # tiers and statuses: last, so the purchases above are a plain programme's
)
# Who sends the example of an operation, by its x-access: (sub, groups); None for the member the examples name.
CALLERS: dict[str, tuple[str | None, list[str]] | None] = {
    "public": None,
    "any": (None, []),
    "signed_in": (None, []),
    "signed_in_or_staff": (None, []),  # the member, on itself (the example names no member_id)
    "self_or_staff": (None, []),  # the member its path names: itself
    "staff": ("pos-terminal-01", ["staff"]),
    "admin": ("shop-owner", ["admin"]),
    "admin_or_partner": ("shop-owner", ["admin"]),
    "signed_in_or_partner": (None, []),  # the member, making and listing its own links
}
# Operations whose documented example cannot succeed on any server but the one that signed it.
SIGNED_BY_THE_SERVER = {"unsubscribePage", "unsubscribe"}
# A link code carries a tag under the server's own key: the documented one answers 404, the created link's works.
LINK_PAGES = {"landingPage", "linkQrSvg", "linkQrPng"}
# A review's id comes from a held credit: the documented one answers 404, a held credit's works.
REVIEWS = {"readReview", "decideReview"}
# A withdrawal at the counter needs the member's code of today: the documented one answers 422, the card's works.
AT_THE_COUNTER = {"withdrawStoredValue"}
UNSUBSCRIBE_LINK = re.compile(r"/u/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)>?$")


def _example(carrier: dict[str, Any]) -> Any:
    if "example" in carrier:
        return carrier["example"]
    return next(iter(carrier["examples"].values()))["value"]


def _alternative(parameter: dict[str, Any]) -> bool:
    """A query parameter whose example is another way to ask the same (a look-up takes one of them): left out."""
    examples = parameter.get("examples") or {}
    return any(str(e.get("summary", "")).startswith(ALTERNATIVE) for e in examples.values())


class Story:
    def __init__(self, base: str) -> None:
        self.base = base
        self.document: dict[str, Any] = requests.get(f"{base}/openapi.json", timeout=10).json()
        self.operations = {op["operationId"]: (method, path, op) for path, item in self.document["paths"].items()
                           for method, op in item.items()}
        self.member = next(_example(p) for _, _, op in self.operations.values() for p in op.get("parameters", [])
                           if p["name"] == "member_id")
        self.tokens: dict[tuple[str, tuple[str, ...]], str] = {}

    def token(self, sub: str, groups: list[str]) -> str:
        key = (sub, tuple(groups))
        if key not in self.tokens:
            request: dict[str, Any] = {"sub": sub, "groups": groups}
            if sub == self.member:  # the example member signed in with the address its sign-up example names
                request["email"] = _example(self.operations["signUp"][2]["requestBody"]["content"][
                    "application/json"])["email"]
            reply = requests.post(f"{self.base}/local/tokens", json=request, timeout=10)
            assert reply.status_code == 200, reply.text
            self.tokens[key] = reply.json()["token"]
        return self.tokens[key]

    def send(self, operation_id: str, path_values: dict[str, Any] | None = None) -> requests.Response:
        """The operation's documented example (path values replaced where given), as its x-access caller."""
        method, template, operation = self.operations[operation_id]
        path_values = {**{p["name"]: _example(p) for p in operation.get("parameters", []) if p["in"] == "path"},
                       **(path_values or {})}
        path = re.sub(r"\{(\w+)\}", lambda m: str(path_values[m.group(1)]), template)
        query = {p["name"]: _example(p) for p in operation.get("parameters", []) if p["in"] == "query"
                 and not _alternative(p)}
        headers = {p["name"]: str(_example(p)) for p in operation.get("parameters", []) if p["in"] == "header"}
        caller = CALLERS[operation["x-access"]]
        if caller is not None:
            sub, groups = caller
            headers["Authorization"] = f"Bearer {self.token(sub or self.member, groups)}"
        body = None
        if "requestBody" in operation:
            body = _example(operation["requestBody"]["content"]["application/json"])
        return requests.request(method.upper(), f"{self.base}{path}", params=query, json=body, headers=headers,
                                timeout=30)

    def fund_the_partner(self) -> None:
        """The example partner earns enough for the example payout: a member signs up through its link and buys
        (5 % of 6,000.00 CNY is 300.00), and the hold passes."""
        partner = next(_example(p) for p in self.operations["readPartner"][2]["parameters"]
                       if p["name"] == "partner_id")
        admin = {"Authorization": f"Bearer {self.token('shop-owner', ['admin'])}"}
        link = requests.post(f"{self.base}/v1/links", json={"link_id": "payout-story", "partner_id": partner},
                             headers=admin, timeout=30)
        assert link.status_code == 201, link.text
        buyer = {"Authorization": f"Bearer {self.token('bound-buyer', [])}"}
        joined = requests.post(f"{self.base}/v1/members", json={"email": "bound-buyer@example.com",
                                                                "display_name": "Bound", "referral_code":
                                                                link.json()["code"]}, headers=buyer, timeout=30)
        assert joined.status_code == 201, joined.text
        till = {"Authorization": f"Bearer {self.token('pos-terminal-01', ['staff'])}"}
        bought = requests.post(f"{self.base}/v1/purchases", json={
            "order_id": "payout-story-1", "member_id": "bound-buyer", "amount_minor": 600_000, "currency": "CNY"},
            headers=till, timeout=30)
        assert bought.status_code == 201 and bought.json()["commission"]["amount_minor"] == 30_000, bought.text
        requests.post(f"{self.base}/local/clock", json={"advance_seconds": 8 * 86_400}, timeout=60)
        self.tokens.clear()  # they expired on the way

    def hold_a_credit(self) -> str:
        """A friend signs up with the example member's code on the example member's phone (the sign-up example's
        device) and buys: the example member's referral credit is held for review. Its review's id."""
        signed_up = _example(self.operations["signUp"][2]["requestBody"]["content"]["application/json"])
        me = {"Authorization": f"Bearer {self.token(self.member, [])}"}
        code = requests.get(f"{self.base}/v1/members/me", headers=me, timeout=30).json()["referral_code"]
        friend = {"Authorization": f"Bearer {self.token('same-phone-friend', [])}"}
        joined = requests.post(f"{self.base}/v1/members", json={
            "email": "same-phone-friend@example.com", "display_name": "Friend", "referral_code": code,
            "device_id": signed_up["device_id"]}, headers=friend, timeout=30)
        assert joined.status_code == 201, joined.text
        till = {"Authorization": f"Bearer {self.token('pos-terminal-01', ['staff'])}"}
        bought = requests.post(f"{self.base}/v1/purchases", json={
            "order_id": "held-story-1", "member_id": "same-phone-friend", "amount_minor": 20_000, "currency": "CNY"},
            headers=till, timeout=30)
        assert bought.status_code == 201, bought.text
        held = [c for c in bought.json()["credits"] if c["member_id"] == self.member]
        assert held and "review_id" in held[0], bought.text
        return str(held[0]["review_id"])

    def withdraw_with_todays_code(self, operation_id: str) -> requests.Response:
        """The documented withdrawal, with the code on the example member's card today."""
        method, template, operation = self.operations[operation_id]
        me = {"Authorization": f"Bearer {self.token(self.member, [])}"}
        code = requests.get(f"{self.base}/v1/members/me/card", headers=me, timeout=30).json()["member_code"]
        body = {**_example(operation["requestBody"]["content"]["application/json"]), "member_code": code}
        till = {"Authorization": f"Bearer {self.token('pos-terminal-01', ['staff'])}"}
        return requests.request(method.upper(), f"{self.base}{template.replace('{member_id}', self.member)}",
                                json=body, headers=till, timeout=30)

    def publish_actions(self) -> None:
        """The documented programme, with the actions of the contract's example (a fresh install has none)."""
        method, _, operation = self.operations["publishProgram"]
        body = {**_example(operation["requestBody"]["content"]["application/json"]),
                "actions": {"review": {"points": 20, "per_day": 1, "per_month": 5, "lifetime": 100},
                            "check_in": {"points": 2, "per_day": 1}}}
        admin = {"Authorization": f"Bearer {self.token('shop-owner', ['admin'])}"}
        reply = requests.request(method.upper(), f"{self.base}/v1/program", json=body, headers=admin, timeout=30)
        assert reply.status_code == 200, reply.text

    def success(self, operation_id: str) -> int:
        """The documented success: 201 or 202 where declared (200 is then the replay), else 200."""
        declared = self.operations[operation_id][2]["responses"]
        return next((int(s) for s in ("201", "202") if s in declared), 200)

    def check(self, operation_id: str, reply: requests.Response, status: int) -> None:
        """The answer is the documented one for this status: its media type, and a JSON body fits its schema."""
        context = f"{operation_id} → {reply.status_code}: {reply.text[:500]}"
        assert reply.status_code == status, context
        declared = self.operations[operation_id][2]["responses"][str(status)]
        media_type = reply.headers["content-type"].split(";")[0].strip()
        assert media_type in declared["content"], context
        if media_type.endswith("json"):
            schema = {**declared["content"][media_type]["schema"], "components": self.document["components"]}
            errors = [e.message for e in Draft202012Validator(schema, format_checker=FormatChecker())
                      .iter_errors(reply.json())]
            assert not errors, (context, errors)


def first_reply(story: Story, operation_id: str, kept: dict[str, Any]) -> requests.Response:
    """The operation's documented request, sent once its preconditions are met (what the story made before it is
    in ``kept``); a precondition the document shows being refused first is checked on the way."""
    if operation_id in REVIEWS:
        story.check(operation_id, story.send(operation_id), 404)
        kept["review_id"] = kept.get("review_id") or story.hold_a_credit()
        return story.send(operation_id, {"review_id": kept["review_id"]})
    if operation_id in LINK_PAGES:
        story.check(operation_id, story.send(operation_id), 404)
        assert kept.get("link_code") is not None, "the link is made first"
        return story.send(operation_id, {"code": kept["link_code"]})
    if operation_id == "redeemCoupon":  # a code is drawn at random: the documented one is no one's
        story.check(operation_id, story.send(operation_id), 404)
        assert kept.get("coupon_code") is not None, "the coupon is issued first"
        return story.send(operation_id, {"code": kept["coupon_code"]})
    if operation_id in AT_THE_COUNTER:
        story.check(operation_id, story.send(operation_id), 422)
        return story.withdraw_with_todays_code(operation_id)
    if operation_id == "payOutCommission":
        story.check(operation_id, story.send(operation_id), 409)  # the partner has earned nothing yet
        story.fund_the_partner()
        return story.send(operation_id)
    if operation_id in SIGNED_BY_THE_SERVER:
        forged = story.send(operation_id)
        story.check(operation_id, forged, 404)
        token = next(p for p in story.operations[operation_id][2]["parameters"] if p["name"] == "token")
        assert "404" in next(iter(token["examples"].values()))["summary"], "the document says it answers 404"
        assert kept.get("unsubscribe_token") is not None, "the previewed email's link comes first"
        return story.send(operation_id, {"token": kept["unsubscribe_token"]})
    if operation_id == "recordAction":  # the documented programme defines no action yet
        story.check(operation_id, story.send(operation_id), 422)
        story.publish_actions()
        return story.send(operation_id)
    if operation_id == "readLatestAnchor":  # the anchor's hourly slot: the heads moved, so a digest
        requests.post(f"{story.base}/local/clock", json={"advance_seconds": 3600}, timeout=60)
    return story.send(operation_id)


def test_every_documented_example_gets_its_documented_status(base_url: str) -> None:
    story = Story(base_url)
    assert sorted(ORDER) == sorted(story.operations), "every operation of the document has its place in the story"
    assert len(ORDER) == len(set(ORDER))
    kept: dict[str, Any] = {}
    for operation_id in ORDER:
        reply = first_reply(story, operation_id, kept)
        story.check(operation_id, reply, story.success(operation_id))
        if operation_id == "createLink":
            kept["link_code"] = reply.json()["code"]
        if operation_id == "issueCoupon":
            kept["coupon_code"] = reply.json()["code"]
        if operation_id == "previewEmail":
            found = UNSUBSCRIBE_LINK.search(reply.json()["headers"]["List-Unsubscribe"])
            assert found, reply.json()["headers"]["List-Unsubscribe"]
            kept["unsubscribe_token"] = found.group(1)
        if story.success(operation_id) != 200 and "200" in story.operations[operation_id][2]["responses"]:
            story.check(operation_id, story.send(operation_id, {"code": kept.get("coupon_code")}
                                                 if operation_id == "redeemCoupon" else None), 200)  # the replay

    me = story.send("readMe").json()
    assert me["balances"]["points"]["available"] >= 500 - 300, "the goodwill points, less the car wash"
    assert me["marketing_opt_in"] is False, "the member followed the unsubscribe link"
