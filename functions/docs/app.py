"""The API's own documents, without auth: the OpenAPI document and Swagger UI. Also the catch-all
route, so an unknown path gets a problem+json 404 rather than API Gateway's own body.

The document is generated from the other functions' routes (``make openapi``) and committed next to
this file; a contract test fails when it drifts from the code.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import create_app, lambda_entry

router = APIGatewayHttpRouter()
SPEC = Path(__file__).with_name("openapi.json")


@cache
def _spec() -> str:
    return SPEC.read_text(encoding="utf-8")


@router.get("/openapi.json", summary="This API's OpenAPI document", tags=["Documents"],
            responses={200: {"description": "OpenAPI 3.1 document",
                             "content": {"application/json": {"schema": {"type": "object"}}}}})
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=_spec(),
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/docs", summary="Swagger UI for this API", tags=["Documents"],
            responses={200: {"description": "Swagger UI page",
                             "content": {"text/html": {"schema": {"type": "string"}}}}})
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
handler = lambda_entry(app)
