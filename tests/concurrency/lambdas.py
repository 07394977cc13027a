"""Lambda-like containers for the races: the real handlers in N processes, each serving one request at a time.

Lambda runs concurrent invocations in separate containers, each handling one event at a time. Threads
in one process are not that: Powertools keeps the event being handled in class attributes shared by
every resolver of the process (``BaseRouter.current_event``), so two requests handled at once in one
process read each other's headers, body and claims (see ``test_defects.py``). So here a parent
imports everything once, then forks ``--workers`` children; each child builds its own DynamoDB client
and serves the shared listening socket (``--fd``) with a plain single-threaded ``HTTPServer``: the
kernel hands each connection to one idle child, and up to N requests run at once, each in its own
process, against DynamoDB Local (``AWS_ENDPOINT_URL_DYNAMODB`` in the environment).

Every child reads time from one file (``FileClock``) that the test moves, and counts the
``TransactWriteItems`` calls it makes, and DynamoDB's cancellations by reason, in ``--stats-dir``.

    python -m tests.concurrency.lambdas --fd 3 --workers 16 --clock-file F --stats-dir D
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import HTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


class FileClock:
    """Time from a file of epoch seconds, shared by every process; whoever holds the path can move it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        return datetime.fromtimestamp(int(self.path.read_text()), UTC)

    def set(self, moment: datetime) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(str(int(moment.timestamp())))
        os.replace(partial, self.path)

    def advance(self, seconds: int) -> datetime:
        self.set(self.now() + timedelta(seconds=seconds))
        return self.now()


class TransactionStats:
    """TransactWriteItems calls and DynamoDB's cancellation reasons, one JSON file per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"calls": 0, "cancelled": 0, "reasons": {}}
        self._write()

    def after_call(self, parsed: dict[str, Any], **_: Any) -> None:
        self.data["calls"] += 1
        if parsed.get("Error", {}).get("Code") == "TransactionCanceledException":
            self.data["cancelled"] += 1
            for reason in parsed.get("CancellationReasons", []):
                code = reason.get("Code", "None")
                if code != "None":
                    self.data["reasons"][code] = self.data["reasons"].get(code, 0) + 1
        self._write()

    def _write(self) -> None:
        partial = self.path.with_name(self.path.name + ".partial")
        partial.write_text(json.dumps(self.data))
        os.replace(partial, self.path)

    @staticmethod
    def read(directory: Path) -> Iterator[dict[str, Any]]:
        for path in directory.glob("stats-*.json"):
            yield json.loads(path.read_text())


def _child(listener: socket.socket, clock_file: Path, stats_dir: Path) -> None:
    import boto3

    from localdev.dynamodb_local import die_with_parent
    from localdev.server import LocalGateway, make_handler
    from loyalty import wiring

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    boto3.setup_default_session()  # a fresh session (and so client) per process, with the counting hook
    stats = TransactionStats(stats_dir / f"stats-{os.getpid()}.json")
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("after-call.dynamodb.TransactWriteItems", stats.after_call)
    clock = FileClock(clock_file)
    wiring.configure(clock=clock)
    # No Secrets Manager here (only DynamoDB is): one fixed key stands in for the link secret in every container,
    # so a link code drawn by one is checked by the others.
    wiring._link_key = lambda: b"the containers' link key, the same in every one"
    wiring._surprise_master = lambda: b"the containers' surprise master, the same in every one"
    gateway = LocalGateway(clock)
    server = HTTPServer(listener.getsockname()[:2], make_handler(gateway), bind_and_activate=False)
    server.socket.close()
    server.socket = listener
    (stats_dir / f"ready-{os.getpid()}").touch()
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.concurrency.lambdas")
    parser.add_argument("--fd", type=int, required=True, help="an inherited listening socket")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--clock-file", type=Path, required=True)
    parser.add_argument("--stats-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    for path in (ROOT, ROOT / "layers" / "common"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))

    import localdev.server  # noqa: F401 - import once, before forking: the children share these pages
    from localdev import template

    for spec in template.functions():
        __import__(spec.module)
    listener = socket.socket(fileno=args.fd)
    children: list[int] = []
    for _ in range(args.workers):
        pid = os.fork()  # this process has no other thread: forking it is safe
        if pid == 0:
            try:
                _child(listener, args.clock_file, args.stats_dir)
            finally:
                os._exit(0)
        children.append(pid)

    def stop(*_: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    for child in children:
        os.waitpid(child, 0)


if __name__ == "__main__":
    main()
