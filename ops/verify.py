"""``python -m ops.verify``: walk the whole ledger and prove every point is accounted for.

Two passes, both paged (Scan with ``Limit`` and ``ExclusiveStartKey``, strongly consistent):

1. **Accounts.** For each member's account, read its entries in seq order (``DynamoStore.entries``) and
   check the chain and the balances with ``loyalty.ledger.verify`` (the same check as
   ``GET …/ledger/verify``). A mismatch is re-read with a stable account head before it is reported,
   so a write landing during the walk is not mistaken for damage.
2. **Ledger.** Scan every entry: add up each asset's buckets, and check that no entry belongs to a
   member without an account.

Then each bucket must add up three ways: the accounts' stored balances, the entries of the verified
chains, and the Ledger table as scanned. The summary names every mismatching member with its
``first_invalid_seq``; the exit status is 0 when everything adds up, 1 on any mismatch, 2 when the tables
cannot be reached, 3 when ``--max-pages`` stopped the walk before the end.

Memory stays constant: one page of accounts (and one member's chain, streamed) at a time, running
totals, and at most ``--show`` mismatches kept for the summary (all are counted). ``--checkpoint FILE``
records the last evaluated key of the pass and the running totals after every page, so an interrupted
run started again with the same file continues where it stopped (a finished walk starts afresh).

Where the tables are:

- ``--stack NAME``: the physical names from the CloudFormation stack's outputs (``MembersTableName`` …),
  with the usual AWS credentials and region;
- else the functions' own variables ``MEMBERS_TABLE``, ``ACCOUNTS_TABLE``, ``LEDGER_TABLE``,
  ``OPERATIONS_TABLE``, ``PROGRAM_TABLE`` if set;
- else the local names (the template's logical ids), as ``make run`` creates them.

Where DynamoDB is: ``--endpoint URL``, else ``AWS_ENDPOINT_URL_DYNAMODB`` / ``AWS_ENDPOINT_URL``, else AWS,
unless no table names were given either: then the ``make run`` server on ``PORT`` (default 3000, as for
``make run``; or the only one running) is found through /proc, and its DynamoDB is used: its
``--dynamodb-endpoint`` / ``LOCAL_DYNAMODB_ENDPOINT`` if it has one, else its embedded emulator (the
other port it listens on). Loopback endpoints get the local server's fake credentials.

Then, when the walk is done, the live chains are checked against the anchor's latest and previous digests
(``ops.anchors``, docs/anchoring.md): every head a digest published must still be in its chain, so a chain
rewritten after a digest (entries, hashes, head and balances all consistent) is named. The bucket: the
stack's ``AnchorBucketName`` output, else ``ANCHOR_BUCKET``, else the local server's; ``--no-anchor`` skips it.

Last, the dashboard's figures (docs/metrics.md): the points outstanding ``GET /v1/metrics`` would show for today
(every points entry the aggregator counted) must equal the Ledger table's points (available + pending) as the walk
added them up; so must the partners' commission owed, and stored value's outstanding principal and bonus, each
equal to its bucket across every member's chain (docs/wallet.md). The table: the stack's ``MetricsTableName``
output, else ``METRICS_TABLE``, else the local one; ``--no-metrics`` skips it. On a busy stack the aggregator runs
a second or so behind the ledger: verify when quiet, or read a difference against the aggregator's ``IteratorAge``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT, ROOT / "layers" / "common"):  # the layer as /opt/python is on Lambda; localdev for local runs
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from loyalty.ledger.accounts import Account  # noqa: E402
from loyalty.ledger.assets import asset  # noqa: E402
from loyalty.ledger.dynamodb import DynamoLedgerStore, account_from_item, entry_from_item  # noqa: E402
from loyalty.ledger.entries import Entry  # noqa: E402
from loyalty.ledger.verification import ChainReport, verify  # noqa: E402
from loyalty.shared.dynamo import Dynamo, from_item  # noqa: E402
from loyalty.shared.settings import Tables  # noqa: E402
from ops import anchors  # noqa: E402

OUTPUTS = {"members": "MembersTableName", "accounts": "AccountsTableName", "ledger": "LedgerTableName",
           "operations": "OperationsTableName", "program": "ProgramTableName", "queue": "CreditQueueTableName"}
ENVIRONMENT = {"members": "MEMBERS_TABLE", "accounts": "ACCOUNTS_TABLE", "ledger": "LEDGER_TABLE",
               "operations": "OPERATIONS_TABLE", "program": "PROGRAM_TABLE", "queue": "CREDIT_QUEUE_TABLE"}
LOCAL_METRICS_TABLE = "MetricsTable"
LOCAL_ANCHOR_BUCKET = "anchorbucket"  # localdev.emulator names buckets by their logical id, lower case
LOCAL = {"members": "MembersTable", "accounts": "AccountsTable", "ledger": "LedgerTable",
         "operations": "OperationsTable", "program": "ProgramTable", "queue": "CreditQueueTable"}
CHECKPOINT_VERSION = 1
BATCH_KEYS = 100  # BatchGetItem's limit

OK, MISMATCH, UNREACHABLE, INCOMPLETE = 0, 1, 2, 3


class ConfigurationError(Exception):
    """The tables or the endpoint could not be determined."""


# --- totals and the summary ------------------------------------------------------------------------

def _add(totals: dict[str, int], key: str, amount: int) -> None:
    totals[key] = totals.get(key, 0) + amount


@dataclass
class Summary:
    """Running totals of a walk; what a checkpoint stores and what the summary prints."""

    tables: dict[str, str]
    phase: str = "accounts"  # accounts → ledger → done
    accounts_key: dict[str, Any] | None = None  # ExclusiveStartKey of the next page
    ledger_key: dict[str, Any] | None = None
    pages: int = 0
    members: int = 0
    chain_entries: int = 0
    ledger_entries: int = 0
    account_totals: dict[str, int] = field(default_factory=dict)  # "<asset>/<bucket>" → amount
    chain_totals: dict[str, int] = field(default_factory=dict)
    ledger_totals: dict[str, int] = field(default_factory=dict)
    mismatched_members: int = 0
    orphan_members: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)  # the first --show of them
    last_ledger_member: str | None = None  # the member whose account the ledger pass checked last

    def record(self, problem: dict[str, Any], show: int) -> None:
        if len(self.mismatches) < show:
            self.mismatches.append(problem)

    def totals_problems(self) -> list[str]:
        problems = []
        for key in sorted({*self.account_totals, *self.chain_totals, *self.ledger_totals}):
            stored, chains, ledger = (self.account_totals.get(key, 0), self.chain_totals.get(key, 0),
                                      self.ledger_totals.get(key, 0))
            if not key.endswith("/lifetime_earned") and not stored == chains == ledger:
                problems.append(f"{key}: accounts hold {stored}, their chains sum to {chains}, "
                                f"the Ledger table sums to {ledger}")
        if self.chain_entries != self.ledger_entries:
            problems.append(f"the chains hold {self.chain_entries} entries, the Ledger table {self.ledger_entries}")
        return problems

    @property
    def ok(self) -> bool:
        return self.phase == "done" and not self.mismatched_members and not self.orphan_members \
            and not self.totals_problems()

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "totals_problems": self.totals_problems()}


# --- the walk --------------------------------------------------------------------------------------

class _Tap:
    """Passes entries through to ``verify`` while adding them up, so a chain is read once and never held."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self._entries = entries
        self.count = 0
        self.totals: dict[str, int] = {}

    def __iter__(self) -> Iterator[Entry]:
        for entry in self._entries:
            self.count += 1
            _add(self.totals, _entry_key(entry), entry.amount)
            yield entry


