"""Bad input: schemathesis against the service's own OpenAPI document, through the local server.

Every operation of ``functions/docs/openapi.json`` gets schema-conforming (positive) and schema-breaking
(negative) requests from schemathesis' examples, coverage and fuzzing phases, sent over HTTP to
``python -m localdev`` as staff, an admin, signed-up members, a valid token that is no member, no
token and bad tokens. Some generated ids are swapped for ones that exist (the seeded members and
orders), so requests also reach existing data. For every response:

- no 5xx (schemathesis' ``not_a_server_error``);
- a 2xx body conforms to the document (``response_schema_conformance``);
- a 4xx is ``application/problem+json`` with non-empty string ``type``/``title``/``detail`` and
  ``status`` equal to the HTTP status;
- a 4xx wrote nothing.

How "wrote nothing" is checked, cheaply and without gaps: the emulator (moto in server mode inside the
local server) records every request it receives before handling it. A rejected request whose handler
sent the emulator no write call (anything but Get/BatchGet/TransactGet/Query/Scan/Describe/List) cannot
have changed anything. When it did send one (a transaction cancelled by its conditions, say), every
table is scanned through boto3 and compared with the state before the request; a write call to any
other service (a queue, email) by a rejected request fails outright. The state before a request is
the last scan: nothing else talks to this server (one per test process, requests one at a time, no
scheduled jobs, the clock untouched after seeding), and the tables are scanned again after every
request that sent a write, whatever its status. Every ``CROSS_CHECK_EVERY``-th rejected request is
scanned anyway, to check the method itself.

``FUZZ_MAX_EXAMPLES`` (fuzzing-phase examples per operation) and ``FUZZ_SEED`` scale and vary the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import response_schema_conformance

from localdev import template
from tests.fuzz.conftest import (
    ADMIN,
    MEMBER,
    PARTNER,
    REFERRER,
    ROOT_MEMBER,
    SEEDED_BUNDLE,
    SEEDED_COUPON_REDEMPTION,
    SEEDED_FEEDBACK,
    SEEDED_ORDER,
    SEEDED_PARTNER,
    SEEDED_PENDING_ORDER,
    SEEDED_REWARD,
    SEEDED_SIMULATION,
    SEEDED_TEMPLATE,
    STAFF,
    STRANGER,
    TALLY,
    EmulatorCall,
    Server,
    ServerError,
    TableState,
)

DOCUMENT = Path(__file__).resolve().parents[2] / "functions" / "docs" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "40"))  # make test; make soak sends 300
SEED = int(os.environ.get("FUZZ_SEED", "20261123"))
CROSS_CHECK_EVERY = 100
PROBLEM_JSON = "application/problem+json"

pytestmark = [pytest.mark.xdist_group("fuzz")]

CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    # The test sets Authorization itself (with-security-parameters off: schemathesis would otherwise
    # generate the header and, in negative cases, strip it from what is sent).
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none",
                   "with-security-parameters": False},
    "phases": {
        "examples": {"enabled": True},
        "fuzzing": {"enabled": True},
        "stateful": {"enabled": False},
        # Unexpected methods the local server serves. TRACE and QUERY are left out: Python's http.server
        # answers them itself with an HTML 501 (see test_unserved_methods_are_problems below).
        "coverage": {"enabled": True, "unexpected-methods": ["get", "put", "post", "delete", "options", "patch"]},
    },
})


@pytest.fixture(scope="session")
def api_schema(server: Server) -> schemathesis.BaseSchema:
    """The document the server itself serves at /openapi.json (the committed one), loaded when the test
    runs (not at collection, so only the xdist worker that runs it pays for generating the cases)."""
    document = requests.get(f"{server.url}/openapi.json", timeout=10)
    assert document.status_code == 200, document.text
    assert document.json() == json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return schemathesis.openapi.from_dict(document.json(), config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")

# Weighted: most requests come with a token that may do the operation, so they get past the door to
# validation and the use cases; the rest must be refused there, cleanly and writing nothing.
IDENTITIES = (STAFF, STAFF, STAFF, ADMIN, ADMIN, ADMIN, MEMBER, MEMBER, REFERRER, ROOT_MEMBER, STRANGER, PARTNER,
              "no-token", "bad-signature", "not-bearer", "garbage")
BAD_AUTHORIZATION = {
    # a well-formed HS256 JWT claiming sub=fz-admin in the admin group, signed with another key
    "bad-signature": "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJmei1hZG1pbiIsImNvZ25pdG86Z3JvdXBzIjpbImFk"
                     "bWluIl0sImlzcyI6ImxveWFsdHktbGVkZ2VyLWxvY2FsIiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2lnbmVkLXdpdGgtYW5vdGhl"
                     "ci1rZXk",
    "not-bearer": "Basic ZnotYWRtaW46c2VjcmV0",
    "garbage": "Bearer not.a.token",
}
KNOWN_MEMBERS = (MEMBER, REFERRER, ROOT_MEMBER)
KNOWN_ORDERS = (SEEDED_ORDER, SEEDED_PENDING_ORDER)


def _choices(case: schemathesis.Case) -> tuple[str, str | None, str | None]:
    """Who sends the case and which existing ids it is pointed at, drawn from a digest of the case: the
    same case is always sent the same way (``@schema.given`` would switch the coverage phase off)."""
    digest = hashlib.sha256(repr((case.method, case.path, case.path_parameters, case.query, case.headers,
                                  case.body)).encode()).digest()
    members, orders = (None, None, *KNOWN_MEMBERS), (None, *KNOWN_ORDERS)
    return (IDENTITIES[digest[0] % len(IDENTITIES)], members[digest[1] % len(members)],
            orders[digest[2] % len(orders)])


def _point_at_known_data(case: schemathesis.Case, member: str | None, order: str | None,
                         links: tuple[str, ...] = (), review_id: str = "", coupon_code: str = "",
                         card_id: str = "") -> None:
    if member is not None:
        if "member_id" in (case.path_parameters or {}):
            case.path_parameters["member_id"] = member
        if isinstance(case.body, dict) and "member_id" in case.body:
            case.body["member_id"] = member
    if order is not None and "order_id" in (case.path_parameters or {}):
        case.path_parameters["order_id"] = order
    # The partner and link codes that exist: with an order drawn, the seeded partner and one of the codes.
    if order is not None and "partner_id" in (case.path_parameters or {}):
        case.path_parameters["partner_id"] = SEEDED_PARTNER
    if order is not None and links and "code" in (case.path_parameters or {}):
        case.path_parameters["code"] = links[KNOWN_ORDERS.index(order) % len(links)]
    if order is not None:
        _point_at_the_wallet(case, coupon_code)
    # The seeded held credit's review (the first decision decides it; later ones are 409 review-closed).
    if order is not None and review_id and "review_id" in (case.path_parameters or {}):
        case.path_parameters["review_id"] = review_id
    # The seeded bundle card (uses until it is used up, then 409) and its product.
    if order is not None and card_id and "card_id" in (case.path_parameters or {}):
        case.path_parameters["card_id"] = card_id
    if order is not None and isinstance(case.body, dict) and "product_id" in case.body:
        case.body["product_id"] = SEEDED_BUNDLE
    if order is not None:
        _point_at_seeded_ids(case, order)


def _point_at_seeded_ids(case: schemathesis.Case, order: str) -> None:
    """The seeded simulation; the seeded complaint (docs/feedback.md), and feedback about a seeded order (the
    member's own, or not)."""
    if "simulation_id" in (case.path_parameters or {}):
        case.path_parameters["simulation_id"] = SEEDED_SIMULATION
    if "feedback_id" in (case.path_parameters or {}):
        case.path_parameters["feedback_id"] = SEEDED_FEEDBACK
    if isinstance(case.body, dict) and "order_id" in case.body and case.path.endswith("/feedback"):
        case.body["order_id"] = order


def _point_at_the_wallet(case: schemathesis.Case, coupon_code: str) -> None:
    """The seeded coupon (the member's), its template and the seeded reward (docs/wallet.md)."""
    path = case.path_parameters or {}
    if "code" in path and case.path.startswith("/v1/coupons/") and coupon_code:
        path["code"] = coupon_code
    if "template_id" in path:
        path["template_id"] = SEEDED_TEMPLATE
    if "redemption_id" in path:
        path["redemption_id"] = SEEDED_COUPON_REDEMPTION
    if isinstance(case.body, dict):
        for name, seeded in (("template_id", SEEDED_TEMPLATE), ("reward_id", SEEDED_REWARD)):
            if name in case.body:
                case.body[name] = seeded


def _authorization(server: Server, who: str) -> dict[str, str]:
    if who == "no-token":
        return {}
    return {"Authorization": BAD_AUTHORIZATION.get(who) or f"Bearer {server.tokens[who]}"}


def _header(response: Any, name: str) -> str:
    values = response.headers.get(name.lower()) or [""]
    return str(values[0])


def check_problem(status: int, content_type: str, body: Any) -> list[str]:
    """What is wrong with an error answer, if anything (RFC 9457 as the contract uses it)."""
    problems = []
    media_type = content_type.split(";")[0].strip().lower()
    if media_type != PROBLEM_JSON:
        problems.append(f"content-type is {content_type!r}, not {PROBLEM_JSON}")
    if not isinstance(body, dict):
        return [*problems, f"the body is not a JSON object: {body!r:.200}"]
    problems += [f"{key} is not a non-empty string: {body.get(key)!r}" for key in ("type", "title", "detail")
                 if not isinstance(body.get(key), str) or not body[key]]
    if body.get("status") != status:
        problems.append(f"status in the body is {body.get('status')!r}, the response's is {status}")
    return problems


def _not_utf8(sent: Any) -> bool:
    if not isinstance(sent, bytes):
        return False
    try:
        sent.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _anything(sent: Any) -> bool:
    return True


# 5xx defects that a strict xfail test below reproduces: (name, operations (empty: any), the start of the
# error the server logged, a predicate on the body sent). A request that matches one is tallied, not failed
# (after its writes are read, so later requests are still checked against the right state). Once a defect is
# fixed its xfail test passes and fails as strict: then its entry goes.
KNOWN_DEFECTS: tuple[tuple[str, tuple[str, ...], str, Any], ...] = ()


def _known_defect(label: str, status: int, errors: list[ServerError], sent: Any) -> str | None:
    if status < 500:
        return None
    for name, operations, error, matches in KNOWN_DEFECTS:
        if (not operations or label in operations) and any(str(e).startswith(error) for e in errors) \
                and matches(sent):
            return name
    return None


def _tables_touched(writes: list[EmulatorCall], *, cross_check: bool) -> set[str] | None:
    """The tables to scan after a request: those its write calls name (every table if one could touch
    any), or every table for a cross-check; None when nothing needs scanning."""
    if cross_check or any(c.service == "dynamodb" and c.tables is None for c in writes):
        return set(template.table_definitions())
    named = {name for c in writes if c.service == "dynamodb" and c.tables for name in c.tables}
    return named or None


def _is_documented_page(case: schemathesis.Case, status: int, content_type: str) -> bool:
    """A refusal the document says a page answers as HTML (a referral link's landing page: not found)."""
    declared = case.operation.definition.raw.get("responses", {}).get(str(status), {}).get("content", {})
    return content_type.split(";")[0].strip() == "text/html" and "text/html" in declared


@schema.parametrize()
def test_generated_requests(case: schemathesis.Case, server: Server) -> None:
    who, member, order = _choices(case)
    _point_at_known_data(case, member, order, server.link_codes, server.review_id, server.coupon_code,
                         server.card_id)
    for key in [k for k in (case.headers or {}) if k.lower() == "authorization"]:
        del case.headers[key]
    headers = _authorization(server, who)

    server.watch.calls()  # anything before this request is not its doing
    started = time.perf_counter()
    response = case.call(base_url=server.url, headers=headers)  # a new connection each (see Server)
    TALLY.seconds += time.perf_counter() - started
    status = response.status_code
    TALLY.add(case.operation.label, status, who, case.meta.phase.name.value if case.meta else "explicit")
    sent = response.request.body
    context = (f"{response.request.method} {response.request.path_url} as {who} → {status}\n"
               f"body sent: {sent!r:.500}\nanswer: {response.content[:500].decode(errors='replace')}")  # a PNG too

    writes = [c for c in server.watch.calls() if c.writes]
    errors = server.errors()
    rejected = 400 <= status < 500
    TALLY.rejected += rejected
    if rejected and writes:
        TALLY.rejected_with_write_calls += 1
    touched = _tables_touched(writes, cross_check=rejected and TALLY.rejected % CROSS_CHECK_EVERY == 0)
    before = server.rescan(touched) if touched else {}
    known = _known_defect(case.operation.label, status, errors, sent)
    if known:
        TALLY.known_defects[known] += 1
        return
    context += "".join(f"\nserver error: {e}" for e in errors)
    after = {name: server.state[name] for name in before}
    assert status < 500 or after == before, f"{context}\na 5xx wrote: {TableState.diff(before, after)}"
    assert status < 500, context
    if rejected:
        assert after == before, f"{context}\na rejected request wrote: {TableState.diff(before, after)}"
        other = [c for c in writes if c.service != "dynamodb"]
        assert not other, f"{context}\na rejected request sent write calls to other services: {other}"
    if rejected and _is_documented_page(case, status, _header(response, "content-type")):
        assert '<html lang="' in response.text, context  # a page a browser opened: "not found" as a page
    elif rejected:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        problems = check_problem(status, _header(response, "content-type"), body)
        assert not problems, f"{context}\n" + "\n".join(problems)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)


