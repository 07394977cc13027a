"""The verifier's check of the live chains against the published digests (docs/anchoring.md).

Independent of the code it checks: the Merkle root and the leaves are recomputed here from the documented
format, not with ``loyalty.anchoring``, and the live chains are read straight from the Ledger table.

- The latest digest's heads must hash to its root (and to its ``heads_sha256``), one line per holder,
  sorted by holder; the previous digest's too.
- Every head of the latest digest must still be in the live chain: the entry at its seq has exactly its hash
  (a chain may only have grown since). Every head of the previous digest likewise, and its seq cannot be
  past the latest's for that holder, nor may a holder of the previous digest be missing from the latest:
  the previous head is then an ancestor of the latest one in the live chain (the chain pass checks the links).

Both digests' heads are streamed side by side (they are sorted by holder), so memory stays constant; each
head costs one GetItem on the Ledger table (entries are keyed by holder and seq).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

PREFIX = "digests/"
DEPTH = 3  # digests/<yyyy>/<mm>/<dd>/<rfc3339>.json
HEADS_SUFFIX = ".heads.jsonl"


def _leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class _Root:
    """RFC 6962's Merkle Tree Hash, leaves added in order (a stack of perfect subtrees)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.count = 0

    def add(self, leaf: bytes) -> None:
        size, digest = 1, _leaf_hash(leaf)
        while self.stack and self.stack[-1][0] == size:
            below, left = self.stack.pop()
            size, digest = size + below, _node_hash(left, digest)
        self.stack.append((size, digest))
        self.count += 1

    def hexdigest(self) -> str:
        if not self.stack:
            return hashlib.sha256(b"").hexdigest()
        digest = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            digest = _node_hash(left, digest)
        return digest.hex()


@dataclass
class AnchorReport:
    bucket: str
    latest: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    heads_checked: int = 0
    rewritten: int = 0  # holders whose history no longer holds a digest's head
    problems: list[str] = field(default_factory=list)  # the first ``show`` of them

    @property
    def ok(self) -> bool:
        return not self.problems


class _Heads:
    """One digest's heads, streamed: each line checked for order and form, hashed into the root as it passes."""

    def __init__(self, s3: Any, bucket: str, digest: dict[str, Any], report: AnchorReport, show: int) -> None:
        self.digest, self.report, self.show = digest, report, show
        self.root, self.sha256, self.last = _Root(), hashlib.sha256(), None
        self.lines = s3.get_object(Bucket=bucket, Key=digest["heads_key"])["Body"].iter_lines()

    def __iter__(self) -> Iterator[tuple[str, int, str]]:
        for line in self.lines:
            self.sha256.update(line + b"\n")
            self.root.add(line)
            try:
                head = json.loads(line)
                holder, seq, hash_ = head["holder"], head["seq"], head["hash"]
            except (ValueError, TypeError, KeyError):
                _problem(self.report, self.show, f"the digest of {self.digest['published_at']}: a line of its heads "
                                                 f"is not a head: {line[:80]!r}")
                continue
            canonical = json.dumps(head, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            if canonical != line or (self.last is not None and holder <= self.last):
                _problem(self.report, self.show, f"the digest of {self.digest['published_at']}: the line of "
                                                 f"{holder!r} is out of order or not in canonical form")
            self.last = holder
            yield holder, seq, hash_

    def finish(self) -> None:
        """After the last line: the root, the count and the object's hash must be what the digest says."""
        when = self.digest["published_at"]
        if self.root.hexdigest() != self.digest["root"] or self.root.count != self.digest["count"]:
            _problem(self.report, self.show, f"the digest of {when}: its root {self.digest['root']} does not "
                                             f"recompute from its {self.root.count} heads "
                                             f"({self.root.hexdigest()}): the digest or its heads were edited")
        if self.sha256.hexdigest() != self.digest["heads_sha256"]:
            _problem(self.report, self.show, f"the digest of {when}: its heads object is not the one it names "
                                             "(heads_sha256 differs)")


def _problem(report: AnchorReport, show: int, text: str) -> None:
    if len(report.problems) < show:
        report.problems.append(text)


def newest_digests(s3: Any, bucket: str, prefix: str = PREFIX, depth: int = 0) -> Iterator[str]:
    """Digest keys, newest first, walking the newest year, month and day down."""
    prefixes: list[str] = []
    keys: list[str] = []
    kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "Delimiter": "/"}
    while True:
        answer = s3.list_objects_v2(**kwargs)
        prefixes += [p["Prefix"] for p in answer.get("CommonPrefixes", [])]
        keys += [o["Key"] for o in answer.get("Contents", [])]
        if not answer.get("IsTruncated"):
            break
        kwargs["ContinuationToken"] = answer["NextContinuationToken"]
    if depth == DEPTH:
        yield from sorted((k for k in keys if k.endswith(".json")), reverse=True)
        return
    for child in sorted(prefixes, reverse=True):
        yield from newest_digests(s3, bucket, child, depth + 1)


