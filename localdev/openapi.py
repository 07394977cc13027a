"""Generate the API's OpenAPI document from the routes of every function in the template.

``--write`` stores it where the docs function serves it from; ``--check`` fails if the committed
document differs from what the code generates (run by ``make test``).
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "functions" / "docs" / "openapi.json"
TITLE = "loyalty-ledger"
VERSION = "1.0.0"
DESCRIPTION = (
    "A referral and points ledger. Contract v1 (`shared/API.md`). Every error is application/problem+json "
    "(RFC 9457). Authenticate with `Authorization: Bearer <JWT>` from the Cognito user pool: people send their "
    "ID token, whose `cognito:groups` carries the roles `staff` and `admin` (only for people with MFA set up); "
    "the point-of-sale server sends a client-credentials access token with the scope `loyalty/pos` and acts as "
    "staff. Each operation's `x-access` says who may call it: `public` (no token), `any` (any valid token), "
    "`signed_in` (a person, acting on itself as a member: not the till, not a partner), `staff` (or admin, or "
    "the till), `admin`, `self_or_staff` (the member its path names, or staff), `signed_in_or_staff` (a "
    "person acting on itself, or staff acting for a member the body names), `admin_or_partner` (admin, or the "
    "partner its path names: a partner signs in with the group `partner` and the claim `partner_id`), or "
    "`signed_in_or_partner` (a person or a partner, each acting on itself). The examples tell one story "
    "and can be sent in the order of the operations that need them: the example member signs up, buys, gets a "
    "refund, redeems …"
)


def generate() -> dict[str, Any]:
    sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from localdev import template

    merge = OpenAPIMerge(
        title=TITLE, version=VERSION, description=DESCRIPTION, on_conflict="error",
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT", description="Cognito access token")},
        security=[{"bearerAuth": []}],
    )
    for spec in template.functions():
        if spec.routes:
            merge.add_schema(import_module(spec.module).app.get_openapi_schema(title=TITLE, version=VERSION))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    # Routes the template leaves open (Auth: NONE) are public in the document too.
    for spec in template.functions():
        for route in spec.routes:
            operation = document["paths"].get(route.path, {}).get(route.method.lower())
            if operation is not None and not route.authorized:
                operation["security"] = []
    # Powertools documents a default 422 body of its own; ours are all problem+json, so drop its
    # default where a route did not declare 422, and the schemas nothing refers to any more.
    for item in document["paths"].values():
        for operation in item.values():
            default_422 = operation.get("responses", {}).get("422", {}).get("content", {}).get("application/json")
            if default_422 is not None:
                del operation["responses"]["422"]
    schemas = document["components"]["schemas"]
    _show_body_examples(document, schemas)
    while True:
        text = json.dumps({k: v for k, v in document.items() if k != "components"}) + json.dumps(schemas)
        unused = [name for name in schemas if f'"#/components/schemas/{name}"' not in text]
        if not unused:
            return document
        for name in unused:
            del schemas[name]


def _show_body_examples(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    """A request body's example is its model's first: shown on the media type too, where Swagger UI's "Try it
    out" and client generators look for it (the model's own ``examples`` are a JSON Schema keyword)."""
    for item in document["paths"].values():
        for operation in item.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                name = str(media.get("schema", {}).get("$ref", "")).rpartition("/")[2]
                shown = schemas.get(name, {}).get("examples")
                if shown and "examples" not in media:
                    media["examples"] = {"example": {"value": shown[0]}}


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.openapi", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render(generate())
    if args.write:
        DOCUMENT.write_text(text, encoding="utf-8")
        print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    elif DOCUMENT.read_text(encoding="utf-8") != text:
        sys.exit(f"{DOCUMENT.relative_to(ROOT)} is out of date with the routes: run `make openapi` and commit it.")
    else:
        print(f"{DOCUMENT.relative_to(ROOT)} matches the routes")


if __name__ == "__main__":
    main()
