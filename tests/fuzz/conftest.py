"""The fuzz suite's fixtures: one local server (``python -m localdev``) per test process, seeded with
members in a referral chain, purchases and points to spend; a watch on everything its emulator is
asked to do; and a tally of every request sent, printed at the end of the run.

Under xdist the tally travels from the workers to the controller through ``workeroutput``; it is
printed by ``pytest_terminal_summary`` wherever this conftest is loaded in the controller (it is when
``tests/fuzz`` is named on the command line, e.g. ``pytest tests/fuzz``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from localdev import template
from localdev.dynamodb_local import free_port
from localdev.emulator import FAKE_AWS

ROOT = Path(__file__).resolve().parents[2]

# Who a generated request is sent as. Every sub matches the member id pattern.
STAFF, ADMIN = "fz-staff", "fz-admin"
ROOT_MEMBER, REFERRER, MEMBER = "fz-root", "fz-referrer", "fz-member"
STRANGER = "fz-stranger"  # a valid token, never signed up
TWIN = "fz-twin"  # the member's second account (same phone): the seeded held credit
SEEDED_ORDER = "FZ-ORDER-1"  # credited 8 days ago (matured)
SEEDED_PENDING_ORDER = "FZ-ORDER-2"  # credited now (still on hold)
PARTNER, SEEDED_PARTNER = "fz-partner", "FZ-P-1"  # a partner's login, and the partner it signs in as
SEEDED_TEMPLATE, SEEDED_REWARD = "FZ-T-1", "FZ-R-1"  # a coupon template and a reward of the catalogue
SEEDED_COUPON_REDEMPTION = "FZ-CR-1"  # a coupon's use, which a void may cancel
SEEDED_BUNDLE = "FZ-WASH-6"  # a bundle product on sale, and the member holds a card of it
SEEDED_SIMULATION = "FZ-SIM-1"  # a simulation of the seeded purchases (docs/earning-simulations.md)
SEEDED_FEEDBACK = "FZ-FB-1"  # the member's complaint about the seeded order, answered once (docs/feedback.md)


# --- the tally ------------------------------------------------------------------------------------

@dataclass
class Tally:
    requests: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    sent_as: Counter[str] = field(default_factory=Counter)
    phases: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    rejected_with_write_calls: int = 0
    scans: int = 0
    known_defects: Counter[str] = field(default_factory=Counter)

    def add(self, operation: str, status: int, who: str, phase: str) -> None:
        self.requests += 1
        self.statuses[status] += 1
        self.by_operation.setdefault(operation, Counter())[status] += 1
        self.sent_as[who] += 1
        self.phases[phase] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "seconds": self.seconds, "rejected": self.rejected,
            "rejected_with_write_calls": self.rejected_with_write_calls, "scans": self.scans,
            "statuses": dict(self.statuses), "sent_as": dict(self.sent_as), "phases": dict(self.phases),
            "by_operation": {op: dict(c) for op, c in self.by_operation.items()},
            "known_defects": dict(self.known_defects),
        }

    def merge(self, data: dict[str, Any]) -> None:
        for key in ("requests", "seconds", "rejected", "rejected_with_write_calls", "scans"):
            setattr(self, key, getattr(self, key) + data[key])
        self.statuses.update({int(k): v for k, v in data["statuses"].items()})
        self.sent_as.update(data["sent_as"])
        self.phases.update(data["phases"])
        self.known_defects.update(data["known_defects"])
        for op, counts in data["by_operation"].items():
            self.by_operation.setdefault(op, Counter()).update({int(k): v for k, v in counts.items()})

    def render(self) -> list[str]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        lines = [
            f"{self.requests} generated requests, {self.seconds:.1f} s waiting for answers; statuses {statuses}",
            f"{self.rejected} rejected (4xx): {self.rejected_with_write_calls} of them sent a write to the "
            f"emulator (all cancelled, tables scanned and unchanged); {self.scans} full scans of every table",
            "phases: " + ", ".join(f"{k} {v}" for k, v in sorted(self.phases.items())),
            "sent as: " + ", ".join(f"{k} {v}" for k, v in sorted(self.sent_as.items())),
        ]
        if self.known_defects:
            lines.append("known defects hit (strict xfail tests track them): "
                         + ", ".join(f"{k} ×{v}" for k, v in sorted(self.known_defects.items())))
        for op, counts in sorted(self.by_operation.items()):
            shown = " ".join(f"{k}:{v}" for k, v in sorted(counts.items()))
            lines.append(f"  {op:<46} {sum(counts.values()):>5}  {shown}")
        return lines


TALLY = Tally()
_MERGED = Tally()


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and TALLY.requests:
        workeroutput["fuzz_tally"] = json.dumps(TALLY.as_dict())


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    data = getattr(node, "workeroutput", {}).get("fuzz_tally")
    if data:
        _MERGED.merge(json.loads(data))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    shown = _MERGED if _MERGED.requests else TALLY
    if shown.requests:
        terminalreporter.section("schemathesis against the local server")
        for line in shown.render():
            terminalreporter.write_line(line)


# --- what the emulator is asked to do -------------------------------------------------------------

_READ_PREFIXES = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List")


@dataclass(frozen=True)
class EmulatorCall:
    service: str
    action: str
    tables: frozenset[str] | None = None  # the DynamoDB tables a call names (None: could be any)

    @property
    def writes(self) -> bool:
        return not self.action.startswith(_READ_PREFIXES)


def _tables_named(action: str, request: Any) -> frozenset[str] | None:
    """The tables a DynamoDB write call names: the only ones it can change."""
    if not isinstance(request, dict):
        return None
    if action in ("PutItem", "UpdateItem", "DeleteItem") and isinstance(request.get("TableName"), str):
        return frozenset([request["TableName"]])
    if action == "BatchWriteItem" and isinstance(request.get("RequestItems"), dict):
        return frozenset(request["RequestItems"])
    if action == "TransactWriteItems" and isinstance(request.get("TransactItems"), list):
        return frozenset(part["TableName"] for item in request["TransactItems"] for part in item.values())
    return None  # PartiQL and anything else: treat as touching every table


def _call(entry: dict[str, Any]) -> EmulatorCall:
    headers = {k.lower(): v for k, v in entry.get("headers", {}).items()}
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    target = headers.get("x-amz-target")
    if target:  # JSON protocols: DynamoDB_20120810.PutItem, AmazonSQS.SendMessage, secretsmanager.GetSecretValue
        prefix, _, action = target.partition(".")
        if not prefix.startswith("DynamoDB"):
            return EmulatorCall(prefix.lower(), action)
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        return EmulatorCall("dynamodb", action, _tables_named(action, request))
    scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers.get("authorization", ""))
    service = scope.group(1) if scope else "unknown"
    action = parse_qs(body).get("Action", [""])[0]  # query protocols
    if not action:  # REST protocols: a GET reads, anything else may write
        method = str(entry.get("method", "POST")).upper()
        action = ("Get " if method in ("GET", "HEAD") else f"{method} ") + urlsplit(entry.get("url", "")).path
    return EmulatorCall(service, action)


class EmulatorWatch:
    """Every request the emulator receives, from moto's recorder (written before moto handles it)."""

    def __init__(self, recording: Path) -> None:
        self.recording = recording
        self.offset = 0

    def calls(self) -> list[EmulatorCall]:
        """The calls since the last time this was asked."""
        with self.recording.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.offset += len(complete)
        return [_call(json.loads(line)) for line in complete.splitlines() if line.strip()]


