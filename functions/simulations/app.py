"""Rehearsing a rule change (admin): the recorded purchases of a period replayed under proposed rules
(docs/earning-simulations.md). The POST keeps the simulation and sends its run to this function's queue; the
queue's messages (SQS records) run it; the GET shows its progress, then its figures."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY
from loyalty.http.types import ClientId
from loyalty.shared.observability import event_entry, logger
from loyalty.simulations.http import NewSimulation, SimulationAnswer
from loyalty.wiring import simulations

router = Router(tags=["Program"])
SimulationId = Annotated[ClientId, Path(openapi_examples=examples.shown(examples.SIMULATION_ID,
                                                                        "Higher referral rates for November"))]


@router.operation("POST", "/v1/program/simulations", operation_id="simulateProgram",
                  summary="Replay a period's purchases under proposed rules (admin)", access=ADMIN_ONLY, ok=202,
                  model=SimulationAnswer, replays=True, body=True, refusals=(409,),
                  description="Writes nothing but the simulation: not the ledger, the accounts or the programme. "
                              "`program` is a `PUT /v1/program` body whose keys left out are the current "
                              "programme's; `from`/`to` are local dates of recording (at most 366 days). `202` while "
                              "it runs: `GET /v1/program/simulations/{simulation_id}` until `status` is `done`. The "
                              "same id and body again → `200` and the simulation as it is now; another body → "
                              "`409 idempotency-mismatch`.")
def simulate(body: NewSimulation) -> Response[SimulationAnswer]:
    started, simulation = simulations().start(body.simulation_id, body.request(), body.program.changes(),
                                              body.start, body.end)
    return answer(SimulationAnswer, simulation, 202 if started else 200)


@router.operation("GET", "/v1/program/simulations/<simulation_id>", operation_id="readSimulation",
                  summary="A simulation: its progress, then its figures (admin)", access=ADMIN_ONLY,
                  model=SimulationAnswer, refusals=(404, 422))
def read_simulation(simulation_id: SimulationId) -> Response[SimulationAnswer]:
    return answer(SimulationAnswer, simulations().simulation(simulation_id))


app = create_app(router)
http = lambda_entry(app)


@event_entry
def run(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The queue's messages, one simulation each (a failed run is retried by SQS, then dead-lettered)."""
    for record in event["Records"]:
        simulation_id = json.loads(record["body"])["simulation_id"]
        done = simulations().run(simulation_id)
        logger.info("simulation run", extra={"simulation_id": simulation_id,
                                             "status": done.status if done is not None else None})
    return {"batchItemFailures": []}


def handler(event: dict[str, Any], context: Any) -> Any:
    return run(event, context) if "Records" in event else http(event, context)
