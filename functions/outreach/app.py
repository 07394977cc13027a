"""Outreach administration: the cadence and its rules, replacement intervals, holidays, campaigns,
previews, and each member's send log."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY, STAFF_ONLY
from loyalty.http.types import ClientId, MemberIdInPath
from loyalty.outreach import plans, policy
from loyalty.outreach.http import (
    Campaign,
    EmailPreview,
    HolidayCalendar,
    MessageLog,
    NewCampaign,
    NewEmailPreview,
    OutreachSettings,
    ReplacementRules,
)
from loyalty.outreach.policy import ReminderKind
from loyalty.wiring import outreach

router = Router(tags=["Outreach"])
# The replacement rules, the holiday calendar and a campaign are each kept in one DynamoDB item (400 KB at most).
LIST_MAX_BODY = 256 * 1024
CampaignId = Annotated[ClientId, Path(openapi_examples=examples.shown(examples.CAMPAIGN_ID,
                                                                    "The spring tyre campaign"))]


@router.operation("GET", "/v1/outreach/settings", operation_id="readOutreachSettings",
                  summary="The cadence, the frequency cap and quiet hours (admin)", access=ADMIN_ONLY,
                  model=OutreachSettings)
def read_settings() -> Response[OutreachSettings]:
    return answer(OutreachSettings, asdict(outreach().admin.settings()))


@router.operation("PUT", "/v1/outreach/settings", operation_id="changeOutreachSettings",
                  summary="Change the cadence, the frequency cap and quiet hours (admin)", access=ADMIN_ONLY,
                  model=OutreachSettings, body=True)
def change_settings(body: OutreachSettings) -> Response[OutreachSettings]:
    saved = outreach().admin.save_settings(policy.OutreachSettings(**body.model_dump()))
    return answer(OutreachSettings, asdict(saved))


@router.operation("GET", "/v1/outreach/replacements", operation_id="readReplacementRules",
                  summary="Replacement intervals by product or category (admin)", access=ADMIN_ONLY,
                  model=ReplacementRules)
def read_replacements() -> Response[ReplacementRules]:
    return answer(ReplacementRules, {"rules": [_rule(r) for r in outreach().admin.replacement_rules()]})


@router.operation("PUT", "/v1/outreach/replacements", operation_id="changeReplacementRules",
                  summary="Set the replacement intervals (admin)", access=ADMIN_ONLY, model=ReplacementRules,
                  body=True, max_body=LIST_MAX_BODY)
def change_replacements(body: ReplacementRules) -> Response[ReplacementRules]:
    saved = outreach().admin.save_replacement_rules(
        [plans.ReplacementRule.from_dict(r.model_dump(by_alias=True)) for r in body.rules])
    return answer(ReplacementRules, {"rules": [_rule(r) for r in saved]})


def _rule(rule: plans.ReplacementRule) -> dict[str, object]:
    return {**asdict(rule), "guide": asdict(rule)["guide"] or None}  # a rule without a guide has "guide": null


@router.operation("GET", "/v1/outreach/holidays", operation_id="readHolidays",
                  summary="The holiday calendar greetings are sent on (admin)", access=ADMIN_ONLY,
                  model=HolidayCalendar)
def read_holidays() -> Response[HolidayCalendar]:
    return answer(HolidayCalendar, {"holidays": [asdict(h) for h in outreach().admin.holidays()]})


@router.operation("PUT", "/v1/outreach/holidays", operation_id="changeHolidays",
                  summary="Set the holiday calendar (admin)", access=ADMIN_ONLY, model=HolidayCalendar, body=True,
                  max_body=LIST_MAX_BODY)
def change_holidays(body: HolidayCalendar) -> Response[HolidayCalendar]:
    saved = outreach().admin.save_holidays(
        [plans.Holiday(h.holiday_id, h.date.isoformat(), dict(h.names)) for h in body.holidays])
    return answer(HolidayCalendar, {"holidays": [asdict(h) for h in saved]})


@router.operation("POST", "/v1/outreach/campaigns", operation_id="startCampaign",
                  summary="Send a campaign to opted-in members, or those a filter keeps (admin)", access=ADMIN_ONLY,
                  ok=202, model=Campaign, replays=True, body=True, refusals=(409,), max_body=LIST_MAX_BODY)
def start_campaign(body: NewCampaign) -> Response[Campaign]:
    started, campaign = outreach().planner.start_campaign(body.model_dump(mode="json", exclude_none=True))
    return answer(Campaign, campaign, 202 if started else 200)


@router.operation("GET", "/v1/outreach/campaigns/<campaign_id>", operation_id="readCampaign",
                  summary="A campaign and how many were sent, suppressed, failed (admin)", access=ADMIN_ONLY,
                  model=Campaign, refusals=(404, 422))
def read_campaign(campaign_id: CampaignId) -> Response[Campaign]:
    return answer(Campaign, outreach().admin.campaign(campaign_id))


@router.operation("POST", "/v1/outreach/preview", operation_id="previewEmail",
                  summary="Render an email for a member without sending it (admin)", access=ADMIN_ONLY,
                  model=EmailPreview, body=True, refusals=(404,))
def preview(body: NewEmailPreview) -> Response[EmailPreview]:
    # Links point where this API answers: the configured base (PUBLIC_BASE_URL), else the host this request
    # came to (the template cannot give a routed function the API's own URL without a dependency cycle).
    base = os.environ.get("PUBLIC_BASE_URL") or f"https://{router.current_event.request_context.domain_name}"
    composed = outreach().content.preview(body.member_id, ReminderKind(body.kind), body.occasion,
                                          public_base_url=base)
    return answer(EmailPreview, composed)


@router.operation("GET", "/v1/members/<member_id>/messages", operation_id="readMessages",
                  summary="A member's send log: sent, deferred, suppressed, failed (staff)", access=STAFF_ONLY,
                  model=MessageLog, refusals=(404, 422))
def read_messages(member_id: MemberIdInPath) -> Response[MessageLog]:
    return answer(MessageLog, {"items": outreach().admin.messages(member_id)})


app = create_app(router)
handler = lambda_entry(app)
