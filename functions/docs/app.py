"""The API's own documents, without auth: the OpenAPI document and Swagger UI. Also the catch-all
route: an unknown path gets a problem+json 404, and a known path asked with another method a 405
naming the methods it has (``Allow``), read from the same document.

The document is generated from the other functions' routes (``make openapi``) and committed next to
this file; a contract test fails when it drifts from the code.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from loyalty.http import problems
from loyalty.http.api import Router, create_app, lambda_entry
from loyalty.http.auth import PUBLIC
from loyalty.shared.errors import MethodNotAllowed, NotFound

router = Router(tags=["Documents"])
SPEC = Path(__file__).with_name("openapi.json")


@cache
def _spec() -> str:
    return SPEC.read_text(encoding="utf-8")


@cache
def _paths() -> list[tuple[re.Pattern[str], list[str]]]:
    """Every documented path as a pattern, with its methods."""
    paths = json.loads(_spec())["paths"]
    found = []
    for template, item in paths.items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        found.append((re.compile(f"^{pattern}$"), sorted(method.upper() for method in item)))
    return found


def allowed(path: str) -> list[str]:
    """The methods a path answers, or none if no route has it."""
    return next((methods for pattern, methods in _paths() if pattern.match(path)), [])


@router.operation("GET", "/openapi.json", operation_id="openApiDocument", summary="This API's OpenAPI document",
                  access=PUBLIC, stateless=True, ok_content={"application/json": {"schema": {"type": "object"}}})
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=_spec(),
                    headers={"Cache-Control": "public, max-age=300"})


@router.operation("GET", "/docs", operation_id="swaggerUi", summary="Swagger UI for this API", access=PUBLIC,
                  stateless=True, ok_content={"text/html": {"schema": {"type": "string"}}})
def swagger_ui() -> Response[str]:
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    html = generate_swagger_html(
        _spec().replace("</", "<\\/"),
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
        persist_authorization=True,
    )
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=html)


app = create_app(router)


@app.not_found
def no_route(error: NotFoundError) -> Response[str]:
    path = router.current_event.path
    methods = allowed(path)
    refusal = MethodNotAllowed(f"{path} answers {', '.join(methods)}.", allow=methods) if methods \
        else NotFound("No such route.")
    return problems.problem(refusal.slug, refusal.status, refusal.title, refusal.detail, headers=refusal.headers)


handler = lambda_entry(app)