def _account_totals(account: Account) -> dict[str, int]:
    """Every bucket of every asset the account holds, and each earning asset's lifetime_earned."""
    totals: dict[str, int] = {}
    for name, balance in account.balances.items():
        family = name.partition(":")[0]  # bundle cards add up as one asset
        declared = asset(name)
        for bucket in declared.buckets:
            _add(totals, f"{family}/{bucket}", balance[bucket])
        if declared.earned:
            _add(totals, f"{family}/lifetime_earned", balance.earned)
    return totals


def _entry_key(entry: Entry) -> str:
    return f"{entry.asset.partition(':')[0]}/{entry.bucket}"


class Verifier:
    def __init__(self, client: Any, tables: Tables, *, page_size: int = 100, show: int = 50,
                 checkpoint: Path | None = None, rechecks: int = 3) -> None:
        self.client = client
        self.tables = tables
        self.store = DynamoLedgerStore(Dynamo(client), tables)
        self.page_size = page_size
        self.show = show
        self.checkpoint = checkpoint
        self.rechecks = rechecks

    # checkpoints ---------------------------------------------------------------------------------
    def load(self) -> Summary:
        fresh = Summary(tables=asdict(self.tables))
        if self.checkpoint is None or not self.checkpoint.exists():
            return fresh
        data = json.loads(self.checkpoint.read_text())
        if data.get("version") != CHECKPOINT_VERSION or data["summary"]["tables"] != fresh.tables:
            raise ConfigurationError(f"{self.checkpoint} is a checkpoint of other tables or another version; "
                                     "remove it to start afresh")
        summary = Summary(**data["summary"])
        return fresh if summary.phase == "done" else summary

    def save(self, summary: Summary) -> None:
        if self.checkpoint is None:
            return
        partial = self.checkpoint.with_name(self.checkpoint.name + ".partial")
        partial.write_text(json.dumps({"version": CHECKPOINT_VERSION, "summary": asdict(summary)}))
        os.replace(partial, self.checkpoint)  # atomic: a crash leaves the previous page's checkpoint

    # one member ------------------------------------------------------------------------------------
    def check_member(self, account: Account) -> tuple[Account, ChainReport, _Tap]:
        """Verify one member's chain; a mismatch is read again against a stable head before it counts."""
        tap = _Tap(self.store.entries(account.holder))
        report = verify(account, tap)
        for _ in range(self.rechecks):
            if report.chain_valid and report.balances_match:
                break
            before = self.store.accounts([account.holder])[account.holder]
            tap = _Tap(self.store.entries(account.holder))
            report = verify(before, tap)
            after = self.store.accounts([account.holder])[account.holder]
            account = before
            if after.seq == before.seq:  # no write landed while reading: this report stands
                break
        return account, report, tap

    # the passes ------------------------------------------------------------------------------------
    def _scan(self, table: str, start: dict[str, Any] | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"TableName": table, "Limit": self.page_size, "ConsistentRead": True}
        if start is not None:
            kwargs["ExclusiveStartKey"] = start
        answer: dict[str, Any] = self.client.scan(**kwargs)
        return answer

    def accounts_page(self, summary: Summary) -> None:
        page = self._scan(self.tables.accounts, summary.accounts_key)
        for item in page.get("Items", []):
            account, report, tap = self.check_member(account_from_item(from_item(item)))
            summary.members += 1
            summary.chain_entries += tap.count
            for key, value in _account_totals(account).items():
                _add(summary.account_totals, key, value)
            for key, value in tap.totals.items():
                _add(summary.chain_totals, key, value)
            if not (report.chain_valid and report.balances_match):
                summary.mismatched_members += 1
                summary.record({"member_id": account.holder, "first_invalid_seq": report.first_invalid_seq,
                                "chain_valid": report.chain_valid, "balances_match": report.balances_match,
                                "problems": report.problems[:5]}, self.show)
        summary.accounts_key = page.get("LastEvaluatedKey")
        if summary.accounts_key is None:
            summary.phase = "ledger"

    def ledger_page(self, summary: Summary) -> None:
        page = self._scan(self.tables.ledger, summary.ledger_key)
        members: list[str] = []
        for item in page.get("Items", []):
            entry = entry_from_item(from_item(item))
            summary.ledger_entries += 1
            _add(summary.ledger_totals, _entry_key(entry), entry.amount)
            # A scan returns a member's entries together, so each member is looked up about once.
            if entry.holder != summary.last_ledger_member and entry.holder not in members:
                members.append(entry.holder)
        for start in range(0, len(members), BATCH_KEYS):
            chunk = members[start:start + BATCH_KEYS]
            accounts = self.store.accounts(chunk)
            for member_id in chunk:
                if accounts[member_id].seq == 0:  # no account item: every real account has seq >= 1
                    summary.orphan_members += 1
                    summary.record({"member_id": member_id, "first_invalid_seq": 1, "problems": [
                        "entries in the Ledger table for a member without an account"]}, self.show)
        if members:
            summary.last_ledger_member = members[-1]
        summary.ledger_key = page.get("LastEvaluatedKey")
        if summary.ledger_key is None:
            summary.phase = "done"

    def run(self, *, max_pages: int | None = None) -> Summary:
        summary = self.load()
        pages = 0
        while summary.phase != "done":
            if max_pages is not None and pages >= max_pages:
                break
            if summary.phase == "accounts":
                self.accounts_page(summary)
            else:
                self.ledger_page(summary)
            pages += 1
            summary.pages += 1
            self.save(summary)
        return summary


