"""Outreach administration: the cadence and its rules, replacement intervals, holidays, campaigns,
previews, and each member's send log."""

from __future__ import annotations

import os
from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import caller, create_app, json_response, lambda_entry, responses
from loyalty.http.schemas import (
    CampaignIn,
    CampaignOut,
    ClientId,
    HolidaysIO,
    MemberId,
    MessagesOut,
    OutreachSettingsIO,
    PreviewIn,
    PreviewOut,
    ReplacementRulesIO,
)
from loyalty.outreach.plans import Holiday, ReplacementRule
from loyalty.outreach.policy import Kind, OutreachSettings
from loyalty.wiring import outreach

router = APIGatewayHttpRouter()
TAGS = ["Outreach"]


def _admin() -> None:
    caller(router).require_admin()


@router.get("/v1/outreach/settings", summary="The cadence, the frequency cap and quiet hours", tags=TAGS,
            responses=responses(200, OutreachSettingsIO))
def read_settings() -> Response[OutreachSettingsIO]:
    _admin()
    return json_response(asdict(outreach().settings()))


@router.put("/v1/outreach/settings", summary="Change the cadence, the frequency cap and quiet hours (admin)",
            tags=TAGS, responses=responses(200, OutreachSettingsIO))
def change_settings(body: OutreachSettingsIO) -> Response[OutreachSettingsIO]:
    _admin()
    outreach().save_settings(OutreachSettings(**body.model_dump()))
    return json_response(asdict(outreach().settings()))


@router.get("/v1/outreach/replacements", summary="Replacement intervals by product or category", tags=TAGS,
            responses=responses(200, ReplacementRulesIO))
def read_replacements() -> Response[ReplacementRulesIO]:
    _admin()
    return json_response({"rules": [asdict(r) for r in outreach().replacement_rules()]})


@router.put("/v1/outreach/replacements", summary="Set the replacement intervals (admin)", tags=TAGS,
            responses=responses(200, ReplacementRulesIO))
def change_replacements(body: ReplacementRulesIO) -> Response[ReplacementRulesIO]:
    _admin()
    outreach().save_replacement_rules([ReplacementRule(**r.model_dump()) for r in body.rules])
    return json_response({"rules": [asdict(r) for r in outreach().replacement_rules()]})


@router.get("/v1/outreach/holidays", summary="The holiday calendar greetings are sent on", tags=TAGS,
            responses=responses(200, HolidaysIO))
def read_holidays() -> Response[HolidaysIO]:
    _admin()
    return json_response({"holidays": [asdict(h) for h in outreach().holidays()]})


@router.put("/v1/outreach/holidays", summary="Set the holiday calendar (admin)", tags=TAGS,
            responses=responses(200, HolidaysIO))
def change_holidays(body: HolidaysIO) -> Response[HolidaysIO]:
    _admin()
    outreach().save_holidays([Holiday(h.holiday_id, h.date.isoformat(), dict(h.names)) for h in body.holidays])
    return json_response({"holidays": [asdict(h) for h in outreach().holidays()]})


@router.post("/v1/outreach/campaigns", summary="Send a campaign to opted-in members, or those a filter keeps",
             tags=TAGS, responses={**responses(201, CampaignOut, 409), 202: {
                 "description": "Accepted: sending has started",
                 "content": {"application/json": {"model": CampaignOut}}}})
def start_campaign(body: CampaignIn) -> Response[CampaignOut]:
    _admin()
    started, campaign = outreach().start_campaign(body.model_dump(mode="json", exclude_none=True))
    return json_response(campaign, 202 if started else 200)


@router.get("/v1/outreach/campaigns/<campaign_id>", summary="A campaign and how many were sent, suppressed, failed",
            tags=TAGS, responses=responses(200, CampaignOut, 404))
def read_campaign(campaign_id: Annotated[ClientId, Path()]) -> Response[CampaignOut]:
    _admin()
    return json_response(outreach().campaign(campaign_id))


@router.post("/v1/outreach/preview", summary="Render an email for a member without sending it (admin)", tags=TAGS,
             responses=responses(200, PreviewOut, 404))
def preview(body: PreviewIn) -> Response[PreviewOut]:
    _admin()
    # Links point where this API answers: the configured base (PUBLIC_BASE_URL), else the host this request
    # came to (the template cannot give a routed function the API's own URL without a dependency cycle).
    base = os.environ.get("PUBLIC_BASE_URL") or f"https://{router.current_event.request_context.domain_name}"
    composed = outreach().preview(body.member_id, Kind(body.kind), body.occasion, public_base_url=base)
    return json_response({"subject": composed.subject, "text": composed.text, "html": composed.html,
                          "headers": composed.headers})


@router.get("/v1/members/<member_id>/messages", summary="A member's send log: sent, deferred, suppressed, failed",
            tags=TAGS, responses=responses(200, MessagesOut, 404))
def read_messages(member_id: Annotated[MemberId, Path()]) -> Response[MessagesOut]:
    caller(router).require_staff()
    return json_response({"items": [_message(m) for m in outreach().messages(member_id)]})


def _message(item: dict[str, Any]) -> dict[str, Any]:
    _, kind, occasion = item["sk"].split("#", 2)
    shown = {k: item[k] for k in ("status", "reason", "updated_at", "subject", "sent_at", "until") if k in item}
    return {"kind": kind, "occasion": occasion, "history": item.get("history", []), **shown}


app = create_app(router)
handler = lambda_entry(app)
