"""``python -m ops.security``: keep docs/security.md's findings table true (``make security``).

Two steps, with checkov and bandit run between them by the Makefile (from ``.venv-checkov``, so that checkov's
many pinned dependencies stay out of the project's ``.venv``):

    python -m ops.security expand --out .aws-sam/security/expanded.json
    checkov --file .aws-sam/security/expanded.json --framework cloudformation --output json … > checkov.json
    bandit --recursive layers/common functions localdev ops --format json --output bandit.json …
    python -m ops.security check --checkov checkov.json --bandit bandit.json

``expand`` turns infra/template.yaml into the plain CloudFormation AWS would deploy, with the SAM translator
(aws-sam-translator, the library AWS runs for the transform), offline: no credentials, no region lookup, local
code paths replaced by what ``sam package`` would upload. checkov reads SAM resources only partly; expanded, it
sees every role, permission, queue and stage SAM makes.

``check`` fails (exit 1) when

- a check fails (checkov: check id and resource; bandit: test id and file) that no row of the table explains;
- a row says a check fails (``accepted``, ``not applicable``, ``pending: …``) that fails nowhere it names any
  more: the row is stale, mark it ``fixed`` or remove it;
- a row says ``fixed`` where the check fails again, or (checkov) where it was not checked at all;
- checkov parsed nothing or reported parse errors, or bandit reported errors (an empty scan proves nothing).

The table is any markdown table of docs/security.md whose header starts ``| check | resource | verdict | why``.
``resource`` is a comma-separated list of patterns (shell-style: ``*``, ``*Function``, ``localdev/*``): a
CloudFormation logical id for checkov, a file path for bandit. Every pattern of a row must match a finding, so
a row cannot quietly outlive the resource it was written for.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "docs" / "security.md"
HEADER = ("check", "resource", "verdict", "why")
VERDICTS = ("fixed", "accepted", "not applicable", "pending")
# What a finding is about: a check id (CKV_AWS_117, CKV2_AWS_5, B101) on a resource (a logical id or a file).
CHECK_ID = re.compile(r"^(CKV2?_[A-Z0-9]+_\d+|B\d{3})$")


# --- expanding the SAM template ------------------------------------------------------------------


def expand(sam: dict[str, Any], region: str = "us-east-1") -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of ``sam``, computed here without AWS.

    Local ``CodeUri``/``ContentUri`` paths become the S3 locations ``sam package`` would upload them to; the
    region is fixed, so the translator never asks boto for one. The template uses no SAM policy templates or
    managed policies by name, so the translator needs no managed-policy map (and none is looked up).
    """
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    sam = copy.deepcopy(sam)
    for resource in sam.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = "s3://bucket/key"
    ArnGenerator.BOTO_SESSION_REGION_NAME = region
    session = boto3.session.Session(region_name=region)
    translator = Translator({}, Parser(), boto_session=session)
    expanded: dict[str, Any] = translator.translate(sam, parameter_values={})
    return expanded


# --- findings ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Finding:
    check: str
    resource: str
    title: str = ""


@dataclass(frozen=True)
class Scan:
    """What one tool reported: checks that failed, and (checkov) checks that passed."""

    tool: str  # "checkov" or "bandit"
    failed: frozenset[Finding]
    passed: frozenset[Finding]


def tool_of(check: str) -> str:
    return "bandit" if check.startswith("B") else "checkov"


def _logical_id(resource: str) -> str:
    """checkov names a CloudFormation resource ``AWS::Type::Name.LogicalId``."""
    return resource.split(".", 1)[1] if "." in resource else resource


def checkov_scan(report: Any) -> Scan:
    """Findings of checkov's JSON report (one framework: an object; several: a list of them)."""
    reports = report if isinstance(report, list) else [report]
    failed: set[Finding] = set()
    passed: set[Finding] = set()
    resources = 0
    for one in reports:
        if not isinstance(one, dict) or "results" not in one:
            raise ValueError("not a checkov JSON report (no results)")
        summary = one.get("summary", {})
        resources += int(summary.get("resource_count", 0))
        if summary.get("parsing_errors") or one["results"].get("parsing_errors"):
            raise ValueError(f"checkov could not parse: {one['results'].get('parsing_errors')}")
        for key, into in (("failed_checks", failed), ("passed_checks", passed)):
            for result in one["results"].get(key, []):
                into.add(Finding(result["check_id"], _logical_id(result["resource"]), result.get("check_name", "")))
    if resources == 0:
        raise ValueError("checkov scanned no resources")
    return Scan("checkov", frozenset(failed), frozenset(passed))


def bandit_scan(report: Any) -> Scan:
    """Findings of bandit's JSON report, by test id and file (lines move with every edit; files do not)."""
    if not isinstance(report, dict) or "results" not in report:
        raise ValueError("not a bandit JSON report (no results)")
    if report.get("errors"):
        raise ValueError(f"bandit could not scan: {report['errors']}")
    failed = {Finding(r["test_id"], _relative(r["filename"]), r.get("issue_text", "")) for r in report["results"]}
    return Scan("bandit", frozenset(failed), frozenset())