# --- where the tables are --------------------------------------------------------------------------

def stack_outputs(stack: str, cloudformation: Any) -> dict[str, str]:
    answer = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in answer.get("Outputs", [])}


def tables_from_stack(stack: str, outputs: Mapping[str, str]) -> Tables:
    missing = [name for name in OUTPUTS.values() if name not in outputs]
    if missing:
        raise ConfigurationError(f"stack {stack} has no outputs {', '.join(missing)}")
    return Tables(**{key: outputs[name] for key, name in OUTPUTS.items()})


def tables_from_environment(env: Mapping[str, str]) -> Tables | None:
    if not any(env.get(name) for name in ENVIRONMENT.values()):
        return None
    missing = [name for name in ENVIRONMENT.values() if not env.get(name)]
    if missing:
        raise ConfigurationError(f"set all of the table variables or none: {', '.join(missing)} missing")
    return Tables(**{key: env[name] for key, name in ENVIRONMENT.items()})


def _listening_ports(pid: str) -> list[int]:
    inodes = set()
    fds = Path("/proc", pid, "fd")
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@dataclass
class LocalServer:
    pid: int
    ports: list[int]  # every port it listens on (its HTTP port and its emulator's)
    dynamodb_endpoint: str | None  # --dynamodb-endpoint / LOCAL_DYNAMODB_ENDPOINT, when it was given one


