"""Programme rules: anyone signed in reads them; admins publish new versions."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY, ANY_CALLER
from loyalty.program.http import NewProgramVersion, Program
from loyalty.wiring import services

router = Router(tags=["Program"])
Version = Annotated[int, Path(ge=1, le=1_000_000,
                              openapi_examples=examples.shown(examples.PROGRAM_VERSION, "The first version"))]


@router.operation("GET", "/v1/program", operation_id="readProgram", summary="The current program rules",
                  access=ANY_CALLER, model=Program)
def read_program() -> Response[Program]:
    return answer(Program, services().program.current())


@router.operation("GET", "/v1/program/versions/<version>", operation_id="readProgramVersion",
                  summary="Any published version of the program rules", access=ANY_CALLER, model=Program,
                  refusals=(404, 422))
def read_program_version(version: Version) -> Response[Program]:
    return answer(Program, services().program.version(version))


@router.operation("PUT", "/v1/program", operation_id="publishProgram",
                  summary="Publish a new version of the program rules (admin)", access=ADMIN_ONLY, model=Program,
                  body=True, refusals=(409,),
                  description="A body without `compliance_profile` keeps the current one. Rules the profile forbids "
                              "are refused with `422 compliance-profile` (`cn-wechat`: at most two referral levels "
                              "earn, and no points for sharing). `timezone`, `actions` and `multipliers` left out "
                              "keep their current values (docs/earning.md).")
def publish_program(body: NewProgramVersion) -> Response[Program]:
    rules = services().program.publish(expected_version=body.version, **body.changes())
    return answer(Program, rules)


app = create_app(router)
handler = lambda_entry(app)