# --- defects the fuzzing found, each reproduced minimally: regression tests now they are fixed ---

def _assert_problem(reply: Any) -> None:
    assert 400 <= reply.status < 500, (reply.status, reply.body)
    assert not check_problem(reply.status, reply.headers.get("content-type", ""), reply.body), reply.body


@pytest.mark.parametrize(("method", "path", "groups"), [
    ("POST", "/v1/adjustments", ("admin",)), ("POST", "/v1/purchases", ("staff",)),
    ("POST", "/v1/members", ()), ("PUT", "/v1/program", ("admin",)),
])
def test_a_body_that_is_not_utf8_is_a_problem_not_a_500(api: Any, method: str, path: str,
                                                     groups: tuple[str, ...]) -> None:
    _assert_problem(api.call(method, path, raw=b"\x80", as_="fz-defect", groups=groups))


@pytest.mark.parametrize("kind", ["thank_you", "campaign"])
def test_an_outreach_preview_without_its_occasion_is_a_problem_not_a_500(api: Any, kind: str) -> None:
    api.sign_up("previewed")
    _assert_problem(api.call("POST", "/v1/outreach/preview", {"kind": kind, "member_id": "previewed"},
                             as_="fz-admin", groups=("admin",)))


def test_a_replacement_rule_without_sku_or_category_is_refused(api: Any) -> None:
    put = api.call("PUT", "/v1/outreach/replacements", {"rules": [{"interval_days": 5}]}, as_="fz-admin",
                   groups=("admin",))
    assert put.status == 422, (put.status, put.body)
    read = api.call("GET", "/v1/outreach/replacements", as_="fz-admin", groups=("admin",))
    assert read.status == 200, (read.status, read.body)


