"""Each function's IAM grants are exactly the AWS actions it makes, and none can change a ledger entry.

The actions are not listed by hand: every route, schedule, stream and queue consumer is driven
through its success and refusal paths on moto while each boto3 call made inside a handler is
recorded, then compared with the template. What Lambda itself does for a function (polling its
queue or stream, dead-lettering a failed batch) is derived from the event source mappings.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import boto3
import pytest

from localdev import template
from localdev.server import LocalGateway
from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs

TRANSACT = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
LEDGER_CHANGES = {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate",
                  "dynamodb:PartiQLDelete"}
SES = "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:"
COGNITO = "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:"
POLL = {
    "sqs": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
    "stream": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
}
# Buckets whose grants name a top folder (the anchor's digests); the others' grant the whole bucket.
PREFIX_GRANTS = {"AnchorBucket"}
# Actions with no resource-level permissions: IAM only accepts "*" for them.
UNSCOPED = {"dynamodb:ListStreams", "ses:GetSendQuota"}


def _resource(value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        name, attribute = value["Fn::GetAtt"]
        return str(name) if attribute == "Arn" else f"{name}.{attribute}"
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = str(value["Fn::Sub"]).replace(SES, "").replace(COGNITO, "")
        return text.replace("${", "").replace(".Arn}", "").replace("}", "")
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value)


def granted() -> dict[str, set[tuple[str, str]]]:
    grants: dict[str, set[tuple[str, str]]] = {}
    for name, res in template.resources("AWS::Serverless::Function").items():
        pairs = set()
        for policy in res["Properties"].get("Policies", []):
            for statement in policy["Statement"]:
                assert statement["Effect"] == "Allow"
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = statement["Resource"]
                resources = resources if isinstance(resources, list) else [resources]
                pairs |= {(a, _resource(r)) for a in actions for r in resources}
        grants[name] = pairs
    return grants


def lambda_needs() -> dict[str, set[tuple[str, str]]]:
    """What a function's role must allow for Lambda to feed it (its event source mappings)."""
    needs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for mapping in template.resources("AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        function, source = props["FunctionName"]["Ref"], _resource(props["EventSourceArn"])
        kind = "stream" if source.endswith(".StreamArn") else "sqs"
        needs[function] |= {(action, source) for action in POLL[kind]}
        if kind == "stream":
            needs[function].add(("dynamodb:ListStreams", "*"))
        failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if failure:
            needs[function].add(("sqs:SendMessage", _resource(failure)))
    return needs


class Recorder:
    """Records the AWS calls a handler makes, as (IAM action, logical resource)."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.function: str | None = None
        self.calls: dict[str, set[tuple[str, str]]] = defaultdict(set)

    def __call__(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.function is None:
            return  # the local runner polling queues and streams, as Lambda would: not the function's own call
        service = model.service_model.service_name
        self.calls[self.function] |= (self._dynamodb(params, model.name) if service == "dynamodb"
                                      else self._other(service, params, model.name))

    @staticmethod
    def _dynamodb(params: dict[str, Any], op: str) -> set[tuple[str, str]]:
        if op == "TransactWriteItems":
            return {(f"dynamodb:{TRANSACT[kind]}", body["TableName"])
                    for item in params["TransactItems"] for kind, body in item.items()}
        if op in ("BatchGetItem", "BatchWriteItem"):
            return {(f"dynamodb:{op}", table) for table in params["RequestItems"]}
        index = f"/index/{params['IndexName']}" if params.get("IndexName") else ""
        return {(f"dynamodb:{op}", params["TableName"] + index)}

    @staticmethod
    def _key(bucket: str, key: str) -> str:
        """The grant an object key falls under: the anchor's by its top folder, the console's files by bucket."""
        return f"{bucket}/{key.split('/', 1)[0]}/*" if bucket in PREFIX_GRANTS else f"{bucket}/*"

    def _other(self, service: str, params: dict[str, Any], op: str) -> set[tuple[str, str]]:
        if service == "sqs":
            return {("sqs:SendMessage" if op.startswith("SendMessage") else f"sqs:{op}",
                     params["QueueUrl"].rsplit("/", 1)[1])}
        if service == "sesv2" and op == "SendEmail":
            return {(action, resource) for action in ("ses:SendEmail", "ses:SendRawEmail")
                    for resource in ("identity/SenderDomain", "configuration-set/EmailConfigurationSet")}
        if service == "ses" and op == "GetSendQuota":
            return {("ses:GetSendQuota", "*")}
        if service == "s3":
            # S3 authorises by bucket (listing) and by object key; the template names buckets by logical id.
            bucket = next(name for name, physical in self.names.items() if physical == params["Bucket"])
            if op == "ListObjectsV2":
                return {("s3:ListBucket", bucket)}
            if op == "DeleteObjects":  # authorised as s3:DeleteObject on each key
                return {("s3:DeleteObject", self._key(bucket, o["Key"])) for o in params["Delete"]["Objects"]}
            return {(f"s3:{op}", self._key(bucket, params["Key"]))}
        if service == "secretsmanager":
            return {(f"secretsmanager:{op}", params["SecretId"])}
        if service == "cognito-idp":
            return {(f"cognito-idp:{op}", "userpool/*")}  # any pool of the account: its id comes later
        raise AssertionError(f"an AWS call the IAM test does not know how to map: {service}.{op}")


def exercise(api: Api, clock: FixedClock) -> None:
    """Every function, through its writes, replays, refusals and scheduled work."""
    admin: CallAs = {"as_": "boss", "groups": ("admin",)}
    staff: CallAs = {"as_": "pos", "groups": ("staff",)}
    day = 86400
    alice, _bob = api.chain("alice", "bob")
    api.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve", "referral_code": "ZZZZZZZZ"},
             as_="eve")
    api.sign_up("li", None, marketing_opt_in=True, birthday="1990-11-24", time_zone="Asia/Shanghai")
    api.call("GET", "/v1/members/me", as_="bob")
    api.call("GET", "/v1/members/alice", **staff)
    api.call("GET", "/v1/members/me/referrals", as_="alice")
    api.call("GET", "/v1/members/alice/referrals", **staff)
    assert alice["referral_code"]
    api.call("GET", "/v1/program", as_="bob")
    api.call("GET", "/v1/program/versions/1", as_="bob")
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500],
                                    "hold_days": 1, "currency": "CNY"}, **admin)
    api.call("GET", "/v1/program/versions/2", as_="bob")
    api.call("GET", "/v1/members/me/preferences", as_="bob")
    api.call("PATCH", "/v1/members/me/preferences", {"marketing_opt_in": True}, as_="bob")
    for path in ("settings", "replacements", "holidays"):
        api.call("GET", f"/v1/outreach/{path}", **admin)
    api.call("PUT", "/v1/outreach/settings", {"min_gap_hours": 1}, **admin)
    api.call("PUT", "/v1/outreach/replacements", {"rules": [{"category": "filters", "interval_days": 3}]}, **admin)
    api.call("PUT", "/v1/outreach/holidays", {"holidays": [
        {"holiday_id": "H-1", "date": "2026-11-25", "names": {"en": "Harvest"}}]}, **admin)
    api.purchase("O-1", "bob", 10000, items=[{"sku": "F", "category": "filters"}])
    api.purchase("O-1", "bob", 10000, items=[{"sku": "F", "category": "filters"}])
    api.purchase("O-2", "li", 10000, items=[{"sku": "F", "category": "filters"}])
    api.tick()
    api.refund("O-1", "R-1", 5000)
    api.refund("O-1", "R-1", 5000)
    api.call("POST", "/v1/outreach/campaigns", {"campaign_id": "C-1", "headline": {"en": "Hi"},
                                                "message": {"en": "News"},
                                                "filter": {"purchased_categories": ["filters"],
                                                           "min_lifetime_points": 1}}, **admin)
    api.call("GET", "/v1/outreach/campaigns/C-1", **admin)
    for kind in ("points_available", "checkin"):
        api.call("POST", "/v1/outreach/preview", {"member_id": "li", "kind": kind, "occasion": "O-2"}, **admin)
    api.call("GET", "/v1/members/li/messages", **staff)
    api.purchase("O-3", "bob", 1000, occurred_at="2026-11-01T09:30:00Z")  # bob's first purchase day moves earlier
    api.call("GET", "/v1/metrics?from=2026-11-01&to=2026-11-30", **staff)
    clock.advance(2 * day)
    api.tick()
    api.redeem("bob", 10, "k-1")
    api.redeem("bob", 10, "k-1")
    api.redeem("bob", 10**6, "k-2")
    # The counter: a profile change (the name in the referrer's tree too), look-ups, the card, a staff redemption.
    api.call("PATCH", "/v1/members/me", {"display_name": "Robert", "phone": "138 0013 8000"}, as_="bob")
    api.call("GET", "/v1/members?email=BOB@example.com", **staff)
    api.call("GET", "/v1/members?phone=13800138000", **staff)
    code = api.call("GET", "/v1/members/me/card", as_="bob").body["member_code"]
    api.call("GET", f"/v1/members?member_code={code}", **staff)
    api.call("POST", "/v1/redemptions", {"points": 1, "reward": "r", "member_id": "bob", "member_code": code},
             headers={"Idempotency-Key": "k-3"}, **staff)
    api.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "bob", "points": 5, "reason": "r"},
             **admin)
    api.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "bob", "points": 5, "reason": "r"},
             **admin)
    api.move_clock(3600)  # the anchor's next slot: heads moved, each checked against the digest before
    api.call("GET", "/v1/members/me/ledger?limit=2", as_="bob")
    api.call("GET", "/v1/members/nobody/ledger", **staff)
    api.call("GET", "/v1/members/bob/ledger/verify", **admin)
    api.call("GET", "/v1/ledger/anchor", **admin)
    link = next(m for m in api.outbox() if "List-Unsubscribe" in m["headers"])["headers"]["List-Unsubscribe"]
    api.call("GET", link.strip("<>").split("localhost", 1)[1])
    api.call("POST", link.strip("<>").split("localhost", 1)[1], raw=b"List-Unsubscribe=One-Click",
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    from functions.sesevents.app import handler as ses_events

    api.gateway.run(ses_events, {"detail-type": "Email Bounced", "detail": {"eventType": "Bounce", "bounce": {
        "bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "li@example.com"}]}}}, "SesEventsFunction")
    api.call("GET", "/openapi.json")
    api.call("GET", "/docs")
    api.call("GET", "/no/such/route")
    pretoken_signs_in_an_admin_without_mfa(api)
    partners_and_links(api, admin)
    screening_and_reviews(api)
    stored_value(api, admin, staff)
    bundle_cards(api, admin)
    surprises(api, admin)
    coupons_and_rewards(api, admin, staff)
    actions_and_check_ins(api, admin, staff)
    simulations(api, admin)
    feedback_answered_and_alerted(api, admin, staff)
    segments_recomputed(api, admin, staff)
    leads_converted_and_erased(api, admin, staff)
    expiry_everywhere(api, admin, staff)
    tiers_and_statuses(api, admin, staff)  # tiers (docs/earning-tiers.md): last, so the flows above stay plain


def feedback_answered_and_alerted(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Feedback (docs/feedback.md): a complaint about bob's own order (sent again: a replay), one about an order
    that is not his (refused), the lists, a reply (and its replay) with its email, a close, and a complaint left 24
    hours that the schedule alerts the staff address about."""
    settings = api.call("GET", "/v1/outreach/settings", **admin).body
    api.call("PUT", "/v1/outreach/settings", {**settings, "staff_email": "staff@example.com"}, **admin)
    for _ in range(2):
        api.call("POST", "/v1/members/me/feedback", {"feedback_id": "FB-1", "kind": "complaint", "order_id": "O-1",
                                                     "text": "Streaks.", "rating": 2}, as_="bob")
    api.call("POST", "/v1/members/me/feedback", {"feedback_id": "FB-2", "kind": "complaint", "order_id": "O-2",
                                                 "text": "Not mine."}, as_="bob")
    api.call("POST", "/v1/members/me/feedback", {"feedback_id": "FB-3", "kind": "complaint", "text": "Late."},
             as_="li")
    api.call("GET", "/v1/members/me/feedback", as_="bob")
    api.call("GET", "/v1/feedback?status=open", **staff)
    for _ in range(2):
        api.call("POST", "/v1/feedback/FB-1/replies", {"reply_id": "RE-1", "text": "Sorry."}, **staff)
    api.call("PATCH", "/v1/feedback/FB-1", {"status": "closed"}, **staff)
    api.move_clock(25 * 3600)  # FB-3 is overdue: the schedule alerts, the due job and the sender send


def segments_recomputed(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Segments (docs/segments.md): the thresholds read and changed, the daily recompute (every member scanned, the
    changed cells written), a member read with its segment, the grid and a cell's members, a manual segment set and
    dropped (and one for nobody, refused)."""
    shown = api.call("GET", "/v1/segments/settings", **admin).body
    api.call("PUT", "/v1/segments/settings", {**shown, "grade1_days": 31}, **admin)
    api.move_clock(86400)  # the daily recompute
    api.call("GET", "/v1/members/bob", **staff)
    api.call("GET", "/v1/segments", **staff)
    api.call("GET", "/v1/segments/A1/members?limit=1", **staff)
    api.call("PUT", "/v1/members/li/segment", {"class": "D", "grade": 3}, **staff)  # not her computed cell
    api.call("PUT", "/v1/members/nobody/segment", {"class": "A", "grade": 1}, **staff)
    api.call("DELETE", "/v1/members/li/segment", **staff)


def leads_converted_and_erased(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Leads (docs/leads.md): bob's form (sent again: a replay), a friend another form listed first, the inbox, a
    lead worked; two friends sign up without a code and convert (one's first purchase at the till, the other's a
    bundle sale: each decides bob's lead_converted); the rest erased once 180 days have passed."""
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 1,
                                    "currency": "CNY", "actions": {"lead_converted": {"points": 50}}}, **admin)
    form = {"form_id": "LF-1", "friends_agreed": True, "friends": [
        {"name": "Ann", "email": "ann@example.com"}, {"name": "Ben", "phone": "+8613900139000"},
        {"name": "Zed", "email": "zed.lead@example.com"}]}
    for _ in range(2):
        api.call("POST", "/v1/members/me/leads", form, as_="bob")
    api.call("POST", "/v1/members/me/leads", {"form_id": "LF-2", "friends_agreed": True, "friends": [
        {"name": "Ann", "email": "ann@example.com"}, {"name": "Li", "email": "li@example.com"}]}, as_="li")
    api.call("GET", "/v1/leads?status=new", **staff)
    api.call("PATCH", "/v1/leads/LF-1.3", {"status": "contacted", "note": "Called."}, **staff)
    api.call("POST", "/v1/members", {"email": "ann@example.com", "display_name": "Ann"}, as_="ann")
    api.call("POST", "/v1/purchases", {"order_id": "O-LEAD-1", "member_id": "ann", "amount_minor": 1000,
                                       "currency": "CNY"}, **staff)
    token = api.gateway.mint("ben", [], phone_number="+8613900139000")["token"]
    api.call("POST", "/v1/members", {"email": "ben@example.com", "display_name": "Ben"},
             headers={"authorization": f"Bearer {token}"})
    api.call("POST", "/v1/bundle-sales", {"sale_id": "S-LEAD-1", "member_id": "ben", "product_id": "WASH-2"}, **staff)
    api.move_clock(181 * 86400)


