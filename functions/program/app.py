"""Program rules: anyone signed in reads them; admins publish new versions."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import caller, create_app, json_response, lambda_entry, responses
from loyalty.http.schemas import ProgramIn, ProgramOut
from loyalty.program import ProgramRules
from loyalty.wiring import services

router = APIGatewayHttpRouter()
TAGS = ["Program"]


def _body(rules: ProgramRules) -> dict[str, Any]:
    return {"version": rules.version, "points_per_currency_unit": rules.points_per_currency_unit,
            "referral_rates_bps": list(rules.referral_rates_bps), "hold_days": rules.hold_days,
            "currency": rules.currency}


@router.get("/v1/program", summary="The current program rules", tags=TAGS, responses=responses(200, ProgramOut))
def read_program() -> Response[ProgramOut]:
    caller(router)
    return json_response(_body(services().program.current()))


@router.get("/v1/program/versions/<version>", summary="Any published version of the program rules", tags=TAGS,
            responses=responses(200, ProgramOut, 404))
def read_program_version(version: Annotated[int, Path(ge=1, le=1_000_000)]) -> Response[ProgramOut]:
    caller(router)
    return json_response(_body(services().program.version(version)))


@router.put("/v1/program", summary="Publish a new version of the program rules (admin)", tags=TAGS,
            responses=responses(200, ProgramOut, 409))
def publish_program(body: ProgramIn) -> Response[ProgramOut]:
    caller(router).require_admin()
    rules = services().program.publish(
        points_per_currency_unit=body.points_per_currency_unit, referral_rates_bps=body.referral_rates_bps,
        hold_days=body.hold_days, currency=body.currency, expected_version=body.version)
    return json_response(_body(rules))


app = create_app(router)
handler = lambda_entry(app)