@pytest.mark.parametrize("guide", [
    {"en": {"title": "Wax\u202eing", "text": "Dry it."}},  # a bidirectional override in a title
    {"en": {"title": "Wax", "text": "Dry it.\u0000"}},  # NUL in the text
    {"en": {"title": "Wax", "text": "Dry it.", "link": "https://a b"}},
    {"en": {"title": "Wax", "text": "Dry it.", "link": ["https://shop.example"]}},
    {"en": None}, {"zh-CN": {"title": "", "text": "擦干。"}}, {"en": {"title": "Wax"}},
])
def test_a_bad_usage_guide_is_refused(api: Any, guide: Any) -> None:
    put = api.call("PUT", "/v1/outreach/replacements", {"rules": [{"sku": "FZ-WAX", "guide": guide}]},
                   as_="fz-admin", groups=("admin",))
    assert put.status == 422, (put.status, put.body)


def test_a_usage_guide_at_its_limits_is_kept_whole(api: Any) -> None:
    guide = {"zh-CN": {"title": "说" * 120, "text": ("滤芯" * 499) + "。\n",
                       "link": "https://shop.example/" + "a" * 479}}
    put = api.call("PUT", "/v1/outreach/replacements", {"rules": [{"sku": "FZ-WAX", "guide": guide}]},
                   as_="fz-admin", groups=("admin",))
    assert put.status == 200, (put.status, put.body)
    assert put.body["rules"][0]["guide"]["zh-CN"]["text"] == "滤芯" * 499 + "。"  # stripped, as every Prose


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_unserved_methods_are_problems(server: Server, method: str) -> None:
    reply = requests.request(method, f"{server.url}/v1/program", timeout=10)
    assert 400 <= reply.status_code < 500, reply.status_code
    try:
        body = reply.json()
    except ValueError:
        body = reply.text
    assert not check_problem(reply.status_code, reply.headers.get("content-type", ""), body), reply.text[:200]


