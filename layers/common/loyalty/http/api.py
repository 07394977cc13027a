"""What every API function shares: the resolver, the Powertools decorator stack, small response helpers.

A function module defines its routes on a ``Router`` and ends with::

    app = create_app(router)
    handler = lambda_entry(app)

so the same routes mount in the Lambda resolver, the OpenAPI generator and the local server.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from loyalty.http import problems
from loyalty.http.auth import Caller, caller_from_claims
from loyalty.http.schemas import Problem
from loyalty.observability import fresh_metrics, logger, metrics, tracer
from loyalty.usecases.once import Outcome

_DESCRIPTIONS = {
    200: "OK (for a write: the replay of an earlier identical request, nothing written)",
    201: "Created",
    400: "Bad request (problem+json)",
    401: "No or invalid token (problem+json)",
    403: "Valid token, not allowed (problem+json)",
    404: "Unknown member, order or route (problem+json)",
    409: "Conflict (problem+json)",
    422: "Validation error (problem+json)",
    503: "Busy; nothing written, retry the same request (problem+json)",
}


def json_object(text: str) -> dict[str, Any]:
    """Request bodies are JSON objects. (Powertools would quietly take the first element of a list.)"""
    try:
        value = json.loads(text)
    except RecursionError:  # nested deeper than the parser goes: bad input, not our error
        raise json.JSONDecodeError("the body is nested too deeply", text, 0) from None
    if not isinstance(value, dict):
        raise json.JSONDecodeError("the body must be a JSON object", text, 0)
    return value


MAX_SEQ = 2**63 - 1  # a cursor past any seq DynamoDB can store is not one this service issued


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The seq a cursor points below, or None if the text is not a cursor this service issued."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        seq = int(number)
    except (ValueError, UnicodeDecodeError):
        return None
    return seq if prefix == "seq" and 0 < seq <= MAX_SEQ and number == str(seq) else None


def create_app(*routers: Any) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=json_object)
    for router in routers:
        app.include_router(router)
    problems.install(app)
    return app


def lambda_entry(app: APIGatewayHttpResolver, *, any_body_under: tuple[str, ...] = ()
                 ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler: structured logs with the request id, a trace, metrics flushed per call.

    Bodies must be JSON, except on paths under ``any_body_under`` (where the body is not read).
    """

    @fresh_metrics
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not str(event.get("rawPath", "")).startswith(any_body_under or ("\0",)):
            if not _json_or_empty(event):
                return problems.unsupported_media_type()
            if not _utf8(event):
                return problems.not_utf8()
        return app.resolve(event, context)

    return handler


def _json_or_empty(event: dict[str, Any]) -> bool:
    """Bodies are JSON: a body sent as a form or anything else is refused before it is parsed as one."""
    if not event.get("body"):
        return True
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type", "application/json")).split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _utf8(event: dict[str, Any]) -> bool:
    """A binary body (API Gateway base64-encodes those) must still be UTF-8 text to be JSON."""
    if not event.get("isBase64Encoded") or not event.get("body"):
        return True
    try:
        base64.b64decode(event["body"]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def caller(router: Any) -> Caller:
    """The authenticated caller of the current request."""
    event = router.current_event
    authorizer = event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer is not None else None
    return caller_from_claims(claims)


def responses(ok: int, model: type[BaseModel], *errors: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses for a route: its success model (and replay 200 for a 201) plus its problems."""
    shown: dict[int, OpenAPIResponse] = {
        ok: {"description": _DESCRIPTIONS[ok], "content": {"application/json": {"model": model}}}}
    if ok == 201:
        shown[200] = {"description": _DESCRIPTIONS[200], "content": {"application/json": {"model": model}}}
    for status in (401, 403, 422, *errors):
        shown[status] = {"description": _DESCRIPTIONS[status],
                         "content": {problems.PROBLEM_JSON: {"model": Problem}}}
    return shown


def json_response(body: dict[str, Any], status: int = 200) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type="application/json", body=body)


def write_response(outcome: Outcome, metric: str) -> Response[dict[str, Any]]:
    """201 for a first write, 200 with the same body for its replay."""
    if not outcome.replayed:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return json_response(outcome.body, 200 if outcome.replayed else 201)