class TableState:
    """Every item of every table, read through boto3 at the emulator's endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.client = boto3.session.Session(
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_AWS["AWS_SESSION_TOKEN"], region_name=FAKE_AWS["AWS_DEFAULT_REGION"],
        ).client("dynamodb", endpoint_url=endpoint)
        self.tables = sorted(template.table_definitions())

    def snapshot(self, tables: Iterable[str] | None = None) -> dict[str, frozenset[str]]:
        """Per table (all of them, or those named), the set of its items as canonical JSON (every page)."""
        state = {}
        for name in sorted(tables) if tables is not None else self.tables:
            items: list[str] = []
            kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
            while True:
                page = self.client.scan(**kwargs)
                items += [json.dumps(i, sort_keys=True, separators=(",", ":")) for i in page["Items"]]
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            state[name] = frozenset(items)
        return state

    @staticmethod
    def diff(before: dict[str, frozenset[str]], after: dict[str, frozenset[str]]) -> dict[str, Any]:
        changes = {}
        for name in sorted(set(before) | set(after)):
            added = after.get(name, frozenset()) - before.get(name, frozenset())
            removed = before.get(name, frozenset()) - after.get(name, frozenset())
            if added or removed:
                changes[name] = {"added": sorted(added)[:3], "removed": sorted(removed)[:3]}
        return changes


# --- the server -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ServerError:
    """An error a handler logged: the exception's type (or the log message) and where (the innermost frame
    in this repository, or the logging location)."""

    exception: str
    where: str

    def __str__(self) -> str:
        return f"{self.exception} in {self.where}"


def _server_error(record: dict[str, Any]) -> ServerError:
    frames = (record.get("stack_trace") or {}).get("frames") or []
    ours = [f for f in frames if str(f.get("file", "")).startswith(str(ROOT)) and "/.venv" not in f["file"]]
    if not frames:
        return ServerError(str(record.get("message", "?")), str(record.get("location", "?")))
    frame = (ours or frames)[-1]
    where = f"{str(frame.get('file', '?')).removeprefix(str(ROOT) + '/')}:{frame.get('function', '?')}"
    return ServerError(str(record.get("exception_name", "?")), where)


@dataclass
class Server:
    url: str
    emulator: str
    log: Path
    tables: TableState
    watch: EmulatorWatch
    log_offset: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    state: dict[str, frozenset[str]] = field(default_factory=dict)
    link_codes: tuple[str, ...] = ()  # the seeded partner's link and a member's referral code
    review_id: str = ""  # a credit held for review (its referee signed up on the referrer's phone)
    coupon_code: str = ""  # the member's coupon of the seeded template (docs/wallet.md)
    card_id: str = ""  # a bundle card of SEEDED_BUNDLE sold to the member (docs/wallet.md)

    # One connection per request (requests.request, no session): on a kept-alive connection the local
    # server's answers stall ~40 ms (headers and body go out in two segments; Nagle waits for the ACK).
    def login(self, sub: str, *groups: str) -> str:
        request: dict[str, Any] = {"sub": sub, "groups": list(groups)}
        if "partner" in groups:
            request["partner_id"] = SEEDED_PARTNER
        reply = requests.post(f"{self.url}/local/tokens", json=request, timeout=10)
        assert reply.status_code == 200, reply.text
        self.tokens[sub] = reply.json()["token"]
        return self.tokens[sub]

    def call(self, method: str, path: str, who: str | None, body: Any = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        return requests.request(method, f"{self.url}{path}", json=body, headers=sent, timeout=30)

    def rescan(self, tables: Iterable[str] | None = None) -> dict[str, frozenset[str]]:
        """Read every table (or those named) into ``state``; return what they held before. What the scan
        itself sends the emulator is not counted as a request's."""
        fresh = self.tables.snapshot(tables)
        self.watch.calls()
        TALLY.scans += 1
        before = {name: self.state[name] for name in fresh if name in self.state}
        self.state.update(fresh)
        return before

    def errors(self) -> list[ServerError]:
        """Unhandled exceptions the handlers logged since the last time this was asked."""
        with self.log.open("rb") as handle:
            handle.seek(self.log_offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        self.log_offset += len(complete)
        found = []
        for line in complete.splitlines():
            if line.startswith(b"{") and b'"level":"ERROR"' in line:
                try:
                    found.append(_server_error(json.loads(line)))
                except ValueError:
                    continue
        return found

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(line for line in text if '"POST / HTTP/1.1"' not in line)[-6000:]


LOGINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (STAFF, ("staff",)), (ADMIN, ("admin",)), (ROOT_MEMBER, ()), (REFERRER, ()), (MEMBER, ()), (STRANGER, ()),
    (PARTNER, ("partner",)))


