"""Publish a digest of every chain head: read the heads, sort them by holder, hash, and publish if anything moved.

The heads are read a page at a time and sorted on disk (runs of ``run_size`` heads, then one merge), so
memory stays the same however many holders there are; the heads object is written to a temporary file
(Lambda's ``/tmp``) and put as one object.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from loyalty.anchoring.domain import Digest, Head, HistoryRewritten, MerkleRoot, head_of, heads_key
from loyalty.anchoring.store import DigestStore, HeadSource
from loyalty.shared.clock import Clock, to_rfc3339


@dataclass(frozen=True)
class Publication:
    digest: Digest
    published: bool  # False: nothing moved since the latest digest, which stands


class AnchorService:
    def __init__(self, heads: HeadSource, digests: DigestStore, clock: Clock, *, page_size: int = 500,
                 run_size: int = 50_000) -> None:
        self._heads = heads
        self._digests = digests
        self._clock = clock
        self._page_size = page_size
        self._run_size = run_size

    def latest(self) -> Digest | None:
        """The latest digest published (what the whole-ledger check last vouched for), or None before the first."""
        return self._digests.latest()

    def publish(self) -> Publication:
        """Publish a digest of the heads as they are now, unless it would say what the latest one says."""
        now = self._clock.now().replace(microsecond=0)
        latest = self._digests.latest()
        with tempfile.TemporaryDirectory(prefix="anchor-") as work, open(Path(work, "heads"), "w+b") as heads:
            root, count, sha256 = self._write(self._sorted(Path(work)), heads)
            if latest is not None and (latest.root, latest.count) == (root, count):
                return Publication(latest, published=False)
            if latest is not None:
                heads.seek(0)
                self._check_grown(latest, heads)
            digest = Digest(published_at=to_rfc3339(now), count=count, root=root, heads_key=heads_key(now),
                            heads_sha256=sha256, heads_bytes=heads.tell())
            heads.seek(0)
            self._digests.publish(digest, heads)
        return Publication(digest, published=True)

    def _check_grown(self, latest: Digest, heads: IO[bytes]) -> None:
        """Every head of the latest digest must still be in the live chain, at its seq with its hash: a chain
        may only have grown. Otherwise raise ``HistoryRewritten`` (nothing is published: a digest of the
        rewritten ledger would make the rewrite look genuine to every later check). Both sides are sorted by
        holder, so this is one merge pass; a moved head costs one read of the entry at the old seq."""
        live = (head_of(line) for line in heads)
        current = next(live, None)
        for old in (head_of(line) for line in self._digests.heads(latest)):
            while current is not None and current.holder < old.holder:
                current = next(live, None)
            if current is None or current.holder != old.holder:
                raise HistoryRewritten(old.holder, old.seq, "the holder's chain is gone")
            if current.seq < old.seq:
                raise HistoryRewritten(old.holder, old.seq, f"the chain went back to seq {current.seq}")
            same = current.hash if current.seq == old.seq else self._heads.entry_hash(old.holder, old.seq)
            if same != old.hash:
                raise HistoryRewritten(old.holder, old.seq, "the entry at that seq is not the one published")

    def has_news(self) -> bool:
        """Whether the heads moved since the latest digest (the local server skips schedule slots without)."""
        latest = self._digests.latest()
        with tempfile.TemporaryDirectory(prefix="anchor-") as work, open(Path(work, "heads"), "w+b") as heads:
            root, count, _ = self._write(self._sorted(Path(work)), heads)
        return latest is None or (latest.root, latest.count) != (root, count)

    def _sorted(self, work: Path) -> Iterator[Head]:
        """Every head, sorted by holder: sorted runs on disk, merged."""
        runs: list[Path] = []
        buffer: list[Head] = []
        for page in self._heads.heads(self._page_size):
            buffer += [Head(*head) for head in page]
            if len(buffer) >= self._run_size:
                runs.append(_spill(work, len(runs), buffer))
                buffer = []
        buffer.sort()
        if not runs:
            yield from buffer
            return
        runs.append(_spill(work, len(runs), buffer))
        files = [run.open(encoding="utf-8") for run in runs]
        try:
            yield from heapq.merge(*(_read(f) for f in files))
        finally:
            for f in files:
                f.close()

    @staticmethod
    def _write(heads: Iterator[Head], out: IO[bytes]) -> tuple[str, int, str]:
        root, sha256 = MerkleRoot(), hashlib.sha256()
        for head in heads:
            leaf = head.leaf()
            root.add(leaf)
            sha256.update(leaf + b"\n")
            out.write(leaf + b"\n")
        return root.hexdigest(), root.count, sha256.hexdigest()


def _spill(work: Path, n: int, heads: list[Head]) -> Path:
    heads.sort()
    path = work / f"run-{n}"
    with path.open("w", encoding="utf-8") as out:
        out.writelines(json.dumps([h.holder, h.seq, h.hash], ensure_ascii=False) + "\n" for h in heads)
    return path


def _read(lines: IO[str]) -> Iterator[Head]:
    for line in lines:
        holder, seq, hash_ = json.loads(line)
        yield Head(holder, seq, hash_)