def local_servers() -> list[LocalServer]:
    """The ``make run`` servers (``python -m localdev``) running on this machine, as /proc shows them."""
    found: list[LocalServer] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
            if argv[1:3] != [b"-m", b"localdev"]:
                continue
            ports = _listening_ports(entry.name)
        except (OSError, IndexError):
            continue
        args = [a.decode(errors="replace") for a in argv]
        explicit = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--dynamodb-endpoint"]
        explicit += [e.decode(errors="replace").split("=", 1)[1] for e in environ
                     if e.startswith(b"LOCAL_DYNAMODB_ENDPOINT=") and e != b"LOCAL_DYNAMODB_ENDPOINT="]
        found.append(LocalServer(int(entry.name), ports, explicit[0] if explicit else None))
    return found


def local_endpoint(tables: Tables, port: int) -> str:
    """The DynamoDB endpoint of the local server on ``port`` (or of the only one running)."""
    servers = local_servers()
    chosen = [s for s in servers if port in s.ports] or (servers if len(servers) == 1 else [])
    if not chosen:
        running = ", ".join(f"pid {s.pid} on {sorted(s.ports)}" for s in servers) or "none"
        raise ConfigurationError(
            f"no tables named and no `make run` server on port {port} (running: {running}): start `make run`, "
            "or say which server: PORT=<its port> make verify, or AWS_ENDPOINT_URL=<the emulator endpoint it "
            "printed> make verify; for tables on AWS give --stack NAME or the *_TABLE variables")
    server = chosen[0]
    candidates = [server.dynamodb_endpoint] if server.dynamodb_endpoint else [
        f"http://127.0.0.1:{p}" for p in server.ports if p != port]
    for endpoint in candidates:
        if _serves_tables(endpoint, tables):
            return endpoint
    raise ConfigurationError(f"the local server (pid {server.pid}) serves no ledger tables at {candidates}")


def _serves_tables(endpoint: str, tables: Tables) -> bool:
    from botocore.config import Config

    client = _client(endpoint, Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}))
    try:
        names = set(client.list_tables().get("TableNames", []))
    except Exception:
        return False
    return {tables.accounts, tables.ledger} <= names


def _client(endpoint: str | None, config: Any = None) -> Any:
    import boto3
    from botocore.config import Config

    config = config or Config(retries={"mode": "standard", "max_attempts": 10}, read_timeout=30)
    return boto3.client("dynamodb", endpoint_url=endpoint, config=config)