def actions_and_check_ins(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Actions (docs/earning-actions.md): an action credited (replayed, capped, of an unknown member), a check-in
    (and a second, refused), a member's counts read by staff and by the member."""
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 1,
                                    "currency": "CNY", "actions": {"review": {"points": 20, "per_day": 1},
                                                                   "check_in": {"points": 2}}}, **admin)
    for action_id in ("AC-1", "AC-1", "AC-2"):
        api.call("POST", "/v1/actions", {"action_id": action_id, "member_id": "bob", "action": "review"}, **staff)
    api.call("POST", "/v1/actions", {"action_id": "AC-3", "member_id": "nobody", "action": "review"}, **staff)
    for _ in range(2):
        api.call("POST", "/v1/members/me/check-ins", {}, as_="bob")
    api.call("GET", "/v1/members/bob/actions", **staff)
    api.call("GET", "/v1/members/me/actions", as_="bob")


def simulations(api: Api, admin: CallAs) -> None:
    """Simulations (docs/earning-simulations.md): one started and run from its queue, read, replayed, refused."""
    body = {"simulation_id": "S-1", "program": {"referral_rates_bps": [1500]}, "from": "2026-11-01",
            "to": "2026-11-30"}
    api.call("POST", "/v1/program/simulations", body, **admin)
    api.call("POST", "/v1/program/simulations", body, **admin)
    api.call("POST", "/v1/program/simulations", {**body, "to": "2026-11-29"}, **admin)
    api.call("GET", "/v1/program/simulations/S-1", **admin)
    api.call("GET", "/v1/program/simulations/nobody", **admin)


