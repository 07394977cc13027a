"""A local server per test module: `python -m localdev` on a free port, exactly as `make run` starts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from localdev.dynamodb_local import free_port

ROOT = Path(__file__).resolve().parents[2]
@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LOCAL_ACCESS_LOG": "0"}
    process = subprocess.Popen([sys.executable, "-m", "localdev"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/local/clock", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read() if process.stdout else "server exited") from None
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(10)


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens: dict[str, str] = {}

    def login(self, sub: str, *groups: str) -> str:
        reply = requests.post(f"{self.base}/local/tokens", json={"sub": sub, "groups": list(groups)}, timeout=5)
        assert reply.status_code == 200
        self.tokens[sub] = reply.json()["token"]
        return sub

    def __call__(self, method: str, path: str, who: str | None = None, body: Any = None,
                 headers: dict[str, str] | None = None) -> requests.Response:
        sent = dict(headers or {})
        if who:
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        return requests.request(method, f"{self.base}{path}", json=body, headers=sent, timeout=10)