def _seed(server: Server) -> None:
    """Members in a referral chain, one matured and one pending purchase, points to redeem, and a partner with a
    link."""
    for sub, groups in LOGINS:
        server.login(sub, *groups)
    code = None
    for sub in (ROOT_MEMBER, REFERRER, MEMBER):
        body = {"email": f"{sub}@example.com", "display_name": sub, "device_id": f"phone-of-{sub}"}
        if code:
            body["referral_code"] = code
        reply = server.call("POST", "/v1/members", sub, body)
        assert reply.status_code == 201, reply.text
        code = reply.json()["referral_code"]
    member_code = code

    def purchase(order_id: str) -> None:
        now = requests.get(f"{server.url}/local/clock", timeout=10).json()["now"]
        reply = server.call("POST", "/v1/purchases", STAFF, {
            "order_id": order_id, "member_id": MEMBER, "amount_minor": 12900, "currency": "CNY", "occurred_at": now})
        assert reply.status_code == 201, reply.text

    purchase(SEEDED_ORDER)
    moved = requests.post(f"{server.url}/local/clock", json={"advance_seconds": 8 * 86400}, timeout=60)
    assert moved.status_code == 200, moved.text
    for sub, groups in LOGINS:
        server.login(sub, *groups)  # tokens expire by the server's clock: those minted before the move have expired
    purchase(SEEDED_PENDING_ORDER)
    for member in (MEMBER, REFERRER):
        reply = server.call("POST", "/v1/adjustments", ADMIN, {
            "adjustment_id": f"FZ-GRANT-{member}", "member_id": member, "points": 100_000, "reason": "fuzz seed"})
        assert reply.status_code == 201, reply.text
    # Stored value to pay with and to withdraw (docs/wallet.md)
    reply = server.call("POST", "/v1/top-ups", STAFF, {"top_up_id": "FZ-TOP-UP-1", "member_id": MEMBER,
                                                       "amount_minor": 300_000, "currency": "CNY"})
    assert reply.status_code == 201, reply.text
    reply = server.call("POST", "/v1/partners", ADMIN, {
        "partner_id": SEEDED_PARTNER, "name": "Fuzz partner", "email": "fz-partner@example.com",
        "commission_bps": 500, "attribution_days": 30})
    assert reply.status_code == 201, reply.text
    reply = server.call("POST", "/v1/links", PARTNER, {"link_id": "FZ-LINK-1", "campaign": "fuzz"})
    assert reply.status_code == 201, reply.text
    server.link_codes = (reply.json()["code"], code or "")
    # The member's twin: signed up with the member's code on the member's phone; its purchase holds the member's
    # referral credit for review.
    server.login(TWIN)
    reply = server.call("POST", "/v1/members", TWIN, {"email": f"{TWIN}@example.com", "display_name": "Twin",
                                                       "referral_code": member_code, "device_id": f"phone-of-{MEMBER}"})
    assert reply.status_code == 201, reply.text
    now = requests.get(f"{server.url}/local/clock", timeout=10).json()["now"]
    reply = server.call("POST", "/v1/purchases", STAFF, {
        "order_id": "FZ-HELD-1", "member_id": TWIN, "amount_minor": 12900, "currency": "CNY", "occurred_at": now})
    assert reply.status_code == 201, reply.text
    server.review_id = next(c["review_id"] for c in reply.json()["credits"] if c["member_id"] == MEMBER)
    # Coupons and the catalogue: a template, the member's coupon of it, a reward without stock.
    reply = server.call("PUT", f"/v1/coupon-templates/{SEEDED_TEMPLATE}", ADMIN, {
        "name": "Fuzz coupon", "amount_off_minor": 500, "valid_days": 365})
    assert reply.status_code == 200, reply.text
    reply = server.call("POST", "/v1/coupons", STAFF, {"issue_id": "FZ-ISSUE-1", "template_id": SEEDED_TEMPLATE,
                                                       "member_id": MEMBER})
    assert reply.status_code == 201, reply.text
    server.coupon_code = reply.json()["code"]
    # A second coupon, used: its redemption is the one a void may cancel (the clock stands still: within 15 minutes).
    reply = server.call("POST", "/v1/coupons", STAFF, {"issue_id": "FZ-ISSUE-2", "template_id": SEEDED_TEMPLATE,
                                                       "member_id": MEMBER})
    assert reply.status_code == 201, reply.text
    reply = server.call("POST", f"/v1/coupons/{reply.json()['code']}/redemptions", STAFF, {
        "redemption_id": SEEDED_COUPON_REDEMPTION, "member_id": MEMBER, "subtotal_minor": 12900})
    assert reply.status_code == 201, reply.text
    reply = server.call("PUT", f"/v1/rewards/{SEEDED_REWARD}", ADMIN, {"name": "Fuzz mug", "points": 10})
    assert reply.status_code == 200, reply.text
    reply = server.call("PUT", f"/v1/bundles/{SEEDED_BUNDLE}", ADMIN, {"name": "6 car washes", "uses": 6,
                                                                        "price_minor": 28800, "valid_days": 365})
    assert reply.status_code == 200, reply.text
    reply = server.call("POST", "/v1/bundle-sales", STAFF, {"sale_id": "FZ-SALE-1", "member_id": MEMBER,
                                                            "product_id": SEEDED_BUNDLE})
    assert reply.status_code == 201, reply.text
    server.card_id = reply.json()["card_id"]
    # Actions (docs/earning-actions.md): a programme that defines the documented example's review (capped, never
    # reached by the fuzzer's hundreds of ids in a day) and a check-in.
    reply = server.call("PUT", "/v1/program", ADMIN, {
        "points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 7, "currency": "CNY",
        "actions": {"review": {"points": 20, "per_day": 100_000}, "check_in": {"points": 2}}})
    assert reply.status_code == 200, reply.text
    # A simulation of the purchases so far, run by the time it is read (docs/earning-simulations.md)
    reply = server.call("POST", "/v1/program/simulations", ADMIN, {
        "simulation_id": SEEDED_SIMULATION, "program": {"referral_rates_bps": [1500]}, "from": "2026-11-01",
        "to": "2026-12-31"})
    assert reply.status_code == 202, reply.text
    # A complaint about the seeded order, and staff's reply (docs/feedback.md)
    reply = server.call("POST", "/v1/members/me/feedback", MEMBER, {
        "feedback_id": SEEDED_FEEDBACK, "kind": "complaint", "order_id": SEEDED_ORDER, "text": "Streaks.", "rating": 2})
    assert reply.status_code == 201, reply.text
    reply = server.call("POST", f"/v1/feedback/{SEEDED_FEEDBACK}/replies", STAFF, {"reply_id": "FZ-RE-1",
                                                                                 "text": "Sorry."})
    assert reply.status_code == 201, reply.text
    # Replacement rules with usage guides, one without an interval: what the GET answers conforms (docs/reminders.md)
    reply = server.call("PUT", "/v1/outreach/replacements", ADMIN, {"rules": [
        {"category": "car-care", "interval_days": 90, "guide": {
            "zh-CN": {"title": "洗车卡使用说明", "text": "到店出示会员码。\n每次核销一次。"},
            "en": {"title": "Using your wash card", "text": "Show your member code.", "link": "https://shop.example/g"}}},
        {"sku": "FZ-WAX", "guide": {"en": {"title": "Waxing", "text": "Dry the car first."}}}]})
    assert reply.status_code == 200, reply.text
    # A manual segment of the member, so a drop has one to drop (docs/segments.md)
    reply = server.call("PUT", f"/v1/members/{MEMBER}/segment", STAFF, {"class": "B", "grade": 2})
    assert reply.status_code == 200, reply.text


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """``python -m localdev`` on a free port, its output and moto's recording in temporary files."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-localdev-"))
    log, recording = workdir / "server.log", workdir / "emulator-recording.jsonl"
    recording.touch()
    env = {**os.environ, "PORT": str(port), "LOCAL_ACCESS_LOG": "0", "POWERTOOLS_LOG_LEVEL": "WARNING",
           "MOTO_ENABLE_RECORDING": "true", "MOTO_RECORDER_FILEPATH": str(recording)}
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "LOCAL_DYNAMODB_ENDPOINT", "AWS_PROFILE"):
        env.pop(key, None)
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "localdev"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, emulator = time.monotonic() + 60, ""
        while not emulator:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local server did not start:\n{log.read_text(errors='replace')}")
            found = re.search(r"\(emulator (http://[0-9.:]+)", log.read_text(errors="replace"))
            if found:
                try:
                    requests.get(f"{url}/local/clock", timeout=1)
                    emulator = found.group(1)
                except requests.ConnectionError:
                    pass
            time.sleep(0.1)
        instance = Server(url=url, emulator=emulator, log=log, tables=TableState(emulator),
                          watch=EmulatorWatch(recording))
        _seed(instance)
        instance.rescan()
        instance.errors()
        yield instance
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        for path in (log, recording):
            path.unlink(missing_ok=True)
        workdir.rmdir()


@pytest.fixture(autouse=True)
def _schemathesis_lazy_node_id(request: pytest.FixtureRequest) -> None:
    """schemathesis' lazy loader (``from_fixture``) reads ``node._nodeid``, which pytest 9 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
