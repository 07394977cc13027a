"""`make security` keeps docs/security.md true: ops/security.py fails on a scanner finding the table does not
explain, on a row that no longer fails, on a `fixed` row that fails again, and on a scan that saw nothing. The
checks themselves run in `make security` (checkov and bandit live in .venv-checkov); these tests drive the
comparison with small reports, and check offline what they can of the real table and template."""

from __future__ import annotations

import json
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from localdev import template
from ops import security
from ops.security import Finding, Scan, bandit_scan, checkov_scan, expand, parse_table, problems

TABLE = """
Some prose | with a pipe that is no table.

| check | resource | verdict | why |
|---|---|---|---|
| `CKV_AWS_117` | `*Function` | accepted | no VPC |
| `CKV_AWS_116` | `SesEventsFunction`, `DispatcherFunction` | pending: limits | async |
| `CKV_AWS_28` | `LedgerTable` | fixed | PITR |
| `B101` | `layers/common/loyalty/outreach/*` | accepted | narrowing |

| other | table |
|---|---|
| `CKV_AWS_1` | ignored |
"""


def _checkov(failed: Sequence[tuple[str, str]], passed: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    def result(check: str, resource: str) -> dict[str, Any]:
        return {"check_id": check, "resource": f"AWS::Some::Type.{resource}", "check_name": "a check"}

    return {"check_type": "cloudformation",
            "results": {"failed_checks": [result(*f) for f in failed], "passed_checks": [result(*p) for p in passed],
                        "skipped_checks": [], "parsing_errors": []},
            "summary": {"resource_count": 3, "parsing_errors": 0}}


TODAY = [("CKV_AWS_117", "MembersFunction"), ("CKV_AWS_117", "SesEventsFunction"),
         ("CKV_AWS_116", "SesEventsFunction"), ("CKV_AWS_116", "DispatcherFunction")]
PASSING = [("CKV_AWS_28", "LedgerTable")]
BANDIT = {"errors": [], "results": [{"test_id": "B101", "filename": "layers/common/loyalty/outreach/policy.py",
                                     "issue_text": "assert"}]}


def _problems(failed: Sequence[tuple[str, str]], passed: Sequence[tuple[str, str]] = PASSING,
              bandit: dict[str, Any] = BANDIT) -> list[str]:
    return problems(parse_table(TABLE), [checkov_scan(_checkov(failed, passed)), bandit_scan(bandit)])


def test_the_table_is_read_from_its_own_header_on() -> None:
    rows = parse_table(TABLE)
    assert [(r.check, r.patterns, r.verdict) for r in rows] == [
        ("CKV_AWS_117", ("*Function",), "accepted"),
        ("CKV_AWS_116", ("SesEventsFunction", "DispatcherFunction"), "pending"),
        ("CKV_AWS_28", ("LedgerTable",), "fixed"),
        ("B101", ("layers/common/loyalty/outreach/*",), "accepted"),
    ]


def test_a_table_that_explains_every_finding_and_nothing_else_passes() -> None:
    assert _problems(TODAY) == []


def test_a_finding_no_row_explains_fails_and_says_what_row_to_add() -> None:
    found = _problems([*TODAY, ("CKV_AWS_158", "MembersLogGroup")])
    assert len(found) == 1 and found[0].startswith("unexplained: CKV_AWS_158 on MembersLogGroup")
    assert "| `CKV_AWS_158` | `MembersLogGroup` |" in found[0]


def test_a_new_resource_under_a_pattern_is_explained_but_not_under_a_list() -> None:
    assert _problems([*TODAY, ("CKV_AWS_117", "AnchorFunction")]) == []
    found = _problems([*TODAY, ("CKV_AWS_116", "AnchorFunction")])
    assert [f.split(" (")[0] for f in found] == ["unexplained: CKV_AWS_116 on AnchorFunction"]


def test_a_row_whose_check_passes_now_is_stale() -> None:
    found = _problems([f for f in TODAY if f != ("CKV_AWS_116", "DispatcherFunction")])
    assert len(found) == 1 and found[0].startswith("stale: line 7: CKV_AWS_116")
    assert "`DispatcherFunction` passes now" in found[0]


def test_a_fixed_row_must_pass_and_must_have_been_checked() -> None:
    regressed = _problems([*TODAY, ("CKV_AWS_28", "LedgerTable")])
    assert len(regressed) == 1 and regressed[0].startswith("regressed: line 8: CKV_AWS_28")
    unchecked = _problems(TODAY, passed=[])
    assert len(unchecked) == 1 and unchecked[0].startswith("unchecked: line 8: CKV_AWS_28")


def test_bandit_findings_are_held_to_the_table_by_file() -> None:
    other = {"errors": [], "results": [{"test_id": "B101", "filename": "ops/verify.py", "issue_text": "assert"}]}
    found = _problems(TODAY, bandit=other)
    assert len(found) == 2
    assert found[0].startswith("unexplained: B101 on ops/verify.py") and found[1].startswith("stale: line 9: B101")


@pytest.mark.parametrize("report", [
    {"results": {"failed_checks": [], "passed_checks": []}, "summary": {"resource_count": 0}},
    {"results": {"failed_checks": [], "parsing_errors": ["expanded.json"]}, "summary": {"resource_count": 3}},
    [],
    {"summary": {}},
])
def test_a_checkov_scan_that_saw_nothing_proves_nothing(report: Any) -> None:
    with pytest.raises(ValueError):
        checkov_scan(report)


def test_a_bandit_scan_with_errors_proves_nothing() -> None:
    with pytest.raises(ValueError):
        bandit_scan({"errors": [{"filename": "x.py", "reason": "syntax error"}], "results": []})


@pytest.mark.parametrize("row", [
    "| `CKV_AWS_117` | `*` | maybe | why |",  # not a verdict
    "| `CKV_AWS_117` | `*` | accepted | |",  # no why
    "| `CKV_AWS_117` | | accepted | why |",  # no resource
    "| VPC | `*` | accepted | why |",  # not a check id
])
def test_a_row_the_check_cannot_read_is_an_error(row: str) -> None:
    with pytest.raises(ValueError):
        parse_table("| check | resource | verdict | why |\n|---|---|---|---|\n" + row)


def test_the_command_compares_reports_with_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table, checkov, bandit = tmp_path / "security.md", tmp_path / "checkov.json", tmp_path / "bandit.json"
    table.write_text(TABLE)
    checkov.write_text(json.dumps([_checkov(TODAY, PASSING)]))  # several frameworks: a list of reports
    bandit.write_text(json.dumps(BANDIT))
    args = ["check", "--table", str(table), "--checkov", str(checkov), "--bandit", str(bandit)]
    assert security.main(args) == 0
    checkov.write_text(json.dumps(_checkov(TODAY[:-1], PASSING)))
    assert security.main(args) == 1
    assert "stale" in capsys.readouterr().err
    del args[-2:]  # without bandit's report, bandit's rows are not judged
    assert security.main(args) == 1 and "B101" not in capsys.readouterr().err
    checkov.write_text("not json")
    assert security.main(args) == 2


# --- the real table and template, offline ---------------------------------------------------------


@pytest.fixture(scope="module")
def expanded() -> dict[str, Any]:
    return expand(template.load())


def test_the_template_expands_offline_into_plain_cloudformation(expanded: dict[str, Any]) -> None:
    types = {r["Type"] for r in expanded["Resources"].values()}
    assert "Transform" not in expanded and not any(t.startswith("AWS::Serverless::") for t in types)
    assert {"AWS::Lambda::Function", "AWS::IAM::Role", "AWS::ApiGatewayV2::Api"} <= types


def test_every_row_of_docs_security_md_names_something_that_exists(expanded: dict[str, Any]) -> None:
    rows = parse_table(security.TABLE.read_text(encoding="utf-8"))
    assert rows, "docs/security.md has no findings table"
    for row in rows:
        if row.check.startswith("B"):
            names = [p.relative_to(security.ROOT).as_posix() for d in ("layers/common", "functions", "localdev", "ops")
                     for p in (security.ROOT / d).rglob("*.py")]
        else:
            names = list(expanded["Resources"])
        for pattern in row.patterns:
            assert any(fnmatchcase(name, pattern) for name in names), f"{row}: nothing is called {pattern}"


def test_findings_compare_by_check_and_resource() -> None:
    scan = Scan("bandit", frozenset({Finding("B101", "a.py", "one"), Finding("B101", "a.py", "two")}), frozenset())
    rows = parse_table("| check | resource | verdict | why |\n|-|-|-|-|\n| B101 | a.py | accepted | ok |")
    assert problems(rows, [scan]) == []
