"""The API's own documents, without auth: the OpenAPI document and Swagger UI (a small page whose assets are
cached for a year; each answers 304 to a client that has it, and all are 404s where the stack sets
``SERVE_DOCS=false``). Also the catch-all route: an unknown path gets a problem+json 404, and a known path
asked with another method a 405 naming the methods it has (``Allow``), read from the same document.

The document is generated from the other functions' routes (``make openapi``) and committed next to
this file; a contract test fails when it drifts from the code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from aws_lambda_powertools.shared.version import VERSION

from loyalty.http import examples, problems
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


def _enabled() -> bool:
    """Docs are served unless the stack says not to (``ServeDocs``: "false" in production makes them 404s)."""
    return os.environ.get("SERVE_DOCS", "true").lower() != "false"


def _cached(body: str, content_type: str, cache_control: str) -> Response[str]:
    """A document with a strong ETag: a client (or CloudFront) that has it gets a bodyless 304."""
    if not _enabled():
        raise NotFound("No such route.")
    tag = f'"{hashlib.sha256(body.encode()).hexdigest()[:32]}"'
    headers = {"Cache-Control": cache_control, "ETag": tag}
    given = {t.strip() for t in str(router.current_event.headers.get("if-none-match") or "").split(",")}
    if tag in given or "*" in given:
        return Response(status_code=304, body="", headers=headers)
    return Response(status_code=200, content_type=content_type, body=body, headers=headers)


# Swagger UI's script and style sheet, as Powertools ships them, named with its version: a new version is a new
# name, so browsers and CloudFront may keep each for a year.
ASSETS = {f"{stem}-{VERSION}.min.{suffix}": (f"{stem}.min.{suffix}", content_type)
          for stem, suffix, content_type in (("swagger-ui-bundle", "js", "text/javascript; charset=utf-8"),
                                             ("swagger-ui", "css", "text/css; charset=utf-8"))}
SCRIPT, STYLE = ASSETS


@cache
def _asset(name: str) -> str:
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    return (Path(generate_swagger_html.__code__.co_filename).parent / name).read_text(encoding="utf-8")


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>loyalty-ledger API</title>
<link rel="stylesheet" href="/docs/{style}"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/{script}"></script>
<script>SwaggerUIBundle({{url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, filter: true,
  showExtensions: true, showCommonExtensions: true, persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl], layout: "BaseLayout"}});</script>
</body></html>"""
Asset = Annotated[str, PathParam(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$",
                                 description="A versioned Swagger UI asset named by /docs",
                                 openapi_examples=examples.shown(STYLE, "The style sheet"))]


@router.operation("GET", "/openapi.json", operation_id="openApiDocument", summary="This API's OpenAPI document",
                  access=PUBLIC, stateless=True, refusals=(304, 404),
                  ok_content={"application/json": {"schema": {"type": "object"}}},
                  description="Cached for 5 minutes, with an ETag (If-None-Match answers 304). "
                              "A 404 where the stack does not serve docs (ServeDocs false).")
def openapi_document() -> Response[str]:
    return _cached(_spec(), "application/json", "public, max-age=300")


@router.operation("GET", "/docs", operation_id="swaggerUi", summary="Swagger UI for this API", access=PUBLIC,
                  stateless=True, refusals=(304, 404), ok_content={"text/html": {"schema": {"type": "string"}}},
                  description="A small page that loads Swagger UI's assets (/docs/{asset}, cached for a year) and "
                              "the OpenAPI document. A 404 where the stack does not serve docs (ServeDocs false).")
def swagger_ui() -> Response[str]:
    return _cached(PAGE.format(script=SCRIPT, style=STYLE), "text/html; charset=utf-8", "public, max-age=300")


@router.operation("GET", "/docs/<asset>", operation_id="swaggerUiAsset", summary="A Swagger UI asset",
                  access=PUBLIC, stateless=True, refusals=(304, 404, 422),
                  ok_content={"text/javascript": {"schema": {"type": "string"}},
                              "text/css": {"schema": {"type": "string"}}},
                  description="Script and style sheet of /docs, named by their content: cached for a year "
                              "(immutable), with an ETag.")
def swagger_ui_asset(asset: Asset) -> Response[str]:
    if asset not in ASSETS:
        raise NotFound(f"No asset {asset}.")
    file, content_type = ASSETS[asset]
    return _cached(_asset(file), content_type, "public, max-age=31536000, immutable")


app = create_app(router)


@app.not_found
def no_route(error: NotFoundError) -> Response[str]:
    path = router.current_event.path
    methods = allowed(path)
    if methods and router.current_event.http_method == "OPTIONS":
        # A browser's CORS preflight (the console calls the API from its own origin): the catch-all route takes
        # OPTIONS, so it answers 204 with what the path allows; API Gateway adds the CORS headers it is
        # configured with (CorsConfiguration) and drops any of ours.
        return Response(status_code=204, headers={"Allow": ", ".join([*methods, "OPTIONS"])}, body="")
    refusal = MethodNotAllowed(f"{path} answers {', '.join(methods)}.", allow=methods) if methods \
        else NotFound("No such route.")
    return problems.problem(refusal.slug, refusal.status, refusal.title, refusal.detail, headers=refusal.headers)


handler = lambda_entry(app)