# --- tiers and statuses (docs/earning-tiers.md) ------------------------------------------------------------------
def tiers_and_statuses(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Tiers published (and read); under them a referee's first purchase (the buyer's standing put, the
    referrer's count moved), its full refund, a member read showing the tier, a bundle sale and its refund."""
    api.call("GET", "/v1/tiers", **admin)
    api.call("PUT", "/v1/tiers", {"tiers": [{"tier": "gold", "min_spend_12m_minor": 1000, "discount_bps": 1500,
                                             "points_multiplier_bps": 12000}],
                                  "statuses": [{"status": "shareholder", "min_qualified_referrals": 1,
                                                "points_multiplier_bps": 15000}]}, **admin)
    ann = api.sign_up("tier-ann")
    api.sign_up("tier-ben", ann["referral_code"])
    api.purchase("T-O-1", "tier-ben", 2000)
    api.refund("T-O-1", "T-R-1", 2000)
    api.call("GET", "/v1/members/tier-ben", **staff)
    card = api.call("POST", "/v1/bundle-sales", {"sale_id": "T-B-1", "member_id": "tier-ben", "product_id": "WASH-2"},
                    **staff).body["card_id"]
    api.call("POST", f"/v1/bundle-cards/{card}/refunds", {"refund_id": "T-B-R-1"}, **staff)


def stored_value(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Stored value (docs/wallet.md): the settings read and set, a top-up (and its replay), a member read showing it
    (the programme's currency), paying with it and a refund giving it back, a withdrawal at the counter."""
    api.call("GET", "/v1/wallet/settings", **admin)
    api.call("PUT", "/v1/wallet/settings", {"top_up_bonus": [{"min_minor": 1000, "bonus_bps": 100}],
                                            "max_principal_minor": 500000}, **admin)
    api.call("GET", "/v1/top-ups/quote?member_id=li&amount_minor=5000", **staff)
    for _ in range(2):
        api.call("POST", "/v1/top-ups", {"top_up_id": "TU-1", "member_id": "li", "amount_minor": 5000,
                                         "currency": "CNY"}, **staff)
    api.call("GET", "/v1/members/li", **staff)
    api.purchase("SV-O-1", "li", 3000, stored_value_minor=3000)
    api.refund("SV-O-1", "SV-R-1", 1000)
    code = api.call("GET", "/v1/members/me/card", as_="li").body["member_code"]
    api.call("POST", "/v1/members/li/stored-value/withdrawals", {"withdrawal_id": "WD-1", "member_code": code},
             **staff)


def bundle_cards(api: Api, admin: CallAs) -> None:
    """Bundle cards: products put and listed; a card sold (replayed, refused), read, used (replayed, used up, its
    refund refused through purchases), refunded (replayed); the holder's read lists their cards."""
    staff: CallAs = {"as_": "pos", "groups": ("staff",)}
    api.call("PUT", "/v1/bundles/WASH-2", {"name": "2 washes", "uses": 2, "price_minor": 5000, "valid_days": 30},
             **admin)
    api.call("GET", "/v1/bundles", as_="bob")
    sale = {"sale_id": "B-S-1", "member_id": "bob", "product_id": "WASH-2"}
    card = api.call("POST", "/v1/bundle-sales", sale, **staff).body["card_id"]
    api.call("POST", "/v1/bundle-sales", sale, **staff)
    api.call("POST", "/v1/bundle-sales", {**sale, "product_id": "NONE"}, **staff)
    api.call("GET", f"/v1/bundle-cards/{card}", **staff)
    api.call("GET", "/v1/members/bob", **staff)
    for use_id in ("U-1", "U-1", "U-2", "U-3"):
        api.call("POST", f"/v1/bundle-cards/{card}/uses", {"use_id": use_id}, **staff)
    api.refund("B-S-1", "B-R-1", 100)
    # to a referee whose referrer's credit screening holds (signed up on the referrer's phone): its review opens
    second = api.call("POST", "/v1/bundle-sales", {**sale, "sale_id": "B-S-2", "member_id": "twin"},
                      **staff).body["card_id"]
    for _ in range(2):
        api.call("POST", f"/v1/bundle-cards/{second}/refunds", {"refund_id": "B-R-2"}, **staff)
    api.tick()


def coupons_and_rewards(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Templates (one automatic), a sign-up that gets its coupon, a coupon issued, redeemed, refused, replayed and
    voided; the day's birthday coupons, twice; the catalogue and a coupon reward redeemed by reward_id."""
    api.call("PUT", "/v1/coupon-templates/welcome", {"name": "Welcome", "amount_off_minor": 500, "valid_days": 30,
                                                     "per_member_limit": 1, "issue_on": "sign_up"}, **admin)
    api.call("PUT", "/v1/coupon-templates/cake", {"name": "Cake", "amount_off_minor": 500, "valid_days": 30,
                                                  "per_member_limit": 1, "issue_on": "birthday"}, **admin)
    api.call("PUT", "/v1/coupon-templates/ten", {"name": "Ten", "percent_off_bps": 1000, "valid_days": 30}, **admin)
    api.call("GET", "/v1/coupon-templates", **staff)
    from zoneinfo import ZoneInfo

    today = api.gateway.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
    api.sign_up("cy", birthday=f"1990-{today:%m-%d}")
    issue = {"issue_id": "CI-1", "template_id": "ten", "member_id": "cy"}
    code = api.call("POST", "/v1/coupons", issue, **staff).body["code"]
    api.call("POST", "/v1/coupons", issue, **staff)
    use = {"redemption_id": "CR-1", "member_id": "cy", "subtotal_minor": 1000}
    api.call("POST", f"/v1/coupons/{code}/redemptions", use, **staff)
    api.call("POST", f"/v1/coupons/{code}/redemptions", use, **staff)
    api.call("POST", "/v1/coupon-redemptions/CR-1/void", **staff)
    api.call("POST", "/v1/coupon-redemptions/CR-1/void", **staff)
    api.call("GET", "/v1/members/me/coupons", as_="cy")
    api.call("GET", "/v1/members/cy/coupons", **staff)
    from functions.birthdaycoupons.app import handler as birthdays

    for _ in range(2):
        api.gateway.run(birthdays, {"job": "birthday-coupons"}, "BirthdayCouponsFunction")
    api.call("PUT", "/v1/rewards/ten-off", {"name": "Ten off", "points": 1, "stock": 5, "coupon_template_id": "cake"},
             **admin)
    api.call("GET", "/v1/rewards", as_="cy")
    api.call("POST", "/v1/adjustments", {"adjustment_id": "A-cy", "member_id": "cy", "points": 5, "reason": "r"},
             **admin)
    api.call("POST", "/v1/redemptions", {"reward_id": "ten-off"}, as_="cy", headers={"Idempotency-Key": "k-cy"})


def partners_and_links(api: Api, admin: CallAs) -> None:
    """Partners, links of a partner and a member (made, replayed, listed), the disclosures, the landing page (a
    partner's link, a member's referral code, a forged code) and the QR codes."""
    partner = {"partner_id": "P-1", "name": "Wang", "email": "w@example.com", "commission_bps": 500,
               "attribution_days": 30}
    for _ in range(2):
        api.call("POST", "/v1/partners", partner, **admin)
    api.call("GET", "/v1/partners", **admin)
    api.call("GET", "/v1/partners/P-1", **admin)
    made = api.call("POST", "/v1/links", {"link_id": "L-1", "partner_id": "P-1"}, **admin).body
    api.call("POST", "/v1/links", {"link_id": "L-1", "partner_id": "P-1"}, **admin)
    api.call("POST", "/v1/links", {"link_id": "M-1"}, as_="bob")
    api.call("GET", "/v1/links", as_="bob")
    api.call("GET", "/v1/links?partner_id=P-1", **admin)
    api.call("GET", "/v1/links/settings", **admin)
    api.call("PUT", "/v1/links/settings", {"disclosures": {"member": {"en": "I get points."}}}, **admin)
    bob = api.call("GET", "/v1/members/bob", as_="bob").body["referral_code"]
    for code in (made["code"], bob, "2222222222222222"):
        for path in (f"/r/{code}", f"/r/{code}?format=json", f"/r/{code}/qr.svg", f"/r/{code}/qr.png"):
            api.gateway.invoke("GET", path, {"host": "localhost", "user-agent": "UA"}, b"")
    # What partners earn: a sign-up through the link (code and click id), a purchase, a refund, the commission,
    # the ledger, payouts (refused and made), the report (JSON and CSV).
    _, _, landed = api.gateway.invoke("GET", f"/r/{made['code']}?format=json", {"host": "localhost"}, b"")
    api.sign_up("pam", made["code"])
    api.call("POST", "/v1/members", {"email": "quinn@example.com", "display_name": "Quinn",
                                     "click_id": json.loads(landed)["click_id"]}, as_="quinn")
    api.call("POST", "/v1/purchases", {"order_id": "P-O-1", "member_id": "pam", "amount_minor": 10000,
                                       "currency": "CNY"}, as_="pos", groups=("staff",))  # occurring now: bound
    api.refund("P-O-1", "P-R-1", 2000)
    api.tick()
    for path in ("commission", "ledger", "ledger/verify", "report", "report?format=csv&group_by=campaign"):
        api.call("GET", f"/v1/partners/P-1/{path}", **admin)
    api.move_clock(8 * 86_400)  # past the hold: the commission is available
    for amount in (10**9, 1):
        api.call("POST", "/v1/partners/P-1/payouts", {"payout_id": f"PO-{amount}", "amount_minor": amount}, **admin)
    # The partner signing up through its own link (the same mailbox): its commission held, the report resolving it.
    api.call("POST", "/v1/members", {"email": "w@example.com", "display_name": "W", "referral_code": made["code"]},
             as_="w")
    api.call("POST", "/v1/purchases", {"order_id": "P-O-2", "member_id": "w", "amount_minor": 10000,
                                       "currency": "CNY"}, as_="pos", groups=("staff",))  # occurring now: bound
    api.tick()
    api.call("GET", "/v1/partners/P-1/report", **admin)


def screening_and_reviews(api: Api) -> None:
    """Sign-ups and purchases with a device and a card (one on the referrer's phone: its credits held), the reviews
    listed, read, decided (and decided again: refused), and the deadline approving the one left open."""
    staff: CallAs = {"as_": "pos", "groups": ("staff",)}
    rex = api.sign_up("rex", device_id="rex-phone")
    for sub in ("twin", "twin-2"):
        api.sign_up(sub, rex["referral_code"], device_id="rex-phone")
    held = []
    for n, sub in enumerate(("twin", "twin-2")):
        bought = api.purchase(f"S-O-{n}", sub, 10000, device_id="rex-phone", payment_fingerprint="rex-card").body
        held += [c["review_id"] for c in bought["credits"] if "review_id" in c]
    api.tick()
    api.call("GET", "/v1/reviews", **staff)
    api.call("GET", f"/v1/reviews/{held[0]}", **staff)
    for _ in range(2):
        api.call("POST", f"/v1/reviews/{held[0]}/decision", {"decision": "reject", "note": "same phone"}, **staff)
    api.move_clock(15 * 86_400)  # the other is approved at its deadline


def surprises(api: Api, admin: CallAs) -> None:
    """Surprise draws (docs/earning-surprise.md): a purchase on a day nobody published yet (it records the day's
    commitment), the commitments, a paid hit, one the budget refuses, a full refund, a day revealed and one not."""
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1000], "hold_days": 0,
                                    "currency": "CNY", "surprise": {"chance_bps": 10000, "min_points": 30,
                                                                    "max_points": 30, "daily_budget": 50}}, **admin)
    api.sign_up("sam")
    api.purchase("SP-1", "sam", 1000)
    api.call("GET", "/v1/program/surprise/commitments")
    api.purchase("SP-2", "sam", 1000)  # the budget cannot pay it: unpaid
    api.refund("SP-1", "SP-R-1", 1000)
    today = api.call("GET", "/v1/program/surprise/commitments").body["today"]
    api.call("GET", f"/v1/program/surprise/days/{today}")  # not over: refused
    api.move_clock(2 * 86_400)  # over in every time zone (a day is revealed only then)
    api.call("GET", f"/v1/program/surprise/days/{today}")


def expiry_everywhere(api: Api, admin: CallAs, staff: CallAs) -> None:
    """Expiry (docs/earning-expiry.md): a rule published, then every function that writes to or shows a member's
    points meets points whose hold has ended, which it must date by the rule (it reads the programme for that)."""
    api.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1000], "hold_days": 1,
                                    "currency": "CNY", "expiry": {"months": 1}}, **admin)
    api.move_clock(120)  # the rule takes effect a minute after it is published
    api.sign_up("exa")
    rex = api.call("GET", "/v1/members/me", as_="rex").body["referral_code"]
    api.sign_up("rex-3", rex, device_id="rex-phone")
    api.purchase("EX-1", "exa", 10000)
    card = api.call("POST", "/v1/bundle-sales", {"sale_id": "EX-S-1", "member_id": "exa", "product_id": "WASH-2"},
                    **staff).body["card_id"]
    api.purchase("EX-R-1", "rex", 1000)
    api.move_clock(2 * 86_400)  # their holds have ended: each function below dates them
    api.call("GET", "/v1/members/me", as_="exa")
    api.call("POST", "/v1/top-ups", {"top_up_id": "EX-TU-1", "member_id": "exa", "amount_minor": 1000,
                                     "currency": "CNY"}, **staff)
    api.purchase("EX-2", "exa", 10000)
    api.move_clock(2 * 86_400)
    api.call("POST", f"/v1/bundle-cards/{card}/uses", {"use_id": "EX-U-1"}, **staff)
    held = [c["review_id"] for n in range(2) for c in api.purchase(
        f"EX-H-{n}", "rex-3", 10000, device_id="rex-phone", payment_fingerprint="rex-card").body["credits"]
        if "review_id" in c]
    api.tick()
    api.purchase("EX-R-2", "rex", 1000)
    api.move_clock(2 * 86_400)
    api.call("POST", f"/v1/reviews/{held[0]}/decision", {"decision": "approve", "note": "known"}, **staff)
    api.purchase("EX-R-3", "rex", 1000)
    api.move_clock(15 * 86_400)  # the other is approved at its deadline, over rex's ended hold
    api.call("GET", "/v1/members/exa", **staff)


