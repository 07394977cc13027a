"""``python -m bench [section …]``: print every figure of docs/benchmarks.md and docs/hot-referrer.md."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "common"), str(ROOT)]  # as /opt/python is on Lambda

SECTIONS = ("units", "cost", "coldstart", "hotref", "flash", "console", "screening", "simulations", "segments")


def _units_table(units: dict) -> list[str]:
    lines = [f"{'operation':<88} {'requests':>8} {'RCU':>5} {'WCU':>5} {'(index)':>7} {'items':>5}  calls"]
    for row in units["rows"]:
        calls = ", ".join(f"{k} {v}" for k, v in row["calls"].items())
        other = ("; other AWS calls: " + ", ".join(f"{k} {v}" for k, v in row["other_services"].items())
                 if row["other_services"] else "")
        lines.append(f"{row['operation']:<88} {row['dynamodb_requests']:>8} {row['rcu']:>5.0f} {row['wcu']:>5} "
                     f"{row['index_wcu']:>7} {row['items_written']:>5}  {calls}{other}")
    sizes = units["sizes"]
    lines.append(f"item sizes: accounts {sizes['account_sizes'][0]}-{sizes['account_sizes'][-1]} B (the root's, "
                 f"{sizes['account_root_lots']} lots: {sizes['account_root_bytes']} B); entries "
                 f"{sizes['entry_bytes'][0]}-{sizes['entry_bytes'][-1]} B")
    return lines


def _floor(units: dict) -> list[str]:
    rows = {r["operation"]: r for r in units["rows"]}
    lines = ["floor for a purchase: one read (BatchGetItem) and one transaction (TransactWriteItems)"]
    for depth in (0, 1, 2, 10):
        calls = rows[f"purchase, referral depth {depth}"]["calls"]
        lines.append(f"  depth {depth:>2}: {calls.get('BatchGetItem', 0)} BatchGetItem + "
                     f"{calls.get('TransactWriteItems', 0)} TransactWriteItems"
                     f"{'' if set(calls) <= {'BatchGetItem', 'TransactWriteItems'} else ' + ' + str(calls)}")
    return lines


def _coldstart(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import coldstart

    return (f"Cold start: handler module import time ({args.runs} rounds)",
            lambda: coldstart.report(coldstart.run(args.runs)))


def _hotref(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import hot_referrer

    return "Hot referrer", lambda: hot_referrer.report(hot_referrer.analyse())


def _flash(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import flash_sale

    return ("Flash sale: one subtree at 100 / 1,000 / 10,000 purchases/s (simulated)",
            lambda: flash_sale.report(flash_sale.run(quick=args.quick)))


def _console(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import console

    return "Console: transferred size and page load against make run", lambda: console.report(console.run())


def _screening(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import screening

    return ("Screening: precision and recall on a generated population with planted fraud",
            lambda: screening.report(screening.run()))


def _simulations(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import simulations

    return ("Simulations: a year of a 100,000-member shop (1,000,000 purchases) replayed under proposed rules",
            lambda: simulations.report(simulations.run()))


def _segments(args: argparse.Namespace) -> tuple[str, Callable[[], list[str]]]:
    from bench import segments

    return ("Segments: the daily recompute's classing of 1,000,000 members, in memory",
            lambda: segments.report(segments.run()))


# Sections that print a title, then their report's lines (units and cost share their measurement: in main).
_SIMPLE = {"coldstart": _coldstart, "hotref": _hotref, "flash": _flash, "console": _console, "screening": _screening,
           "simulations": _simulations, "segments": _segments}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="section", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--runs", type=int, default=15, help="rounds of fresh interpreters for the cold start")
    parser.add_argument("--quick", action="store_true", help="flash sale: 100 and 1,000/s for 3 s only")
    args = parser.parse_args(argv)
    sections = args.sections or list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    started = time.perf_counter()

    units = None
    if "units" in sections or "cost" in sections:
        from bench import units as units_module

        print("== DynamoDB requests and capacity units per operation (counted at the boto3 client) ==", flush=True)
        units = units_module.run()
        for line in _units_table(units) + _floor(units):
            print(line)
    if "cost" in sections and units is not None:
        from bench import cost

        print("\n== Cost per million purchases ==")
        for line in cost.report(units):
            print(line)
    for name in ("coldstart", "hotref", "flash", "console", "screening", "simulations", "segments"):
        if name in sections:
            title, lines = _SIMPLE[name](args)
            print(f"\n== {title} ==", flush=True)
            for line in lines():
                print(line)
    print(f"\n(bench took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
