"""The OpenAPI document is one app developers can generate a good client from, and it tells the truth.

Checked on the committed document (``functions/docs/openapi.json``, what ``GET /openapi.json`` serves;
``test_openapi.py`` checks it is the generated one):

- it is valid OpenAPI 3.1 (openapi-spec-validator, where installed);
- operationIds are short, unique and camelCase;
- every date or time is a string with ``format: date-time`` or ``format: date`` (in unions with null too);
- schema names are what a client's classes should be called: PascalCase, no generator artefacts
  (``Type0``, ``IO``, ``-Input``/``-Output``) and no generic ``In``/``Out``/``Request``/``Response`` suffixes;
  no union has an inline object for a generator to name ``…Type0``;
- no two enums have the same values;
- every problem a route can answer for its inputs is declared: a body 413, 415 and 422; parameters 422
  (and no 422 without inputs); a token 401; a role 403; a required header its refusal; calling a
  table or a secret (the template's policies) 503 busy; 200 next to 201/202 only as a write's replay;
- ``x-access`` on every operation says who may call it, as the routes check it;
- required headers are marked required;
- every body and every parameter has an example, the examples fit their schemas, and they tell one story
  (the ids they share agree), so they can be sent in order (``tests/e2e/test_documented_examples.py``);
- every error response is application/problem+json with the typed ``Problem`` schema.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from localdev import openapi, template
from loyalty.http.api import ACCESS_EXTENSION, REPLAYED, route_key

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ACCESS = {"public", "any", "signed_in", "staff", "admin", "self_or_staff", "signed_in_or_staff", "admin_or_partner",
          "signed_in_or_partner"}
# signed_in: the till and partners are refused
ROLES = {"signed_in", "staff", "admin", "self_or_staff", "signed_in_or_staff", "admin_or_partner",
         "signed_in_or_partner"}
# A page people open in a browser (a referral link's landing page) says "not found" as a page too.
HTML = "text/html"
PROBLEM_REF = "#/components/schemas/Problem"
ARTEFACTS = (
    (r"Type\d+$", "a generator's name for an anonymous union member"),
    (r"IO$", "a name made of a route's words"),
    (r"-(Input|Output)$", "pydantic's split of a model used both ways"),
    (r"(?<=[a-z0-9])(In|Out)$", "a generic direction suffix"),
    (r"(Request|Response|Body|Model|Schema|Dto)$", "a generic suffix"),
    (r"^(HTTP|Body_)", "a framework's default"),
)
# Writes answered 201 that never replay: a second sign-up is refused (409 member-exists), a second check-in of the
# day too (409 action-capped).
NOT_REPLAYED = {"signUp", "checkIn"}
DATE_TIME_NAMES = re.compile(r"(^|_)(at|until|after|before|since)$")
DATE_NAMES = re.compile(r"(^|_)(date|birthday|on)$")
NOT_DATES = {"issue_on"}  # a coupon template's: the event it is issued on (sign_up, birthday …), the contract's name
LOOKS_LIKE_A_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(openapi.DOCUMENT.read_text(encoding="utf-8"))


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def schemas(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document, with where it is, recursively."""
    roots: list[tuple[str, Any]] = [(f"#/components/schemas/{name}", schema)
                                    for name, schema in document["components"]["schemas"].items()]
    for method, path, operation in operations(document):
        for parameter in operation.get("parameters", []):
            roots.append((f"{method} {path} {parameter['in']} {parameter['name']}", parameter["schema"]))
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            roots.append((f"{method} {path} body {media_type}", media.get("schema", {})))
        for status, response in operation["responses"].items():
            for media_type, media in response.get("content", {}).items():
                roots.append((f"{method} {path} {status} {media_type}", media.get("schema", {})))
    while roots:
        where, schema = roots.pop()
        if not isinstance(schema, dict):
            continue
        yield where, schema
        for key in ("properties", "patternProperties", "$defs"):
            roots += [(f"{where}.{name}", sub) for name, sub in schema.get(key, {}).items()]
        for key in ("items", "additionalProperties", "propertyNames", "not"):
            if isinstance(schema.get(key), dict):
                roots.append((f"{where}[{key}]", schema[key]))
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            roots += [(f"{where}/{key}/{i}", sub) for i, sub in enumerate(schema.get(key, []))]


def alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """A schema's non-null alternatives (itself, or the members of its anyOf/oneOf)."""
    members = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [m for m in members if m.get("type") != "null"]


def example_of(carrier: dict[str, Any]) -> Any:
    """The example a parameter or a media type shows (``example``, or the first of ``examples``)."""
    if "example" in carrier:
        return carrier["example"]
    examples: dict[str, dict[str, Any]] = carrier.get("examples", {})
    return next(iter(examples.values()), {}).get("value")


def has_example(carrier: dict[str, Any]) -> bool:
    return "example" in carrier or any("value" in e for e in carrier.get("examples", {}).values())