def console_assets_are_published_and_removed(api: Api, bucket: str) -> None:
    """The deploy-time custom resource: Create puts the console's files, Delete empties the bucket."""
    from unittest.mock import patch

    from functions.console import app as console

    answers: list[str] = []
    event = {"StackId": "stack", "RequestId": "r", "LogicalResourceId": "ConsoleAssets", "ResponseURL": "https://x",
             "ResourceProperties": {"Bucket": bucket,
                                    "ApiUrl": "https://api", "CognitoDomain": "https://auth", "ClientId": "c",
                                    "RedirectUri": "https://console/"}}
    with patch.object(console, "answer", lambda _event, status, *_: answers.append(status)):
        for kind in ("Create", "Delete"):
            api.gateway.run(console.handler, {**event, "RequestType": kind}, "ConsoleFunction")
    assert answers == ["SUCCESS", "SUCCESS"]


def pretoken_signs_in_an_admin_without_mfa(api: Api) -> None:
    from functions.pretoken.app import handler as pretoken

    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="members")["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="owner")
    event = {"version": "1", "triggerSource": "TokenGeneration_Authentication", "region": "us-east-1",
             "userPoolId": pool, "userName": "owner", "callerContext": {"clientId": "app"},
             "request": {"userAttributes": {"sub": "owner"},
                         "groupConfiguration": {"groupsToOverride": ["admin"], "iamRolesToOverride": []}},
             "response": {}}
    answer = api.gateway.run(pretoken, event, "PretokenFunction")
    assert answer["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"] == []


@pytest.fixture
def recorded(api: Api, clock: FixedClock, aws: dict[str, str],
             monkeypatch: pytest.MonkeyPatch) -> dict[str, set[tuple[str, str]]]:
    recorder = Recorder(aws)
    # The sender reads the account's SES quota when no rate is configured (as on AWS); don't wait on it here.
    monkeypatch.delenv("SES_MAX_SEND_RATE", raising=False)
    monkeypatch.setattr("loyalty.outreach.messaging.time.sleep", lambda seconds: None)
    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build", recorder)
    from loyalty import wiring

    wiring.configure()  # the next clients are built from the recording session
    real_run = LocalGateway.run

    def run_as(self: LocalGateway, handler: Any, event: dict[str, Any], function: str) -> Any:
        wiring.configure()  # a cold container each time: nothing one function read is cached for another
        recorder.function = function
        try:
            return real_run(self, handler, event, function)
        finally:
            recorder.function = None

    monkeypatch.setattr(LocalGateway, "run", run_as)
    exercise(api, clock)
    console_assets_are_published_and_removed(api, aws["ConsoleBucket"])
    return dict(recorder.calls)


def test_each_function_is_granted_exactly_the_actions_it_makes(recorded: dict[str, set[tuple[str, str]]]) -> None:
    grants, needs = granted(), lambda_needs()
    assert set(grants) == {spec.logical_id for spec in template.functions()}
    for function, pairs in grants.items():
        assert recorded.get(function, set()) | needs.get(function, set()) == pairs, function


def test_no_function_can_change_or_delete_a_ledger_entry() -> None:
    for function, pairs in granted().items():
        assert not {(a, r) for a, r in pairs if r.startswith("LedgerTable") and (a in LEDGER_CHANGES or "*" in a)}, \
            function
        assert all("*" not in a for a, _ in pairs), function
        assert all(r != "*" or a in UNSCOPED for a, r in pairs), function


def test_the_ledger_table_denies_changes_to_everyone() -> None:
    ledger = template.load()["Resources"]["LedgerTable"]["Properties"]
    statements = ledger["ResourcePolicy"]["PolicyDocument"]["Statement"]
    denied = {a for s in statements if s["Effect"] == "Deny" and s["Principal"] == "*" for a in s["Action"]}
    assert denied >= LEDGER_CHANGES
    assert ledger["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert ledger["DeletionProtectionEnabled"] is True


def test_queue_and_stream_consumers_get_no_managed_policies() -> None:
    """SAM's SQS/DynamoDB events would attach managed policies that read every queue and stream."""
    for name, res in template.resources("AWS::Serverless::Function").items():
        kinds = {event["Type"] for event in res["Properties"].get("Events", {}).values()}
        assert not kinds & {"SQS", "DynamoDB", "Kinesis"}, name
