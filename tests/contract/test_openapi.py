"""The OpenAPI document: committed = generated from the routes, and in agreement with API.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from localdev import openapi, template
from loyalty import wiring  # noqa: F401 (every feature's refusals are defined once its modules are imported)
from loyalty.shared import errors

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "API.md"
ADDITIONS = ROOT.parent / "shared" / "API-additions.md"
# The sections of API-additions.md whose capability has landed: each joins what these tests check. A capability's
# issue adds its sections here when it lands (the section titles, exactly as the document has them).
IMPLEMENTED_ADDITIONS: list[str] = [
    "Identity at sign-up", "Finding a member at the counter", "Partners and referral links",
    "Coupons", "Rewards catalogue",
    "Bundle cards (套餐卡)",
    "Stored value (储值卡)",
    "Tiers and status (会员卡)",
    "Earning beyond purchases",
]


def addition_sections() -> dict[str, str]:
    """The ``## `` and ``### `` sections of API-additions.md, by title."""
    text = ADDITIONS.read_text(encoding="utf-8")
    parts = re.split(r"^#{2,3} (.+)$", text, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.generate()


@pytest.fixture(scope="module")
def contract() -> str:
    """API.md, and the sections of API-additions.md already implemented."""
    assert CONTRACT.exists(), f"the API contract is expected at {CONTRACT}"
    sections = addition_sections()
    implemented = [sections[title] for title in IMPLEMENTED_ADDITIONS]
    return "\n".join([CONTRACT.read_text(encoding="utf-8").split("## The local server")[0], *implemented])


def test_the_implemented_additions_are_sections_of_the_document() -> None:
    sections = addition_sections()
    assert "Ledger: assets and holders" in sections and len(sections) >= 10
    assert [title for title in IMPLEMENTED_ADDITIONS if title not in sections] == []


def test_the_committed_document_is_the_generated_one(document: dict[str, Any]) -> None:
    assert openapi.DOCUMENT.read_text(encoding="utf-8") == openapi.render(document), "run `make openapi`"


def test_every_route_of_the_template_is_documented_and_nothing_else(document: dict[str, Any]) -> None:
    routed = {(r.method.lower(), r.path) for f in template.functions() for r in f.routes if r.path != "$default"}
    documented = {(m, p) for p, item in document["paths"].items() for m in item}
    assert routed == documented


def test_every_endpoint_of_the_contract_is_in_the_document(document: dict[str, Any], contract: str) -> None:
    endpoints = set(re.findall(r"`(GET|POST|PUT|DELETE|PATCH) (/[^`\s?]*)", contract))
    endpoints = {(m, p) for m, p in endpoints if not p.startswith("/local/")}
    assert len(endpoints) >= 15
    # A path parameter may be named for what it holds there (`/v1/purchases/{sale_id}/refunds`: a bundle sale's
    # order_id): the same path
    shape = {re.sub(r"\{[^}]+\}", "{}", p): item for p, item in document["paths"].items()}
    missing = {(m, p) for m, p in endpoints if m.lower() not in shape.get(re.sub(r"\{[^}]+\}", "{}", p), {})}
    assert not missing


def _properties(document: dict[str, Any]) -> dict[str, set[str]]:
    return {name: set(schema.get("properties", {})) for name, schema in document["components"]["schemas"].items()}


def test_every_json_shape_of_the_contract_is_a_schema_of_the_document(document: dict[str, Any],
                                                                       contract: str) -> None:
    shapes = _properties(document)
    examples = []
    for block in re.findall(r"```json\n(.*?)```", contract, flags=re.S):
        try:
            examples.append(json.loads(block))
        except ValueError:
            continue  # blocks with placeholders (…) are prose, not examples
    examples += [json.loads(m) for m in re.findall(r"`(\{\"[^`]*\})`", contract) if _loads(m)]
    assert len(examples) >= 8
    for example in examples:
        keys = set(example)
        assert any(keys <= props for props in shapes.values()), f"no schema has all of {sorted(keys)}"
        for key, value in example.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                assert any(set(value[0]) <= props for props in shapes.values()), f"{key}: {sorted(value[0])}"


def _loads(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_every_problem_slug_of_the_contract_is_a_domain_error_with_its_status(contract: str,
                                                                             document: dict[str, Any]) -> None:
    # ``document`` imports every route, and so every feature's refusals: wiring no longer imports them itself,
    # and a worker that ran none of the other tests here would know only the shared ones.
    rows = re.findall(r"^\s*\|\s*`([a-z-]+)`\s*\|\s*(\d{3})\s*\|", contract, flags=re.M)
    assert len(rows) >= 10
    known = {cls.slug: cls.status for cls in _subclasses(errors.LoyaltyError)}
    for slug, status in rows:
        assert known.get(slug) == int(status), slug


def test_every_problem_named_in_prose_is_a_domain_error_with_its_status(contract: str,
                                                                       document: dict[str, Any]) -> None:
    """Slugs the contract names in a sentence (``→ `422 email-not-verified` ``), not in a table (``document``
    imports every feature's refusals)."""
    named = re.findall(r"`(\d{3}) ([a-z]+(?:-[a-z]+)+)`", contract)
    assert ("422", "email-not-verified") in named
    known = {cls.slug: cls.status for cls in _subclasses(errors.LoyaltyError)}
    for status, slug in named:
        assert known.get(slug) == int(status), slug


def _subclasses(cls: type[errors.LoyaltyError]) -> list[type[errors.LoyaltyError]]:
    """Every refusal some module of the package defines (a use case's own, which no route imports at a cold start,
    like a payout's ``insufficient-commission``, included)."""
    import importlib
    import pkgutil

    import loyalty

    for module in pkgutil.walk_packages(loyalty.__path__, "loyalty."):
        importlib.import_module(module.name)
    found: list[type[errors.LoyaltyError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def test_every_error_response_is_problem_json(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    # A page people open in a browser (a referral link's landing page) says "not found" as a page
                    # too, next to the problem document.
                    page = "text/html" in operation["responses"].get("200", {}).get("content", {}) and status == "404"
                    assert list(response["content"]) in (["application/problem+json"], *(
                        [["application/problem+json", "text/html"]] if page else [])), (method, path, status)
