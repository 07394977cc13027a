"""The refusals every feature can answer. Each carries the problem slug and HTTP status the API maps it to.

A feature's own refusals (``insufficient-points``, ``member-exists`` …) subclass ``LoyaltyError`` in the
feature's ``domain`` module. The mapping to ``application/problem+json`` happens in one place
(``loyalty.http.problems``); the domain only raises.
"""

from __future__ import annotations

from typing import Any


class LoyaltyError(Exception):
    """Base class: a request the domain refuses. Nothing has been written when it is raised."""

    slug = "internal-error"
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class ValidationProblem(LoyaltyError):
    slug, status, title = "validation-error", 422, "Request does not fit the schema"

    def __init__(self, detail: str, *, loc: list[str | int] | None = None) -> None:
        super().__init__(detail, errors=[{"loc": loc or [], "msg": detail}])


class Unauthorized(LoyaltyError):
    slug, status, title = "unauthorized", 401, "Missing or invalid token"


class Forbidden(LoyaltyError):
    slug, status, title = "forbidden", 403, "Not allowed"


class NotFound(LoyaltyError):
    slug, status, title = "not-found", 404, "Not found"


class IdempotencyMismatch(LoyaltyError):
    slug, status, title = "idempotency-mismatch", 409, "Id or key reused with a different request"


class IdempotencyKeyRequired(LoyaltyError):
    slug, status, title = "idempotency-key-required", 400, "Idempotency-Key header required"


class MethodNotAllowed(LoyaltyError):
    slug, status, title = "method-not-allowed", 405, "Method not allowed"

    def __init__(self, detail: str, *, allow: list[str]) -> None:
        super().__init__(detail, headers={"Allow": ", ".join(allow)})


class UnsupportedMediaType(LoyaltyError):
    slug, status, title = "unsupported-media-type", 415, "Unsupported media type"


class PayloadTooLarge(LoyaltyError):
    slug, status, title = "payload-too-large", 413, "Payload too large"


class VersionConflict(LoyaltyError):
    slug, status, title = "version-conflict", 409, "The resource changed since it was read"


class Busy(LoyaltyError):
    """Contention or throttling outlasted the bounded retries. Retrying the same request is safe."""

    slug, status, title = "busy", 503, "Temporarily busy"

    def __init__(self, detail: str = ("The service is busy. Retry the same request (same id or Idempotency-Key): "
                                      "it is applied at most once.")) -> None:
        super().__init__(detail, headers={"Retry-After": "1"})
