"""Surprise points' audit (no token): the days' commitments, published before each day, and a day's secret and
every draw, revealed after it (docs/earning-surprise.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import PUBLIC
from loyalty.surprises.http import Commitments, DayReveal
from loyalty.wiring import surprises

router = Router(tags=["Surprises"])
Day = Annotated[dt.date, Path(description="A local date in the programme's time zone (YYYY-MM-DD)",
                              openapi_examples=examples.shown("2026-11-22", "A day that has ended"))]
DrawCursor = Annotated[str | None, Query(
    max_length=200, pattern=r"^[A-Za-z0-9._:-]+$", description="next_cursor of the previous page",
    openapi_examples=examples.shown("ord_20261123_0001", "After this order (an example: use the next_cursor a page "
                                                         "gave)"))]


@router.operation("GET", "/v1/program/surprise/commitments", operation_id="listSurpriseCommitments",
                  summary="The surprise days' commitments (no token)", access=PUBLIC, model=Commitments,
                  description="SHA-256 of each local day's secret, published (and recorded, once) before the day: "
                              "today's, the next 7 days' and the last 7 days'.")
def list_commitments() -> Response[Commitments]:
    today, found = surprises().commitments()
    return answer(Commitments, {"today": today, "items": [
        {"date": c.day, "commitment": c.commitment, "revealed": c.revealed} for c in found]})


@router.operation("GET", "/v1/program/surprise/days/<day>", operation_id="revealSurpriseDay",
                  summary="A surprise day's secret and every draw, after the day (no token)", access=PUBLIC,
                  model=DayReveal, refusals=(409, 422),
                  description="After the local day ended: its secret (hex; its SHA-256 is the commitment) and every "
                              "purchase drawn that day with its result, so anyone can recompute each draw. Today or "
                              "later → `409 day-not-over`.")
def reveal_day(day: Day, cursor: DrawCursor = None) -> Response[DayReveal]:
    found = surprises().reveal(day, after=cursor)
    return answer(DayReveal, {"date": found.day, "commitment": found.commitment, "secret": found.secret,
                              "paid_points": found.paid_points, "next_cursor": found.next_cursor,
                              "draws": [vars(d) for d in found.draws]})


app = create_app(router)
handler = lambda_entry(app)
