"""A local server per test module: `python -m localdev` on a free port, exactly as `make run` starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.dynamodb_local import free_port
from tests.e2e.browsing import Api, chromium

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LOCAL_ACCESS_LOG": "0"}
    # The handlers' logs go to a file: a pipe nobody reads would stall the server once it filled.
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen([sys.executable, "-m", "localdev"], cwd=ROOT, env=env,
                                   stdout=output, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/local/clock", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-5000:] or "server exited") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


class Client:
    """Requests to the server as named callers. A caller whose token has expired by the server's clock (as far
    as this client has seen it move) signs in again, as an app would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}
        self.logins: dict[str, tuple[tuple[str, ...], datetime]] = {}
        self.now: datetime | None = None  # the server's clock, as last seen through /local/clock

    def login(self, sub: str, *groups: str) -> str:
        reply = requests.post(f"{self.base}/local/tokens", json={"sub": sub, "groups": list(groups)}, timeout=5)
        assert reply.status_code == 200
        self.tokens[sub] = reply.json()["token"]
        self.logins[sub] = (groups, datetime.fromisoformat(reply.json()["expires_at"].replace("Z", "+00:00")))
        return sub

    def __call__(self, method: str, path: str, who: str | None = None, body: Any = None,
                 headers: dict[str, str] | None = None) -> requests.Response:
        sent = dict(headers or {})
        if who:
            groups, expires = self.logins[who]
            if self.now is not None and self.now >= expires - timedelta(minutes=5):
                self.login(who, *groups)
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        reply = requests.request(method, f"{self.base}{path}", json=body, headers=sent, timeout=60)
        if path == "/local/clock" and reply.status_code == 200:
            self.now = datetime.fromisoformat(reply.json()["now"].replace("Z", "+00:00"))
        return reply


@pytest.fixture(scope="module")
def api(base_url: str) -> Api:
    """The local server's API as named people (the browser tests seed and check through it)."""
    return Api(base_url)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api", reason="make install installs Playwright")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Any) -> Iterator[Any]:
    """Debian's Chromium (make test installs it when missing), one per test module."""
    launched = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
    yield launched
    launched.close()