def routed_apps() -> dict[tuple[str, str], Any]:
    """The resolver serving each documented route, by (method, OpenAPI path)."""
    found = {}
    for spec in template.functions():
        routes = [r for r in spec.routes if r.path != "$default"]
        if routes:
            app = import_module(spec.module).app
            found.update({(r.method.lower(), r.path): app for r in routes})
    return found


def aws_data_access() -> dict[tuple[str, str], bool]:
    """Per documented route: whether its function may call a table or a secret (it can then be busy)."""
    resources = template.load()["Resources"]
    found = {}
    for spec in template.functions():
        policies = json.dumps(resources[spec.logical_id]["Properties"].get("Policies", [])).lower()
        calls = "dynamodb" in policies or "secretsmanager" in policies
        found.update({(r.method.lower(), r.path): calls for r in spec.routes if r.path != "$default"})
    return found


# --- the document -------------------------------------------------------------------------------

def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(copy.deepcopy(document))
    assert document["openapi"].startswith("3.1")


def test_operation_ids_are_short_unique_and_camel_case(document: dict[str, Any]) -> None:
    ids = [operation.get("operationId", "") for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][a-zA-Z0-9]{2,31}", operation_id), operation_id
        assert not re.search(r"(V1|Get|Post|Put|Patch|Delete)$|_", operation_id), operation_id


def test_every_date_and_time_has_its_format(document: dict[str, Any]) -> None:
    unformatted = []
    for where, schema in schemas(document):
        for name, prop in schema.get("properties", {}).items():
            strings = [m for m in alternatives(prop) if m.get("type") == "string"]
            wanted = "date-time" if DATE_TIME_NAMES.search(name) else "date" if DATE_NAMES.search(name) \
                and name not in NOT_DATES else None
            unformatted += [(f"{where}.{name}", wanted, m.get("format")) for m in strings
                            if wanted is not None and m.get("format") != wanted]
        if schema.get("type") == "string" and schema.get("examples") and "format" not in schema and all(
                isinstance(e, str) and LOOKS_LIKE_A_DATE.match(e) for e in schema["examples"]):
            unformatted.append((where, "date or date-time", None))
    assert not unformatted, unformatted
    assert len([1 for _, s in schemas(document) if s.get("format") == "date-time"]) >= 10


def test_schema_names_are_what_a_clients_classes_should_be_called(document: dict[str, Any]) -> None:
    for name in document["components"]["schemas"]:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", name), name
        for pattern, why in ARTEFACTS:
            assert not re.search(pattern, name), f"{name}: {why}"


def test_no_union_has_an_inline_object_for_a_generator_to_name(document: dict[str, Any]) -> None:
    for where, schema in schemas(document):
        for member in schema.get("anyOf", []) + schema.get("oneOf", []):
            inline_object = member.get("type") == "object" or "properties" in member
            assert not inline_object, f"{where}: a union with an inline object (a client would call it …Type0)"


def test_no_two_enums_have_the_same_values(document: dict[str, Any]) -> None:
    seen: dict[frozenset[str], str] = {}
    for where, schema in schemas(document):
        if "enum" in schema:
            values = frozenset(map(str, schema["enum"]))
            assert values not in seen, f"{where} repeats the enum of {seen[values]}"
            seen[values] = where


# --- what the routes answer -----------------------------------------------------------------------

def test_every_problem_a_route_can_answer_for_its_inputs_is_declared(document: dict[str, Any]) -> None:
    apps, busy = routed_apps(), aws_data_access()
    for method, path, operation in operations(document):
        declared = {int(s) for s in operation["responses"]}
        label = f"{method.upper()} {path}"
        parameters = operation.get("parameters", [])
        if "requestBody" in operation:
            assert {413, 415, 422} <= declared, label
        else:
            assert not {413, 415} & declared, f"{label} reads no body"
        if parameters or "requestBody" in operation:
            assert 422 in declared, label
        else:
            assert 422 not in declared, f"{label} has no input to be invalid"
        needs_token = operation.get("security") != []
        assert (401 in declared) == needs_token, label
        assert (403 in declared) == (operation[ACCESS_EXTENSION] in ROLES), label
        for header in apps[(method, path)].required_headers.get(route_key(method, path), ()):
            assert header.refusal.status in declared, f"{label}: a request without {header.name}"
        assert (503 in declared) == busy[(method, path)], f"{label}: 503 busy iff it calls a table or a secret"
        assert not {500, 502, 504} & declared, label


def test_a_200_next_to_a_201_or_202_is_the_replay_of_a_write(document: dict[str, Any]) -> None:
    replaying = set()
    for method, path, operation in operations(document):
        responses = operation["responses"]
        created = [s for s in ("201", "202") if s in responses]
        if created and "200" in responses:
            assert method == "post", path
            assert responses["200"]["description"] == REPLAYED, path
            assert responses["200"]["content"] == responses[created[0]]["content"], path
            replaying.add(operation["operationId"])
        elif created:
            assert operation["operationId"] in NOT_REPLAYED, f"{path}: a write that does not replay"
    assert {"recordPurchase", "recordRefund", "redeemPoints", "adjustPoints", "startCampaign"} <= replaying
    assert not NOT_REPLAYED & replaying


