"""What every API function shares: the router its routes are declared on, the resolver, the Powertools
decorator stack, and building a response from a use case's result.

A function module declares its routes with ``Router.operation`` (method, path, who may call it, its
operationId, its success model, the headers it cannot do without and the problems it answers) and ends with::

    app = create_app(router)
    handler = lambda_entry(app)

so the same routes mount in the Lambda resolver, the OpenAPI generator and the local server.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.json_encoder import Encoder
from pydantic import BaseModel

from loyalty.http import problems
from loyalty.http.auth import Access, Caller, caller_from_claims
from loyalty.http.types import Body, Problem
from loyalty.shared.errors import LoyaltyError, PayloadTooLarge, UnsupportedMediaType
from loyalty.shared.observability import fresh_metrics, logger, metrics, tracer
from loyalty.shared.once import Outcome

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=Body)

_DESCRIPTIONS = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    304: "Not modified: the If-None-Match header names the current ETag (no body)",
    400: "Bad request (problem+json)",
    401: "No or invalid token (problem+json)",
    403: "Valid token, not allowed (problem+json)",
    404: "Unknown member, order or route (problem+json)",
    409: "Conflict (problem+json)",
    413: "Body too large (problem+json)",
    415: "Body not sent as JSON (problem+json)",
    422: "Validation error (problem+json)",
    503: "Busy; nothing written, retry the same request (problem+json)",
}
REPLAYED = "The replay of an earlier identical request: its first answer, nothing written"
# Who may call an operation, in the document: public, any, signed_in, staff, admin or self_or_staff (``Access.name``).
ACCESS_EXTENSION = "x-access"
# The largest body a route reads, in bytes as sent (``Router.operation``'s ``max_body``), in the document.
BODY_LIMIT_EXTENSION = "x-max-body-bytes"
# Most writes are a few fields: 16 KiB is room for every one at its longest. Routes that carry lists say more.
MAX_BODY = 16 * 1024


@dataclass(frozen=True)
class RequiredHeader:
    """A header a route cannot do without. A request without it is refused with ``refusal`` before anything but
    who is calling is looked at, so the document can mark the header required and still tell the truth about
    the answer: the route's own problem (``400 idempotency-key-required``), not a generic validation error."""

    name: str
    refusal: type[LoyaltyError]
    detail: str

    def check(self, headers: Mapping[str, Any] | None) -> None:
        if self.name.lower() not in {str(k).lower() for k in (headers or {})}:
            raise self.refusal(self.detail)


class Router(APIGatewayHttpRouter):
    """A Powertools router whose routes also declare who may call them (``access``) and the headers they cannot
    do without (``required_headers``), by route key."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__()
        self.tags = tags
        self.access: dict[str, Access] = {}
        self.required_headers: dict[str, tuple[RequiredHeader, ...]] = {}
        self.body_limits: dict[str, int] = {}

    def operation(self, method: str, path: str, *, operation_id: str, summary: str, access: Access,
                  ok: int = 200, model: type[BaseModel] | None = None, refusals: tuple[int, ...] = (),
                  replays: bool = False, body: bool = False, headers: tuple[RequiredHeader, ...] = (),
                  stateless: bool = False, description: str | None = None,
                  ok_content: dict[str, Any] | None = None, max_body: int = MAX_BODY,
                  pages: dict[int, str] | None = None) -> Callable[[F], F]:
        """Declare a route: ``ok`` with ``model`` (or ``ok_content``), 200 with the same model when a write
        ``replays``, under a short camelCase ``operation_id``, and every problem it can answer: its own
        (``refusals``: 404, 409 …), 401 and 403 from ``access``, 413, 415 and 422 from a ``body``, the refusal
        of each required header missing, and 503 busy unless the route is ``stateless`` (calls no AWS service).
        Who may call it is also in the document, as the operation's ``x-access``; a body larger than ``max_body``
        bytes is refused (413) before it is parsed, and the limit is in the document (``x-max-body-bytes``).
        A page people open in a browser may answer some refusals as an HTML page too (``pages``: status → when):
        documented next to the problem document."""
        key = route_key(method, path)
        self.access[key] = access
        extensions: dict[str, Any] = {ACCESS_EXTENSION: access.name}
        if body:
            self.body_limits[key] = extensions[BODY_LIMIT_EXTENSION] = max_body
        if headers:
            self.required_headers[key] = headers
        shown: dict[int, OpenAPIResponse] = {ok: {"description": _DESCRIPTIONS[ok], "content": ok_content or {
            "application/json": {"model": model}}}}
        if replays:
            shown[200] = {"description": REPLAYED, "content": {"application/json": {"model": model}}}
        statuses = set(refusals) | {header.refusal.status for header in headers}
        if access.needs_token:
            statuses.add(401)
        if access.role is not None or access.members_only:
            statuses.add(403)
        if body:
            statuses |= {413, 415, 422}
        if not stateless:
            statuses.add(503)
        missing = {header.refusal.status: f"{header.refusal.title} (problem+json)" for header in headers}
        for status in sorted(statuses):
            shown[status] = {"description": missing.get(status, _DESCRIPTIONS[status]),
                             "content": {problems.PROBLEM_JSON: {"model": Problem}}}
        if 304 in shown:  # not a problem: a cached copy is still good
            shown[304] = {"description": _DESCRIPTIONS[304]}
        if body:
            shown[413]["description"] = f"Body larger than {max_body} bytes (problem+json)"
        shown.update(_as_pages(shown, pages or {}))

        def register(func: F) -> F:
            self.route(path, method.upper(), summary=summary, description=description, operation_id=operation_id,
                       tags=self.tags, responses=shown, openapi_extensions=extensions)(func)
            return func

        return register

    def caller(self) -> Caller:
        """The authenticated caller of the current request (its access was checked before routing)."""
        authorizer = self.current_event.request_context.authorizer
        claims = authorizer.jwt_claim if authorizer is not None else None
        return caller_from_claims(claims)


def _as_pages(shown: dict[int, OpenAPIResponse], pages: dict[int, str]) -> dict[int, OpenAPIResponse]:
    """Refusals a page answers as HTML too (``when`` says when), next to their problem document."""
    return {status: {"description": f"{_DESCRIPTIONS[status]}; {when}", "content": {
        **shown[status].get("content", {}), "text/html": {"schema": {"type": "string"}}}}
        for status, when in pages.items()}


def route_key(method: str, path: str) -> str:
    """``("get", "/v1/members/<member_id>")`` → ``"GET /v1/members/{member_id}"``, API Gateway's routeKey."""
    return f"{method.upper()} " + re.sub(r"<(.*?)>", lambda m: "{" + m.group(1) + "}", path)


