"""Every error leaves as application/problem+json (RFC 9457), mapped in this one place."""

from __future__ import annotations

import json
import os
import sys
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from loyalty.shared.errors import Busy, LoyaltyError
from loyalty.shared.once import TRANSIENT_CODES, Contention

PROBLEM_JSON = "application/problem+json"
DEFAULT_TYPE_BASE = "https://loyalty-ledger.example/problems"

logger = Logger(child=True)


def problem(slug: str, status: int, title: str, detail: str, *, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=PROBLEM_JSON,
                    body=problem_body(slug, status, title, detail, errors=errors), headers=headers)


def problem_body(slug: str, status: int, title: str, detail: str, *,
                 errors: list[dict[str, Any]] | None = None) -> str:
    base = os.environ.get("PROBLEM_TYPE_BASE", DEFAULT_TYPE_BASE).rstrip("/")
    body: dict[str, Any] = {"type": f"{base}/{slug}", "title": title, "status": int(status), "detail": detail}
    if errors is not None:
        body["errors"] = errors
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str)


def proxy_response(error: LoyaltyError) -> dict[str, Any]:
    """A ready API Gateway response for a refusal made before routing (who may call, the media type)."""
    return {
        "statusCode": error.status,
        "headers": {"Content-Type": PROBLEM_JSON, **error.headers},
        "body": problem_body(error.slug, error.status, error.title, error.detail, errors=error.errors),
        "isBase64Encoded": False,
    }


def not_utf8() -> dict[str, Any]:
    """A ready API Gateway response for a body that is not UTF-8 text (answered before routing)."""
    return {
        "statusCode": 422,
        "headers": {"Content-Type": PROBLEM_JSON},
        "body": problem_body("validation-error", 422, "Request does not fit the schema",
                             "The body is not UTF-8 text.", errors=[{"loc": ["body"], "msg": "not UTF-8"}]),
        "isBase64Encoded": False,
    }


def _validation_errors(errors: Any) -> list[dict[str, Any]]:
    shown = []
    for e in errors:
        msg = str(e.get("msg", e.get("type", "invalid")))
        if e.get("type") == "json_invalid" and (e.get("ctx") or {}).get("error"):
            msg = f"{msg}: {e['ctx']['error']}"
        shown.append({"loc": list(e.get("loc", ())), "msg": msg})
    return shown


def install(app: Any) -> None:
    """Register the exception handlers that turn every failure into a problem document."""

    @app.exception_handler(LoyaltyError)
    def domain_error(error: LoyaltyError) -> Response[str]:
        return problem(error.slug, error.status, error.title, error.detail, errors=error.errors,
                       headers=error.headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[str]:
        errors = list(error.errors())
        if any(tuple(e.get("loc", ()))[:1] == ("response",) for e in errors):
            # Powertools checks answers against the route's model too: a mismatch is our bug, never the client's.
            logger.error("response does not fit its model", extra={"errors": _validation_errors(errors)})
            return internal_error()
        return problem("validation-error", 422, "Request does not fit the schema",
                       "The request has invalid fields; see errors.", errors=_validation_errors(errors))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported(error: RequestUnsupportedContentType) -> Response[str]:
        return problem("unsupported-media-type", 415, "Unsupported media type",
                       "Send the body as JSON with Content-Type: application/json.")

    @app.exception_handler(Contention)
    def contended(error: Contention) -> Response[str]:
        busy = Busy()
        return problem(busy.slug, busy.status, busy.title, busy.detail, headers=busy.headers)

    @app.not_found
    def no_route(error: NotFoundError) -> Response[str]:
        return problem("not-found", 404, "Not found", "No such route.")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[str]:
        code = aws_error_code(error)
        if code in TRANSIENT_CODES:
            return contended(Contention(str(error)))
        logger.exception("AWS refused a call" if code is not None else "unhandled error")
        return internal_error()


def aws_error_code(error: BaseException) -> str | None:
    """The error code of an AWS refusal (botocore's ``ClientError``), else None. botocore is not imported for
    this: an error of its can only have been raised once it was loaded (which keeps it off the cold start)."""
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None or not isinstance(error, exceptions.ClientError):
        return None
    return str(error.response.get("Error", {}).get("Code", ""))


def internal_error() -> Response[str]:
    return problem("internal-error", HTTPStatus.INTERNAL_SERVER_ERROR, "Internal error",
                   "Something went wrong on our side. Retrying the same request is safe: it applies at most once.")