def test_a_body_nested_too_deeply_is_a_problem_not_a_500(api: Any) -> None:
    _assert_problem(api.call("POST", "/v1/adjustments", raw=b"[" * 100_000, as_="fz-defect", groups=("admin",)))


def test_a_cursor_past_any_seq_is_a_problem_not_a_500(api: Any) -> None:
    from loyalty.ledger.http import encode_cursor

    api.sign_up("fz-cursor")
    reply = api.call("GET", f"/v1/members/me/ledger?cursor={encode_cursor(10**40 + 1)}", as_="fz-cursor")
    assert reply.status == 422, (reply.status, reply.body)


@pytest.mark.parametrize("time_zone", ["America", "Etc", "posix"])
def test_a_time_zone_that_names_a_directory_is_a_problem_not_a_500(api: Any, time_zone: str) -> None:
    # Python 3.11/3.12 raise IsADirectoryError for these (the local server runs 3.11).
    body = {"email": "fz-tz@example.com", "display_name": "Tz", "time_zone": time_zone}
    reply = api.call("POST", "/v1/members", body, as_="fz-tz")
    assert (reply.status, reply.slug) == (422, "validation-error"), reply.body


def test_outreach_settings_without_a_sending_window_are_refused(api: Any) -> None:
    reply = api.call("PUT", "/v1/outreach/settings", {"quiet_start": "20:00", "quiet_end": "20:00"},
                     as_="fz-admin", groups=("admin",))
    assert reply.status == 422, (reply.status, reply.body)