def cloudformation_client() -> Any:
    import boto3

    return boto3.client("cloudformation")


def anchor_bucket(args: argparse.Namespace) -> str | None:
    """The anchor bucket: the stack's ``AnchorBucketName`` output, ``ANCHOR_BUCKET``, or, for the local server's
    tables only, the local one (S3 bucket names are global: on AWS a guessed name could be somebody else's)."""
    if args.no_anchor:
        return None
    if args.stack:
        return args.outputs.get("AnchorBucketName")
    return os.environ.get("ANCHOR_BUCKET") or (LOCAL_ANCHOR_BUCKET if args.local_names else None)


def metrics_table(args: argparse.Namespace) -> str | None:
    """The Metrics table: the stack's ``MetricsTableName`` output, ``METRICS_TABLE``, or the local one."""
    if args.no_metrics:
        return None
    if args.stack:
        return args.outputs.get("MetricsTableName")
    return os.environ.get("METRICS_TABLE") or (LOCAL_METRICS_TABLE if args.local_names else None)


def metrics_report(client: Any, table: str, summary: Summary) -> dict[str, Any]:
    """The dashboard's points outstanding now (its yearly totals added up: issued less redeemed) beside the
    Ledger table's points, available + pending; and its commission owed beside the partners' chains'."""
    counted = {"points_issued": 0, "points_redeemed": 0, "commission_minor": 0, "sv_principal_minor": 0,
               "sv_bonus_minor": 0, "bundle_uses": 0}
    kwargs: dict[str, Any] = {"TableName": table, "KeyConditionExpression": "pk = :pk", "ConsistentRead": True,
                              "ExpressionAttributeValues": {":pk": {"S": "YEAR"}}}
    while True:
        page = client.query(**kwargs)
        for item in page.get("Items", []):
            for name in counted:
                counted[name] += int(item.get(name, {}).get("N", "0"))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    outstanding = counted["points_issued"] - counted["points_redeemed"]
    ledger = summary.ledger_totals.get("points/available", 0) + summary.ledger_totals.get("points/pending", 0)
    owed = counted["commission_minor"]
    chains = summary.ledger_totals.get("commission/available", 0) + summary.ledger_totals.get("commission/pending", 0)
    # Stored value (docs/wallet.md): the dashboard's outstanding principal and bonus beside the members' buckets.
    stored = (counted["sv_principal_minor"], counted["sv_bonus_minor"])
    held = (summary.ledger_totals.get("stored_value/principal", 0), summary.ledger_totals.get("stored_value/bonus", 0))
    # Bundle cards: the dashboard's uses outstanding beside every card's balance (all cards are one family).
    uses, cards = counted["bundle_uses"], summary.ledger_totals.get("bundle/available", 0)
    return {"table": table, "outstanding": outstanding, "ledger": ledger, "commission": owed,
            "commission_ledger": chains, "stored_value": stored, "stored_value_ledger": held,
            "bundle_uses": uses, "bundle_uses_ledger": cards,
            "ok": outstanding == ledger and owed == chains and stored == held and uses == cards}


def _metrics_lines(report: dict[str, Any] | None) -> list[str]:
    if report is None:
        return ["  metrics: not checked (no Metrics table)"]
    principal, bonus = report["stored_value"]
    if report["ok"]:
        return [f"  metrics: points outstanding {report['outstanding']:,}, commission owed "
                f"{report['commission']:,}, stored value {principal:,} principal + {bonus:,} bonus and "
                f"{report['bundle_uses']:,} bundle uses, as the ledger holds"]
    held_principal, held_bonus = report["stored_value_ledger"]
    return [f"  METRICS the dashboard counts {report['outstanding']:,} points outstanding, "
            f"{report['commission']:,} commission owed, stored value {principal:,} principal + {bonus:,} bonus and "
            f"{report['bundle_uses']:,} bundle uses; the ledger holds {report['ledger']:,}, "
            f"{report['commission_ledger']:,}, {held_principal:,} + {held_bonus:,} and "
            f"{report['bundle_uses_ledger']:,}: the aggregator is behind or left records out "
            f"(AggregatorDeadLetters, its log)"]


def s3_client(endpoint: str | None) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint)