def _relative(path: str) -> str:
    candidate = Path(path)
    if candidate.is_absolute() and candidate.is_relative_to(ROOT):
        candidate = candidate.relative_to(ROOT)
    return candidate.as_posix().removeprefix("./")


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    check: str
    patterns: tuple[str, ...]
    verdict: str  # one of VERDICTS
    why: str
    line: int

    def covers(self, finding: Finding) -> bool:
        return finding.check == self.check and any(fnmatchcase(finding.resource, p) for p in self.patterns)

    def __str__(self) -> str:
        return f"line {self.line}: {self.check} | {', '.join(self.patterns)} | {self.verdict}"


def _cells(line: str) -> list[str]:
    return [cell.strip().strip("`").strip() for cell in line.strip().strip("|").split("|")]


def parse_table(text: str) -> list[Row]:
    """The rows of every findings table in ``text``; ``ValueError`` on a row the checks could not read."""
    rows: list[Row] = []
    in_table = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.lstrip().startswith("|"):
            in_table = False
            continue
        cells = _cells(line)
        if tuple(c.lower() for c in cells[: len(HEADER)]) == HEADER:
            in_table = True
            continue
        if not in_table or set("".join(cells)) <= set("-: "):
            continue
        check, resource, verdict, why = [*cells, "", "", ""][:4]
        if not CHECK_ID.match(check):
            raise ValueError(f"line {number}: {check!r} is not a checkov or bandit check id")
        patterns = tuple(p.strip().strip("`").strip() for p in resource.split(",") if p.strip().strip("`").strip())
        kind = next((v for v in VERDICTS if verdict.lower().startswith(v)), None)
        if not patterns or kind is None or not why:
            raise ValueError(f"line {number}: a row needs resources, a verdict ({', '.join(VERDICTS)}) and a why")
        rows.append(Row(check, patterns, kind, why, number))
    return rows


# --- the comparison ------------------------------------------------------------------------------


def problems(rows: Sequence[Row], scans: Iterable[Scan]) -> list[str]:
    """Everything that makes the table untrue of the scans; empty when it is true. Rows of a tool that did not
    scan are not judged."""
    failed: set[Finding] = set()
    passed: set[Finding] = set()
    tools: set[str] = set()
    for scan in scans:
        failed |= scan.failed
        passed |= scan.passed
        tools.add(scan.tool)
    rows = [row for row in rows if tool_of(row.check) in tools]
    found: list[str] = []
    for finding in sorted(failed):
        explained = [row for row in rows if row.covers(finding)]
        if not explained:
            found.append(f"unexplained: {finding.check} on {finding.resource} ({finding.title}); add a row:\n"
                         f"    | `{finding.check}` | `{finding.resource}` | accepted / pending: … | why |")
        for row in explained:
            if row.verdict == "fixed":
                found.append(f"regressed: {row} but {finding.check} fails on {finding.resource}")
    for row in rows:
        for pattern in row.patterns:
            single = Row(row.check, (pattern,), row.verdict, row.why, row.line)
            if row.verdict == "fixed":
                if tool_of(row.check) == "checkov" and not any(single.covers(f) for f in passed):
                    found.append(f"unchecked: {row} but checkov checked no `{pattern}` for it")
            elif not any(single.covers(f) for f in failed):
                found.append(f"stale: {row} but `{pattern}` passes now: mark the row fixed or remove it")
    return found


def check(table: Path, checkov_report: Path, bandit_report: Path | None) -> int:
    rows = parse_table(table.read_text(encoding="utf-8"))
    scans = [checkov_scan(json.loads(checkov_report.read_text(encoding="utf-8")))]
    if bandit_report is not None:
        scans.append(bandit_scan(json.loads(bandit_report.read_text(encoding="utf-8"))))
    found = problems(rows, scans)
    failures = sum(len(s.failed) for s in scans)
    for line in found:
        print(line, file=sys.stderr)
    name = table.relative_to(ROOT) if table.is_relative_to(ROOT) else table
    if found:
        print(f"security: {len(found)} problem(s) between the scans and {name}", file=sys.stderr)
        return 1
    print(f"security: {failures} findings (check × resource or file), each explained by {name} ({len(rows)} rows)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.security", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    expanding = commands.add_parser("expand", help="write infra/template.yaml as plain CloudFormation")
    expanding.add_argument("--out", type=Path, required=True)
    checking = commands.add_parser("check", help="compare checkov's and bandit's JSON reports with the table")
    checking.add_argument("--checkov", type=Path, required=True)
    checking.add_argument("--bandit", type=Path)
    checking.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args(argv)
    if args.command == "expand":
        from localdev import template

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(expand(template.load()), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return 0
    try:
        return check(args.table, args.checkov, args.bandit)
    except (OSError, ValueError, KeyError) as error:
        print(f"security: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
