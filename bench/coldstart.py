"""Cold start: how long importing each function's handler module takes in a fresh interpreter.

Each module is imported in its own new ``python`` process (``layers/common`` and the repository root on
``sys.path``, as ``/opt/python`` and the code directory are on Lambda; the function's environment from the
template, with the Lambda variables that make Powertools' Tracer active), timed around the import alone
(interpreter start-up excluded), several runs, median. A minimal Powertools handler (the ``sam init``
Powertools hello-world shape: resolver, Logger, Tracer, Metrics, one route) is measured the same way in
the same run. ``python -X importtime`` then names the heaviest imports on a module's path.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent

HELLO_WORLD = '''\
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

app = APIGatewayRestResolver()
tracer = Tracer()
logger = Logger()
metrics = Metrics(namespace="Powertools")


@app.get("/hello")
@tracer.capture_method
def hello():
    metrics.add_metric(name="HelloWorldInvocations", unit=MetricUnit.Count, value=1)
    logger.info("Hello world API - HTTP 200")
    return {"message": "hello world"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=True)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event, context):
    return app.resolve(event, context)
'''

TIMER = (
    "import sys, time\n"
    "sys.path[:0] = {paths!r}\n"
    "started = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - started)\n"
)


def _environment() -> dict[str, str]:
    from localdev import emulator

    env = {**os.environ, **emulator.FAKE_AWS, **emulator.function_environment(),
           "PYTHONDONTWRITEBYTECODE": "1"}
    for key in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        env.pop(key, None)  # as on Lambda: tracing on (Tracing: Active), metrics on
    # Powertools' Tracer only switches itself on inside Lambda (it looks for these).
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "LAMBDA_TASK_ROOT": str(ROOT), "AWS_EXECUTION_ENV":
                "AWS_Lambda_python3.13", "_HANDLER": "app.handler"})
    return env


def time_import(module: str, paths: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", TIMER.format(paths=paths, module=module)], env=env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return times


def heaviest(module: str, paths: list[str], env: dict[str, str], top: int = 8) -> list[tuple[str, float]]:
    """Where ``module``'s import time goes (``-X importtime``): the self time of every module imported, summed
    by package (``loyalty`` and ``aws_lambda_powertools`` by sub-package), in ms, largest first."""
    code = f"import sys; sys.path[:0] = {paths!r}; import {module}"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, cwd=ROOT, capture_output=True,
                         text=True, check=True)
    spent: dict[str, float] = {}
    for line in out.stderr.splitlines():
        found = re.match(r"import time:\s+(\d+) \|\s+\d+ \| *(\S+)", line)
        if not found:
            continue
        parts = found.group(2).split(".")
        name = ".".join(parts[:2]) if parts[0] in ("loyalty", "aws_lambda_powertools") else parts[0]
        spent[name] = spent.get(name, 0.0) + int(found.group(1)) / 1000
    return sorted(spent.items(), key=lambda kv: -kv[1])[:top]


def run(runs: int = 5) -> dict[str, object]:
    from localdev import template

    env = _environment()
    paths = [str(ROOT / "layers" / "common"), str(ROOT)]
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as scratch:
        Path(scratch, "hello_world_app.py").write_text(HELLO_WORLD)
        baseline = time_import("hello_world_app", [scratch, *paths], env, runs)
        results["powertools hello world"] = statistics.median(baseline)
        modules = sorted({spec.module for spec in template.functions()})
        for module in modules:
            results[module] = statistics.median(time_import(module, paths, env, runs))
        heaviest_imports = {m: heaviest(m, paths, env) for m in ("functions.purchases.app", "functions.members.app")}
        heaviest_imports["powertools hello world"] = heaviest("hello_world_app", [scratch, *paths], env)
        results["_heaviest"] = heaviest_imports
    results["_runs"] = runs
    return results


def report(results: dict[str, object]) -> list[str]:
    base = float(results["powertools hello world"])  # type: ignore[arg-type]
    lines = [f"import time, median of {results['_runs']} fresh interpreters (tracing active as on Lambda):"]
    for name, value in results.items():
        if name.startswith("_"):
            continue
        seconds = float(value)  # type: ignore[arg-type]
        lines.append(f"  {name:<36} {seconds * 1000:7.0f} ms  ({seconds / base:4.2f}× the hello world)")
    for name, top in cast("dict[str, list[tuple[str, float]]]", results["_heaviest"]).items():
        lines.append(f"  heaviest imports under {name}: " + ", ".join(f"{n} {ms:.0f} ms" for n, ms in top))
    return lines
