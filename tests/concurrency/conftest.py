"""DynamoDB Local for the whole session, and the real handlers in Lambda-like containers in front of it.

``dynamodb_local_server`` starts AWS's DynamoDB Local (``localdev.dynamodb_local``; ``make test`` installs
it, and it installs itself if a bare ``pytest`` gets here first) once per test process.
``local_dynamodb`` gives a test fresh tables from the template on it. ``containers`` runs the real
handlers in ``WORKERS`` processes serving one loopback port, each one request at a time as a Lambda
container does (``tests/concurrency/lambdas.py`` says why not threads); ``service`` is an HTTP client
for them with a clock the test moves and a count of the transactions DynamoDB cancelled, by reason.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from localdev import dynamodb_local, emulator, template
from loyalty import wiring
from loyalty.shared.clock import SystemClock
from tests.concurrency.lambdas import ROOT, FileClock, TransactionStats
from tests.concurrency.poster import StreamPoster
from tests.support import every_entry

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
OCCURRED_AT = "2026-11-23T09:30:00Z"
WORKERS = 8  # concurrent "containers" (more only add CPU contention on a 2-core machine)


@pytest.fixture(scope="session")
def dynamodb_local_server() -> Iterator[dynamodb_local.DynamoDBLocal]:
    dynamodb_local.install()  # a no-op after `make dynamodb-local`
    # C1 only: these runs are short, and the JIT's second tier costs more than it returns in them.
    handle = dynamodb_local.start(java_options=("-XX:TieredStopAtLevel=1",))
    yield handle
    handle.stop()


def _environment(endpoint: str) -> dict[str, str]:
    """What the functions see: the template's variables, fake credentials, DynamoDB at DynamoDB Local."""
    return {**emulator.FAKE_AWS, **emulator.function_environment(), "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # discard: no other service is used by these routes


def reset_tables(db: Any) -> None:
    for name in db.list_tables()["TableNames"]:
        db.delete_table(TableName=name)
    emulator.create_tables(db)
    assert sorted(db.list_tables()["TableNames"]) == sorted(template.table_definitions())


@pytest.fixture
def local_dynamodb(dynamodb_local_server: dynamodb_local.DynamoDBLocal, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A client of DynamoDB Local with fresh tables from the template; this process's environment pointing there."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in _environment(dynamodb_local_server.endpoint).items():
        monkeypatch.setenv(key, value)
    # A default session of its own, whose credentials come from the environment just set. The one the moto tests
    # keep (tests/conftest.py) may hold the key moto set while it was active; DynamoDB Local keeps one database per
    # access key, so this process would make tables the containers (the key "testing") never see.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    db = boto3.client("dynamodb", endpoint_url=dynamodb_local_server.endpoint)
    reset_tables(db)
    return db


@dataclass
class Containers:
    url: str
    clock: FileClock
    stats_dir: Path
    secret: str
    process: subprocess.Popen[bytes]
    log_path: Path


@pytest.fixture(scope="session")
def containers(dynamodb_local_server: dynamodb_local.DynamoDBLocal,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containers]:
    work = tmp_path_factory.mktemp("containers")
    clock = FileClock(work / "clock")
    clock.set(START)
    stats_dir = work / "stats"
    stats_dir.mkdir()
    secret = secrets.token_urlsafe(32)
    env = {key: value for key, value in os.environ.items() if key != "AWS_PROFILE" and not key.startswith("AWS_")}
    env.update(_environment(dynamodb_local_server.endpoint))
    env.update({"LOCAL_JWT_SECRET": secret, "LOCAL_ACCESS_LOG": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    listener = socket.create_server(("127.0.0.1", 0), backlog=512)
    log = (work / "containers.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.concurrency.lambdas", "--fd", str(listener.fileno()), "--workers",
         str(WORKERS), "--clock-file", str(clock.path), "--stats-dir", str(stats_dir)],
        cwd=ROOT, env=env, pass_fds=[listener.fileno()], stdin=subprocess.DEVNULL, stdout=log,
        stderr=subprocess.STDOUT, preexec_fn=dynamodb_local.die_with_parent)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()  # the containers hold it now
    try:
        deadline = time.monotonic() + 60
        while len(list(stats_dir.glob("ready-*"))) < WORKERS:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the containers did not start:\n" + (work / "containers.log").read_text())
            time.sleep(0.05)  # waiting for the servers to come up, nothing else
        assert requests.get(f"{url}/local/clock", timeout=10).status_code == 200
        yield Containers(url, clock, stats_dir, secret, process, work / "containers.log")
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used the containers shows the end of their log (a 500's traceback is there, not in the
    test's output): CI prints only the failures."""
    report = yield
    containers = item.funcargs.get("containers") if hasattr(item, "funcargs") else None
    if report.failed and report.when == "call" and isinstance(containers, Containers):
        lines = containers.log_path.read_text(errors="replace").splitlines()[-LOG_LINES:]
        report.sections.append(("containers' log, last lines", "\n".join(line[:4000] for line in lines)))
    return report


LOG_LINES = 30


class TransactionCount:
    """TransactWriteItems calls and their cancellations by reason, added up over the containers."""

    def __init__(self, stats_dir: Path) -> None:
        self.stats_dir = stats_dir

    def mark(self) -> tuple[int, int, Counter[str]]:
        calls, cancelled, reasons = 0, 0, Counter[str]()
        for stats in TransactionStats.read(self.stats_dir):
            calls += stats["calls"]
            cancelled += stats["cancelled"]
            reasons.update(stats["reasons"])
        return calls, cancelled, reasons

    def since(self, mark: tuple[int, int, Counter[str]]) -> dict[str, Any]:
        """Transactions sent since ``mark``, how many DynamoDB cancelled, and the reasons it gave."""
        calls, cancelled, reasons = self.mark()
        return {"transactions": calls - mark[0], "cancelled": cancelled - mark[1], "reasons": dict(reasons - mark[2])}


@dataclass
class Reply:
    status: int
    body: Any

    @property
    def slug(self) -> str | None:
        kind = self.body.get("type") if isinstance(self.body, dict) else None
        return kind.rsplit("/", 1)[-1] if isinstance(kind, str) else None


@dataclass
class Service:
    """An HTTP client of the containers that retries 503 as a real client does, and the clock they read."""

    url: str
    clock: FileClock
    db: Any
    transactions: TransactionCount
    stream: StreamPoster
    busy: Counter[str] = field(default_factory=Counter)  # 503s seen (and retried), by route
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _tokens: dict[tuple[str, ...], tuple[str, datetime]] = field(default_factory=dict)

    def token(self, sub: str, *groups: str) -> str:
        """A token for the caller, minted again once the clock has passed its expiry (tokens expire by it)."""
        found = self._tokens.get((sub, *groups))
        if found is None or self.clock.now() >= found[1]:
            reply = requests.post(f"{self.url}/local/tokens", json={"sub": sub, "groups": list(groups)}, timeout=30)
            assert reply.status_code == 200, reply.text
            expires = datetime.fromisoformat(reply.json()["expires_at"].replace("Z", "+00:00"))
            found = self._tokens[(sub, *groups)] = (reply.json()["token"], expires)
        return found[0]

    def call(self, method: str, path: str, body: Any = None, *, as_: str, groups: Sequence[str] = (),
             headers: dict[str, str] | None = None, retry_busy: int = 20) -> Reply:
        sent = {"Authorization": f"Bearer {self.token(as_, *groups)}", **(headers or {})}
        for _ in range(retry_busy + 1):
            answer = requests.request(method, self.url + path, json=body, headers=sent, timeout=60)
            reply = Reply(answer.status_code, answer.json() if answer.content else None)
            if reply.status != 503:
                return reply
            with self._lock:
                self.busy[path.split("/")[2]] += 1
            # A real client would wait Retry-After; the server has already backed off 8 times, so go again.
        return reply

    # the verbs -----------------------------------------------------------------------------------
    def sign_up(self, sub: str, code: str | None = None) -> dict[str, Any]:
        body = {"email": f"{sub}@example.com", "display_name": sub.title()}
        if code is not None:
            body["referral_code"] = code
        reply = self.call("POST", "/v1/members", body, as_=sub)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    def purchase(self, order_id: str, member_id: str, amount_minor: int, **kwargs: Any) -> Reply:
        body = {"order_id": order_id, "member_id": member_id, "amount_minor": amount_minor, "currency": "CNY",
                "occurred_at": OCCURRED_AT}
        return self.call("POST", "/v1/purchases", body, as_="pos", groups=("staff",), **kwargs)

    def refund(self, order_id: str, refund_id: str, amount_minor: int, **kwargs: Any) -> Reply:
        return self.call("POST", f"/v1/purchases/{order_id}/refunds",
                         {"refund_id": refund_id, "amount_minor": amount_minor}, as_="pos", groups=("staff",),
                         **kwargs)

    def redeem(self, member_id: str, points: int, key: str, **kwargs: Any) -> Reply:
        return self.call("POST", "/v1/redemptions", {"points": points, "reward": "free-car-wash"}, as_=member_id,
                         headers={"Idempotency-Key": key}, **kwargs)

    def adjust(self, adjustment_id: str, member_id: str, points: int) -> Reply:
        return self.call("POST", "/v1/adjustments", {"adjustment_id": adjustment_id, "member_id": member_id,
                                                     "points": points, "reason": "test"}, as_="boss",
                         groups=("admin",))

    def drain(self) -> int:
        """What the purchases and refunds so far queued, posted by the poster (run here, as Lambda's poller would
        run it after them); reads below drain first, as the local server does after every request."""
        from functions.poster.app import post

        return self.stream.drain(lambda records: post(records, wiring.poster()))

    def points(self, member_id: str, *, expiring: bool = False) -> dict[str, Any]:
        """The member's balances once the poster has caught up (``queued`` is then 0 and left out; so is
        ``expiring``, which must then be empty, unless asked for: docs/earning-expiry.md)."""
        self.drain()
        reply = self.call("GET", f"/v1/members/{member_id}", as_="pos", groups=("staff",))
        assert reply.status == 200, reply.body
        shown = dict(reply.body["balances"]["points"])
        assert shown.pop("queued") == 0, shown
        if not expiring:
            assert shown.pop("expiring") == [], shown
        return shown

    def verify(self, member_id: str) -> dict[str, Any]:
        self.drain()
        reply = self.call("GET", f"/v1/members/{member_id}/ledger/verify", as_="auditor", groups=("admin",))
        assert reply.status == 200, reply.body
        return dict(reply.body)

    def ledger(self, member_id: str) -> list[dict[str, Any]]:
        """Every entry, oldest first."""
        self.drain()
        return list(reversed(every_entry(self.call, member_id)))

    def all_at_once(self, calls: Sequence[Callable[[], Reply]], threads: int | None = None) -> list[Reply]:
        """Run ``calls`` from a pool, every thread released by one barrier so the requests really overlap."""
        threads = min(threads or len(calls), len(calls))
        barrier = threading.Barrier(threads)

        def run(index: int) -> Reply:
            if index < threads:
                barrier.wait(timeout=30)
            return calls[index]()

        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(run, range(len(calls))))


@pytest.fixture
def service(local_dynamodb: Any, containers: Containers,
            dynamodb_local_server: dynamodb_local.DynamoDBLocal) -> Iterator[Service]:
    containers.clock.set(START)
    wiring.configure(clock=containers.clock)  # the poster runs here, on DynamoDB Local, by the containers' clock
    yield Service(containers.url, containers.clock, local_dynamodb, TransactionCount(containers.stats_dir),
                  StreamPoster(local_dynamodb, dynamodb_local_server.endpoint))
    wiring.configure(clock=SystemClock())


def report(title: str, **figures: Any) -> None:
    """One line per scenario in the test output (``-s``, or the captured output of a failure)."""
    print(f"\n[{title}] " + json.dumps(figures, sort_keys=True, default=str))
