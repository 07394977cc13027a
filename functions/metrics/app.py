"""The merchant dashboard's figures for a period (staff)."""

from __future__ import annotations

from typing import Annotated, Any, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import STAFF_ONLY
from loyalty.metrics.http import Metrics
from loyalty.wiring import metrics

router = Router(tags=["Metrics"])


def _a_date(schema: dict[str, Any]) -> None:
    """``format: date`` on the parameter's string (not beside the ``anyOf`` with null), so that clients and the
    fuzz suite's generator see a date."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["format"] = "date"


DATE = cast(dict[str, Any], _a_date)  # pydantic takes a function here; the annotation only names the mapping
# Checked by the use case (metrics.domain.period_of), which names the parameter in its 422.
First = Annotated[str | None, Query(alias="from", max_length=10, json_schema_extra=DATE, description=(
    "The period's first local date, YYYY-MM-DD (default: 29 days before to)"),
    openapi_examples=examples.shown(examples.METRICS_FROM, "November 2026"))]
Last = Annotated[str | None, Query(alias="to", max_length=10, json_schema_extra=DATE, description=(
    "The period's last local date, YYYY-MM-DD (default: today); at most 366 days after from"),
    openapi_examples=examples.shown(examples.METRICS_TO, "November 2026"))]


@router.operation("GET", "/v1/metrics", operation_id="readMetrics",
                  summary="The dashboard's figures for a period of local days (staff)", access=STAFF_ONLY,
                  model=Metrics, refusals=(422,))
def read_metrics(first: First = None, last: Last = None) -> Response[Metrics]:
    return answer(Metrics, metrics().service.report(first, last))


app = create_app(router)
handler = lambda_entry(app)
