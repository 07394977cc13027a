"""Tiers and statuses (会员卡): the admin reads and publishes them, as a version of the programme."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY
from loyalty.tiers.http import NewTiers, Tiers
from loyalty.wiring import tiers

router = Router(tags=["Tiers"])


@router.operation("GET", "/v1/tiers", operation_id="readTiers", summary="The programme's tiers and statuses (admin)",
                  access=ADMIN_ONLY, model=Tiers)
def read_tiers() -> Response[Tiers]:
    return answer(Tiers, tiers().current())


@router.operation("PUT", "/v1/tiers", operation_id="publishTiers",
                  summary="Publish a programme version with these tiers and statuses (admin)", access=ADMIN_ONLY,
                  model=Tiers, body=True, refusals=(409,),
                  description="Everything else in the programme is kept. With `version`, only if that is still the "
                              "current programme version (`409 version-conflict`). Tiers are held by 12-month spend "
                              "net of refunds, statuses by qualified referrals (docs/earning-tiers.md).")
def publish_tiers(body: NewTiers) -> Response[Tiers]:
    rules = tiers().publish(tiers=tuple(t.rule() for t in body.tiers),
                            statuses=tuple(s.rule() for s in body.statuses), expected_version=body.version)
    return answer(Tiers, rules)


app = create_app(router)
handler = lambda_entry(app)