def anchor_endpoint(dynamodb_endpoint: str | None, local: bool) -> str | None:
    """S3's endpoint: ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL``; for the local server, its emulator (the port
    it listens on besides its own: DynamoDB Local, when it uses it, is another process)."""
    given = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if given or not local:
        return given
    port = int(os.environ.get("PORT") or 3000)
    servers = local_servers()
    chosen = [s for s in servers if port in s.ports] or servers[:1]
    return next((f"http://127.0.0.1:{p}" for s in chosen for p in s.ports if p != port), dynamodb_endpoint)


def resolve(args: argparse.Namespace) -> tuple[Any, Tables, str]:
    """The client, the tables and a description of where they are."""
    from_env = None
    if args.stack:
        args.outputs = stack_outputs(args.stack, cloudformation_client())
        tables = tables_from_stack(args.stack, args.outputs)
        where = f"stack {args.stack}"
    else:
        from_env = tables_from_environment(os.environ)
        tables = from_env or Tables(**LOCAL)
        where = "the table variables" if from_env else "the local names"
    endpoint = args.endpoint or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL")
    local = endpoint is None and not args.stack and from_env is None
    args.local_names = not args.stack and from_env is None
    if local or (endpoint is not None and urlsplit(endpoint).hostname in ("127.0.0.1", "localhost", "::1")):
        # The local server's fake credentials (DynamoDB Local keeps one database per access key and region).
        from localdev.emulator import FAKE_AWS

        for key, value in FAKE_AWS.items():
            os.environ.setdefault(key, value)
    if local:
        endpoint = local_endpoint(tables, int(os.environ.get("PORT") or 3000))
        where += " of the local server"
    args.s3_endpoint = anchor_endpoint(endpoint, local)
    return _client(endpoint), tables, where + (f" at {endpoint}" if endpoint else "")


# --- the command -----------------------------------------------------------------------------------

def queue_report(client: Any, table: str, page_size: int) -> dict[str, Any]:
    """What the CreditQueue holds: credits purchases and refunds queued that the poster has not posted yet (it
    deletes what it posts), and items it parked because they are no posting. Reported, never a mismatch: the
    balances are the sum of posted entries only."""
    report: dict[str, Any] = {"postings": 0, "points": {}, "oldest": None, "not_postings": 0}
    kwargs: dict[str, Any] = {"TableName": table, "Limit": page_size, "ConsistentRead": True,
                              "ProjectionExpression": "#a, #n, sk", "ExpressionAttributeNames": {"#a": "asset",
                                                                                                 "#n": "amount"}}
    while True:
        page = client.scan(**kwargs)
        for item in page.get("Items", []):
            amount, asset = item.get("amount", {}).get("N"), item.get("asset", {}).get("S")
            if amount is None or asset is None or not amount.lstrip("-").isdigit():
                report["not_postings"] += 1
                continue
            report["postings"] += 1
            report["points"][asset] = report["points"].get(asset, 0) + int(amount)
            recorded = item["sk"]["S"].split("#", 1)[0]
            report["oldest"] = min(report["oldest"] or recorded, recorded)
        if "LastEvaluatedKey" not in page:
            return report
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _queue_lines(queue: dict[str, Any] | None) -> list[str]:
    if queue is None:
        return []
    amounts = ", ".join(f"{asset} {amount:,}" for asset, amount in sorted(queue["points"].items())) or "nothing"
    line = f"  queued, not yet posted  {queue['postings']:,} postings ({amounts})"
    if queue["oldest"]:
        line += f", the oldest queued at {queue['oldest']}"
    lines = [line]
    if queue["not_postings"]:
        lines.append(f"  queue items that are no posting (parked by the poster)  {queue['not_postings']:,}")
    return lines


