"""Programme rules: anyone signed in reads them; admins publish new versions."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY, SIGNED_IN
from loyalty.program.http import ProgramIn, ProgramOut
from loyalty.wiring import services

router = Router(tags=["Program"])


@router.operation("GET", "/v1/program", operation_id="readProgram", summary="The current program rules",
                  access=SIGNED_IN, model=ProgramOut, refusals=(503,))
def read_program() -> Response[ProgramOut]:
    return answer(ProgramOut, services().program.current())


@router.operation("GET", "/v1/program/versions/<version>", operation_id="readProgramVersion",
                  summary="Any published version of the program rules", access=SIGNED_IN, model=ProgramOut,
                  refusals=(404, 422, 503))
def read_program_version(version: Annotated[int, Path(ge=1, le=1_000_000)]) -> Response[ProgramOut]:
    return answer(ProgramOut, services().program.version(version))


@router.operation("PUT", "/v1/program", operation_id="publishProgram",
                  summary="Publish a new version of the program rules (admin)", access=ADMIN_ONLY, model=ProgramOut,
                  body=True, refusals=(409, 503))
def publish_program(body: ProgramIn) -> Response[ProgramOut]:
    rules = services().program.publish(
        points_per_currency_unit=body.points_per_currency_unit, referral_rates_bps=body.referral_rates_bps,
        hold_days=body.hold_days, currency=body.currency, expected_version=body.version)
    return answer(ProgramOut, rules)


app = create_app(router)
handler = lambda_entry(app)
