"""The merchant dashboard's figures for a period (staff)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import STAFF_ONLY
from loyalty.http.types import PeriodFrom, PeriodTo
from loyalty.metrics.http import Metrics
from loyalty.wiring import metrics

router = Router(tags=["Metrics"])


@router.operation("GET", "/v1/metrics", operation_id="readMetrics",
                  summary="The dashboard's figures for a period of local days (staff)", access=STAFF_ONLY,
                  model=Metrics, refusals=(422,))
def read_metrics(first: PeriodFrom = None, last: PeriodTo = None) -> Response[Metrics]:
    return answer(Metrics, metrics().service.report(first, last))


app = create_app(router)
handler = lambda_entry(app)