def _live_hash(dynamodb: Any, ledger: str, holder: str, seq: int) -> list[str]:
    answer = dynamodb.get_item(TableName=ledger, ConsistentRead=True,
                               Key={"member_id": {"S": holder}, "seq": {"N": str(seq)}},
                               ProjectionExpression="#h", ExpressionAttributeNames={"#h": "hash"})
    return [answer["Item"].get("hash", {}).get("S", "")] if "Item" in answer else []


def _pairs(latest: Iterator[tuple[str, int, str]], previous: Iterator[tuple[str, int, str]] | None,
           ) -> Iterator[tuple[tuple[str, int, str] | None, tuple[str, int, str] | None]]:
    """The two digests' heads side by side, by holder (either may be None)."""
    a, b = next(latest, None), next(previous, None) if previous is not None else None
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a, None
            a = next(latest, None)
        elif a is None or b[0] < a[0]:
            yield None, b
            b = next(previous, None)  # type: ignore[arg-type]
        else:
            yield a, b
            a, b = next(latest, None), next(previous, None)  # type: ignore[arg-type]


def check(s3: Any, bucket: str, dynamodb: Any, ledger: str, *, show: int = 50,
          require_digest: bool = False) -> AnchorReport:
    """The live chains against the latest and the previous digest; every problem named (the first ``show``).

    ``require_digest`` (a deployed stack, whose anchor runs every hour): no digest at all is a problem, not a
    fresh start: digests hidden (a delete marker needs ``s3:DeleteObject``, which the bucket denies) or an
    anchor that never ran."""
    report = AnchorReport(bucket)
    keys = newest_digests(s3, bucket)
    found = [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in
             (k for _, k in zip(range(2), keys, strict=False))]
    if not found:
        if require_digest:
            _problem(report, show, f"no digest in {bucket}: the anchor never ran, or its digests were hidden")
        return report
    report.latest = found[0]
    report.previous = found[1] if len(found) > 1 else None
    latest = _Heads(s3, bucket, found[0], report, show)
    previous = _Heads(s3, bucket, found[1], report, show) if len(found) > 1 else None
    for now, then in _pairs(iter(latest), iter(previous) if previous is not None else None):
        if now is None and then is not None:
            report.rewritten += 1
            _problem(report, show, f"REWRITTEN member {then[0]}: in the digest of {found[1]['published_at']} "
                                   f"(seq {then[1]}) but not in the latest, of {found[0]['published_at']}")
            continue
        for head, digest in ((now, found[0]), (then, found[1] if len(found) > 1 else None)):
            if head is None or digest is None:
                continue
            report.heads_checked += 1
            live = _live_hash(dynamodb, ledger, head[0], head[1])
            if live != [head[2]]:
                report.rewritten += 1
                _problem(report, show, f"REWRITTEN member {head[0]}: the digest of {digest['published_at']} says "
                                       f"its entry at seq {head[1]} has hash {head[2]}; the live chain holds "
                                       f"{', '.join(live) or 'no entry there'}: its history was rewritten")
                break
        if now is not None and then is not None and then[1] > now[1]:
            _problem(report, show, f"REWRITTEN member {now[0]}: its head went back from seq {then[1]} to {now[1]} "
                                   "between the two digests")
    latest.finish()
    if previous is not None:
        previous.finish()
    return report


def render(report: AnchorReport) -> list[str]:
    if report.latest is None:
        return [f"  anchor: no digest published yet in {report.bucket}", *(f"    {p}" for p in report.problems)]
    lines = [f"  anchor: latest digest {report.latest['published_at']} ({report.latest['count']:,} heads, root "
             f"{report.latest['root'][:16]}…)" + (f", previous {report.previous['published_at']}"
                                                   if report.previous else ", no previous")
             + f"; {report.heads_checked:,} heads found in the live chains"]
    lines += [f"  ANCHOR {problem}" for problem in report.problems]
    return lines