def render(summary: Summary, where: str, anchor: anchors.AnchorReport | None = None,
           queue: dict[str, Any] | None = None, figures: dict[str, Any] | None = None) -> str:
    lines = [f"ledger verification: {where}",
             "  tables: " + ", ".join(f"{k}={v}" for k, v in summary.tables.items()),
             f"  members (accounts)   {summary.members:,}",
             f"  entries              {summary.chain_entries:,} in the chains, "
             f"{summary.ledger_entries:,} in the Ledger table",
             f"  {'bucket':<24}{'accounts':>16}{'chains':>16}{'ledger table':>16}"]
    for key in sorted({*summary.account_totals, *summary.chain_totals, *summary.ledger_totals}):
        ledger = f"{summary.ledger_totals.get(key, 0):,}" if not key.endswith("lifetime_earned") else "-"
        chains = f"{summary.chain_totals.get(key, 0):,}" if not key.endswith("lifetime_earned") else "-"
        lines.append(f"  {key:<24}{summary.account_totals.get(key, 0):>16,}{chains:>16}{ledger:>16}")
    lines.append(f"  mismatching members  {summary.mismatched_members:,}")
    lines.append(f"  members without an account but with entries  {summary.orphan_members:,}")
    for problem in summary.mismatches:
        lines.append(f"  MISMATCH member {problem['member_id']}: first_invalid_seq={problem['first_invalid_seq']}: "
                     + "; ".join(problem["problems"]))
    if summary.mismatched_members + summary.orphan_members > len(summary.mismatches):
        lines.append(f"  … {summary.mismatched_members + summary.orphan_members - len(summary.mismatches)} more")
    if summary.phase == "done":
        lines += _queue_lines(queue)
        lines += [f"  TOTALS {problem}" for problem in summary.totals_problems()]
        lines += anchors.render(anchor) if anchor else ["  anchor: not checked (no anchor bucket)"]
        lines += _metrics_lines(figures)
    if summary.phase != "done":
        lines.append(f"INCOMPLETE: stopped in the {summary.phase} pass after {summary.pages} pages; "
                     "run again with the same --checkpoint to continue")
    elif summary.ok and (anchor is None or anchor.ok) and (figures is None or figures["ok"]):
        lines.append("OK: every chain verifies, every balance equals its entries, every bucket adds up")
    else:
        lines.append("MISMATCH: see above")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.verify", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", help="CloudFormation stack whose outputs name the tables")
    parser.add_argument("--endpoint", help="DynamoDB endpoint (default: AWS_ENDPOINT_URL_DYNAMODB, "
                                           "AWS_ENDPOINT_URL, AWS, or the local server)")
    parser.add_argument("--checkpoint", type=Path, help="resume from and record progress in this file")
    parser.add_argument("--page-size", type=int, default=100, help="items per Scan page (default 100)")
    parser.add_argument("--max-pages", type=int, help="stop after this many pages (exit 3; resume with --checkpoint)")
    parser.add_argument("--show", type=int, default=50, help="mismatches listed in the summary (all are counted)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-anchor", action="store_true", help="do not check the chains against the digests")
    parser.add_argument("--no-metrics", action="store_true",
                        help="do not check the dashboard's points outstanding against the ledger")
    args = parser.parse_args(argv)
    if not 1 <= args.page_size <= 1000:
        parser.error("--page-size must be 1..1000")
    try:
        client, tables, where = resolve(args)
        verifier = Verifier(client, tables, page_size=args.page_size, show=args.show, checkpoint=args.checkpoint)
        summary = verifier.run(max_pages=args.max_pages)
        bucket = anchor_bucket(args) if summary.phase == "done" else None
        anchor = anchors.check(s3_client(args.s3_endpoint), bucket, client, tables.ledger, show=args.show,
                               require_digest=bool(args.stack)) \
            if bucket else None
        queue = queue_report(client, tables.queue, args.page_size) if summary.phase == "done" else None
        figures_table = metrics_table(args) if summary.phase == "done" else None
        figures = metrics_report(client, figures_table, summary) if figures_table else None
    except ConfigurationError as error:
        print(f"ops.verify: {error}", file=sys.stderr)
        return UNREACHABLE
    except Exception as error:  # unreachable endpoint, missing table, no credentials …
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(error, (BotoCoreError, ClientError)):
            raise
        print(f"ops.verify: cannot read the tables: {error}", file=sys.stderr)
        return UNREACHABLE
    if args.json:
        print(json.dumps({"where": where, **summary.as_json(),
                          "anchor": {**asdict(anchor), "ok": anchor.ok} if anchor else None, "queue": queue,
                          "metrics": figures}, indent=2))
    else:
        print(render(summary, where, anchor, queue, figures))
    if summary.phase != "done":
        return INCOMPLETE
    return OK if summary.ok and (anchor is None or anchor.ok) and (figures is None or figures["ok"]) else MISMATCH


if __name__ == "__main__":
    sys.exit(main())
