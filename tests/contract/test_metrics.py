"""``GET /v1/metrics`` as API-additions.md's "Knowing the customers" documents it (its "Metrics:" paragraph).

That section as a whole is not implemented (segments, leads, feedback, imports are still to come), so it is not
in ``IMPLEMENTED_ADDITIONS``; this test holds the one route that is to the documented shape instead: every field
the paragraph names is in the answer's schema, at the same place, except the fields of capabilities not built yet
(which the paragraph says are left out until they are), and those are not there.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from localdev import openapi
from tests.contract.test_openapi import addition_sections

# Fields of capabilities not built yet: none.
NOT_BUILT: set[tuple[str, ...]] = set()
# Additive fields the answer has beyond the contract's.
BEYOND = {("time_zone",), ("points", "from_actions"), ("points", "from_surprises")} | {("stored_value", f) for f in (
    # what the period's entries moved (docs/metrics.md)
    "topped_up_minor", "bonus_given_minor", "paid_minor", "refunded_minor", "withdrawn_minor", "bonus_forfeited_minor")
} | {("bundles", f) for f in ("sold_uses", "used", "refunded_uses")}
Shape = dict[str, Any]  # field → None (a value), a Shape (an object) or [Shape] (a list of objects)


def documented() -> tuple[str, Shape]:
    """The documented request line and answer shape of the Metrics paragraph."""
    section = addition_sections()["Knowing the customers"]
    paragraph = section[section.index("Metrics:"):]
    request = re.search(r"`(GET /v1/metrics[^`]*)`", paragraph)
    answer = re.search(r"→\s*`(\{.*?\})`\.", paragraph, flags=re.S)
    assert request and answer, "the Metrics paragraph no longer reads as expected"
    return request.group(1), _parse(re.findall(r'"[^"]*"|[{}\[\]:,]', answer.group(1)))


def _parse(tokens: list[str]) -> Shape:
    position = 0

    def obj() -> Shape:
        nonlocal position
        assert tokens[position] == "{"
        position += 1
        shape: Shape = {}
        while tokens[position] != "}":
            name = tokens[position].strip('"')
            position += 1
            shape[name] = None
            if tokens[position] == ":":
                position += 1
                if tokens[position] == "[":
                    position += 1
                    shape[name] = [obj()]
                    assert tokens[position] == "]"
                    position += 1
                else:
                    shape[name] = obj()
            if tokens[position] == ",":
                position += 1
        position += 1
        return shape

    return obj()


def _schema_shape(document: dict[str, Any], schema: dict[str, Any]) -> Shape | None:
    """A JSON schema as a Shape: its objects' properties, $refs resolved."""
    if "$ref" in schema:
        return _schema_shape(document, document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    if schema.get("type") == "array":
        inner = _schema_shape(document, schema["items"])
        return [inner] if inner is not None else None  # type: ignore[return-value]
    if "properties" in schema:
        return {k: _schema_shape(document, v) for k, v in schema["properties"].items()}
    return None


def _paths(shape: Shape, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found = set()
    for name, value in shape.items():
        found.add((*prefix, name))
        inner = value[0] if isinstance(value, list) else value
        if isinstance(inner, dict):
            found |= _paths(inner, (*prefix, name))
    return found


@pytest.fixture(scope="module")
def operation() -> dict[str, Any]:
    document = openapi.generate()
    return {"document": document, "get": document["paths"]["/v1/metrics"]["get"]}


def test_the_answer_has_every_documented_field_of_what_is_built_and_none_of_what_is_not(
        operation: dict[str, Any]) -> None:
    _, shape = documented()
    expected = {p for p in _paths(shape) if not any(p[:len(n)] == n for n in NOT_BUILT)}
    assert len(expected) == 26  # 9 top-level fields, 17 inside them
    schema = operation["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    answered = _schema_shape(operation["document"], schema)
    assert isinstance(answered, dict)
    paths = _paths(answered)
    assert expected - paths == set(), "documented fields missing from the answer"
    assert {p for p in paths if any(p[:len(n)] == n for n in NOT_BUILT)} == set(), "fields of capabilities not built"
    assert paths - expected == BEYOND, "fields beyond the contract (additive ones must be named here)"
    assert isinstance(answered["by_day"], list)


def test_the_period_is_asked_by_from_and_to_and_the_route_is_staffs(operation: dict[str, Any]) -> None:
    request, _ = documented()
    assert request == "GET /v1/metrics?from&to" and "(staff)" in addition_sections()["Knowing the customers"]
    get = operation["get"]
    assert {p["name"]: (p["in"], p["required"]) for p in get["parameters"]} == {
        "from": ("query", False), "to": ("query", False)}
    assert get["x-access"] == "staff"
    assert {"401", "403", "422"} <= set(get["responses"])


def test_the_rates_are_whole_basis_points(operation: dict[str, Any]) -> None:
    schemas = operation["document"]["components"]["schemas"]
    for name in ("repeat_purchase_rate_bps", "referred_revenue_share_bps"):
        field = schemas["Metrics"]["properties"][name]
        assert (field["type"], field["minimum"], field["maximum"]) == ("integer", 0, 10_000), name