class Api(APIGatewayHttpResolver):
    """The resolver, who may call each of its routes and the headers each cannot do without (by route key)."""

    access: dict[str, Access]
    required_headers: dict[str, tuple[RequiredHeader, ...]]
    body_limits: dict[str, int]


def json_object(text: str) -> dict[str, Any]:
    """Request bodies are JSON objects. (Powertools would quietly take the first element of a list.)"""
    try:
        value = json.loads(text)
    except RecursionError:  # nested deeper than the parser goes: bad input, not our error
        raise json.JSONDecodeError("the body is nested too deeply", text, 0) from None
    if not isinstance(value, dict):
        raise json.JSONDecodeError("the body must be a JSON object", text, 0)
    return value


# Answers are UTF-8 JSON: non-ASCII text as itself, not \\u escapes.
serialize = partial(json.dumps, separators=(",", ":"), cls=Encoder, ensure_ascii=False)


def create_app(*routers: Router) -> Api:
    app = Api(enable_validation=True, json_body_deserializer=json_object, serializer=serialize)
    app.access, app.required_headers, app.body_limits = {}, {}, {}
    for router in routers:
        app.include_router(router)
        app.access.update(router.access)
        app.required_headers.update(router.required_headers)
        app.body_limits.update(router.body_limits)
    problems.install(app)
    return app


def lambda_entry(app: Api, *, any_body_under: tuple[str, ...] = ()
                 ) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler: structured logs with the request id, a trace, metrics flushed per call.

    Who may call the route is checked first; then the headers it cannot do without; then the body's size (a
    route that reads one has a limit: 413 above it, before anything parses it); then bodies must be JSON, except
    on paths under ``any_body_under`` (where the body is not read).
    """
    access, required_headers, body_limits = app.access, app.required_headers, app.body_limits

    @fresh_metrics
    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            key = str(event.get("routeKey"))
            allowed = access.get(key)
            if allowed is not None:
                authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
                allowed.check((authorizer.get("jwt") or {}).get("claims"), event.get("pathParameters") or {})
            for header in required_headers.get(key, ()):
                header.check(event.get("headers"))
            limit = body_limits.get(key)
            if limit is not None and _body_size(event) > limit:
                raise PayloadTooLarge(f"Bodies of {key} are limited to {limit} bytes.")
            if not str(event.get("rawPath", "")).startswith(any_body_under or ("\0",)):
                if not _json_or_empty(event):
                    raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
                if not _utf8(event):
                    return problems.not_utf8()
        except LoyaltyError as error:
            return problems.proxy_response(error)
        return app.resolve(event, context)

    return handler


def _body_size(event: dict[str, Any]) -> int:
    """The body's size in bytes as the client sent it (API Gateway base64-encodes binary bodies: 4 chars, 3 bytes)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8", "surrogatepass"))


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


def answer(model: type[M], result: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[M]:
    """The response a route declares: its model built from a use case's result."""
    return Response(status_code=status, content_type="application/json", body=model.of(result), headers=headers)


def written(model: type[M], outcome: Outcome[Any], metric: str) -> Response[M]:
    """201 for a first write, 200 with the same body for its replay."""
    if not outcome.replayed:
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=1)
    return answer(model, outcome.result, 200 if outcome.replayed else 201)
