"""Cold start: how long importing each function's handler module takes in a fresh interpreter.

Each module is imported in its own new ``python`` process (``layers/common`` and the repository root on
``sys.path``, as ``/opt/python`` and the code directory are on Lambda; the function's environment from the
template, with the Lambda variables that make Powertools' Tracer active; only the packages a Lambda container
has importable: the standard library, the layer's, the runtime's AWS SDK and ours), timed around the import alone
(interpreter start-up excluded; every module's bytecode already compiled, in a scratch cache, by one uncounted
round): wall time and the child's CPU time (``time.process_time``, which a loaded
machine disturbs far less than the wall clock). A minimal Powertools handler (the ``sam init`` Powertools
hello-world shape: resolver, Logger, Tracer, Metrics, one route) is measured in the same run, and the runs are
interleaved (hello world, every function, then again, round after round) so that a change of load touches
every module alike. Each figure is the median over the rounds; a function's ratio is the median of its
per-round ratios to the hello world of the same round. For every function above the hello world,
``python -X importtime`` then says where its time goes.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = "powertools hello world"

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

# Only what a Lambda container can import: the standard library (and its private modules, named "_…"), the
# layer's packages, the runtime's AWS SDK and our code. This virtualenv also holds the tools' packages (requests,
# pynamodb …), which X-Ray's patch_all (the hello world's Tracer) would find and import here, never on Lambda.
RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
OURS = ("loyalty", "functions", "hello_world_app")
LAMBDA_ONLY = """\
import importlib.abc, sys
class LambdaOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top.startswith("_") or top in {allowed!r}:
            return None
        raise ModuleNotFoundError(f"No module named {{name!r}} on Lambda", name=name)
sys.meta_path.insert(0, LambdaOnly())
sys.path[:0] = {paths!r}
"""
TIMER = (
    "import time\n"
    "wall, cpu = time.perf_counter(), time.process_time()\n"
    "import {module}\n"
    "print(time.perf_counter() - wall, time.process_time() - cpu)\n"
)


def lambda_packages() -> frozenset[str]:
    """The top-level modules a function may import on Lambda besides the standard library."""
    lines = (ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines()
    layer = {re.split(r"[=<>~ ;\[]", line.strip())[0].lower().replace("-", "_") for line in lines
             if line.strip() and not line.lstrip().startswith("#")}
    return frozenset(layer | set(RUNTIME) | set(OURS))


def prelude(paths: list[str]) -> str:
    """Code a child runs before the import it measures: the Lambda-only importer and ``sys.path``."""
    return LAMBDA_ONLY.format(allowed=sorted(lambda_packages()), paths=paths)


@dataclass
class Target:
    """One module to import, and what each round measured (seconds)."""

    name: str
    module: str
    paths: list[str]
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def environment() -> dict[str, str]:
    """A function's environment as on Lambda: the template's variables, tracing and metrics on."""
    from localdev import emulator

    env = {**os.environ, **emulator.FAKE_AWS, **emulator.function_environment()}
    for key in ("POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED"):
        env.pop(key, None)  # as on Lambda: tracing on (Tracing: Active), metrics on
    # Powertools' Tracer only switches itself on inside Lambda (it looks for these).
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "LAMBDA_TASK_ROOT": str(ROOT), "AWS_EXECUTION_ENV":
                "AWS_Lambda_python3.13", "_HANDLER": "app.handler"})
    return env


def time_import(target: Target, env: dict[str, str]) -> None:
    """One fresh interpreter importing ``target.module``: its wall and CPU time are appended."""
    code = prelude(target.paths) + TIMER.format(module=target.module)
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"importing {target.module} failed:\n{out.stderr[-3000:]}")
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    target.wall.append(float(wall))
    target.cpu.append(float(cpu))


def self_times(module: str, paths: list[str], env: dict[str, str]) -> dict[str, float]:
    """Where ``module``'s import time goes (``-X importtime``): the self time of every module imported, summed
    by package (``loyalty`` and ``aws_lambda_powertools`` by sub-package), in ms."""
    code = prelude(paths) + f"import {module}\n"
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
    return spent


def _ratio(target: Target, hello: Target, kind: str) -> float:
    """The median over the rounds of this module's time over the hello world's in the same round."""
    mine, base = getattr(target, kind), getattr(hello, kind)
    return statistics.median(m / b for m, b in zip(mine, base, strict=True))


def run(runs: int = 15) -> dict[str, object]:
    from localdev import template

    env = environment()
    paths = [str(ROOT / "layers" / "common"), str(ROOT)]
    results: dict[str, object] = {"_runs": runs}
    with tempfile.TemporaryDirectory() as scratch:
        # Bytecode for every module alike, kept out of the tree: the first (uncounted) round compiles what has
        # none (our code, the hello world) into this cache, every later round reads it, as for site-packages.
        env = {**env, "PYTHONPYCACHEPREFIX": str(Path(scratch, "pycache"))}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        Path(scratch, "hello_world_app.py").write_text(HELLO_WORLD)
        hello = Target(HELLO, "hello_world_app", [scratch, *paths])
        targets = [hello] + [Target(m, m, paths) for m in sorted({spec.module for spec in template.functions()})]
        for target in targets:
            time_import(Target(target.name, target.module, target.paths), env)
        for _ in range(runs):  # round-robin: every module once per round
            for target in targets:
                time_import(target, env)
        for target in targets:
            results[target.name] = {
                "wall": statistics.median(target.wall), "cpu": statistics.median(target.cpu),
                "wall_ratio": _ratio(target, hello, "wall"), "cpu_ratio": _ratio(target, hello, "cpu")}
        above = [t for t in targets[1:] if results[t.name]["cpu_ratio"] > 1.0]  # type: ignore[index]
        if above:
            base = self_times(hello.module, hello.paths, env)
            results["_where"] = {t.name: (self_times(t.module, t.paths, env), base) for t in above}
    return results


def _where(name: str, spent: dict[str, float], base: dict[str, float], top: int = 8) -> list[str]:
    heaviest = sorted(spent.items(), key=lambda kv: -kv[1])[:top]
    extra = sorted(((n, ms) for n, ms in spent.items() if n not in base), key=lambda kv: -kv[1])[:top]
    return [f"  {name}: heaviest imports (-X importtime self time by package) "
            + ", ".join(f"{n} {ms:.0f} ms" for n, ms in heaviest),
            f"  {' ' * (len(name) + 2)}not on the hello world's path: "
            + (", ".join(f"{n} {ms:.0f} ms" for n, ms in extra) or "nothing")]


def report(results: dict[str, object]) -> list[str]:
    lines = [f"import time, median of {results['_runs']} fresh interpreters per module, interleaved round-robin "
             "(tracing active as on Lambda); × = median of per-round ratios to the hello world:",
             f"  {'module':<36} {'CPU':>8} {'×':>5}   {'wall':>8} {'×':>5}"]
    for name, value in results.items():
        if name.startswith("_"):
            continue
        row: dict[str, float] = value  # type: ignore[assignment]
        lines.append(f"  {name:<36} {row['cpu'] * 1000:5.0f} ms {row['cpu_ratio']:5.2f}   "
                     f"{row['wall'] * 1000:5.0f} ms {row['wall_ratio']:5.2f}")
    where: dict[str, tuple[dict[str, float], dict[str, float]]] = results.get("_where") or {}  # type: ignore[assignment]
    if not where:
        lines.append("  every function imports in at most the hello world's CPU time")
    for name, (spent, base) in where.items():
        lines += _where(name, spent, base)
    return lines