def test_x_access_says_who_may_call_each_operation_as_its_route_checks(document: dict[str, Any]) -> None:
    apps = routed_apps()
    for method, path, operation in operations(document):
        access = operation.get(ACCESS_EXTENSION)
        assert access in ACCESS, (method, path, access)
        assert access == apps[(method, path)].access[route_key(method, path)].name, (method, path)
        assert (operation.get("security") == []) == (access == "public"), (method, path)


def test_required_headers_are_marked_required(document: dict[str, Any]) -> None:
    apps = routed_apps()
    required = 0
    for method, path, operation in operations(document):
        headers = {p["name"].lower(): p for p in operation.get("parameters", []) if p["in"] == "header"}
        for header in apps[(method, path)].required_headers.get(route_key(method, path), ()):
            assert headers.get(header.name.lower(), {}).get("required") is True, (method, path, header.name)
            required += 1
    assert required >= 1
    redeem = document["paths"]["/v1/redemptions"]["post"]
    assert [p["required"] for p in redeem["parameters"] if p["name"].lower() == "idempotency-key"] == [True]


def test_every_error_response_is_problem_json_with_the_typed_schema(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                page = HTML in operation["responses"].get("200", {}).get("content", {})
                assert list(response["content"]) in (["application/problem+json"], *(
                    [["application/problem+json", HTML]] if page and status == "404" else [])), (method, path, status)
                assert response["content"]["application/problem+json"]["schema"] == {"$ref": PROBLEM_REF}
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    errors = [m for m in alternatives(problem["properties"]["errors"]) if m.get("type") == "array"]
    assert errors and errors[0]["items"] == {"$ref": "#/components/schemas/ValidationErrorItem"}
    item = document["components"]["schemas"]["ValidationErrorItem"]
    assert set(item["required"]) == {"loc", "msg"}


# --- examples -----------------------------------------------------------------------------------

def test_every_body_and_parameter_has_an_example(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            assert has_example(media), f"{method.upper()} {path}: no example {media_type} body"
        for parameter in operation.get("parameters", []):
            assert has_example(parameter), f"{method.upper()} {path}: no example for {parameter['name']}"


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document["components"]}, format_checker=FormatChecker())


def test_every_example_fits_its_schema(document: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in operations(document):
        carriers = [(parameter["name"], parameter) for parameter in operation.get("parameters", [])]
        carriers += [(media_type, media) for media_type, media in
                     operation.get("requestBody", {}).get("content", {}).items()]
        for name, carrier in carriers:
            for example in carrier.get("examples", {}).values():
                errors = [e.message for e in _validator(document, carrier["schema"]).iter_errors(example["value"])]
                assert not errors, (method, path, name, errors)
                checked += 1
    for name, schema in document["components"]["schemas"].items():
        for example in schema.get("examples", []):
            assert not list(_validator(document, {"$ref": f"#/components/schemas/{name}"}).iter_errors(example)), name
    assert checked >= 20


def test_the_examples_tell_one_story(document: dict[str, Any]) -> None:
    """The ids the examples share agree, so they can be sent in order: the member the purchase credits is the one
    every member id names; the refund is of the example purchase; the campaign read is the one started; the
    previewed email is about the example purchase."""

    def body(path: str, method: str = "post") -> dict[str, Any]:
        example: dict[str, Any] = example_of(document["paths"][path][method]["requestBody"]["content"]
                                             ["application/json"])
        return example

    def parameter(path: str, name: str, method: str = "get") -> Any:
        return next(example_of(p) for p in document["paths"][path][method]["parameters"] if p["name"] == name)

    purchase = body("/v1/purchases")
    member_ids = {purchase["member_id"], body("/v1/adjustments")["member_id"],
                  body("/v1/outreach/preview")["member_id"]}
    member_ids |= {example_of(p) for _, _, operation in operations(document) for p in operation.get("parameters", [])
                   if p["name"] == "member_id"}
    assert len(member_ids) == 1, member_ids
    assert parameter("/v1/purchases/{order_id}/refunds", "order_id", "post") == purchase["order_id"]
    assert body("/v1/outreach/preview")["occasion"] == purchase["order_id"]
    assert parameter("/v1/outreach/campaigns/{campaign_id}", "campaign_id") == body("/v1/outreach/campaigns")[
        "campaign_id"]
    refund = body("/v1/purchases/{order_id}/refunds")
    assert 0 < refund["amount_minor"] <= purchase["amount_minor"]
    assert body("/v1/adjustments")["points"] >= body("/v1/redemptions")["points"], "the redemption is affordable"
    assert "referral_code" not in body("/v1/members"), "a fresh server has no code to refer with"
