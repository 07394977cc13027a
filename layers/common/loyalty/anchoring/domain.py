"""The digest of every chain head, and the Merkle root over the heads (docs/anchoring.md has the format).

A head is a holder's ``(seq, hash)``: the last entry of its chain. Its **leaf** is the canonical JSON of
``{"hash", "holder", "seq"}`` (keys sorted, no whitespace, UTF-8), which is also its line in the heads object.
The root is RFC 6962's Merkle Tree Hash over the leaves sorted by holder: a leaf hashes as
``SHA-256(0x00 ‖ leaf)``, a node as ``SHA-256(0x01 ‖ left ‖ right)`` (raw 32-byte digests), an empty tree as
``SHA-256("")``; level by level, an odd node at the end of a level moves up unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from loyalty.shared.canonical import canonical_json
from loyalty.shared.clock import to_rfc3339

FORMAT = "loyalty-ledger/anchor-digest/v1"
PREFIX = "digests/"


@dataclass(frozen=True, order=True)
class Head:
    """A holder's chain head: the seq and hash of its last entry."""

    holder: str
    seq: int
    hash: str

    def leaf(self) -> bytes:
        """The head's leaf: its line in the heads object, without the newline."""
        return canonical_json({"holder": self.holder, "seq": self.seq, "hash": self.hash})


def head_of(line: bytes | str) -> Head:
    """A head from its line in a heads object."""
    fields = json.loads(line)
    return Head(fields["holder"], fields["seq"], fields["hash"])


class HistoryRewritten(Exception):
    """The live ledger no longer holds a head the latest digest published: a chain was rewritten, or a holder
    removed, since. The anchor publishes nothing then (the genuine digest stays the latest) and fails loudly."""

    def __init__(self, holder: str, seq: int, why: str) -> None:
        super().__init__(f"{holder}: {why} (the latest digest has its head at seq {seq})")
        self.holder, self.seq, self.why = holder, seq, why


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleRoot:
    """The root over leaves added in order, in O(log n) memory (a stack of perfect subtrees).

    Merging equal-sized subtrees as leaves arrive, then folding what is left from the right, gives
    exactly the level-by-level tree in which an odd node moves up unchanged (RFC 6962, section 2.1).
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (leaves below, hash), sizes strictly decreasing
        self.count = 0

    def add(self, leaf: bytes) -> None:
        size, digest = 1, leaf_hash(leaf)
        while self._stack and self._stack[-1][0] == size:
            below, left = self._stack.pop()
            size, digest = size + below, node_hash(left, digest)
        self._stack.append((size, digest))
        self.count += 1

    def hexdigest(self) -> str:
        if not self._stack:
            return hashlib.sha256(b"").hexdigest()
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest.hex()


def merkle_root(leaves: list[bytes]) -> str:
    """The root of a list of leaves, level by level as docs/anchoring.md describes it (for small lists)."""
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    level = [leaf_hash(leaf) for leaf in leaves]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


def digest_key(published_at: datetime) -> str:
    """``digests/<yyyy>/<mm>/<dd>/<rfc3339>.json``: keys sort by time, so the latest is the last listed."""
    return f"{PREFIX}{published_at:%Y/%m/%d}/{to_rfc3339(published_at)}.json"


def heads_key(published_at: datetime) -> str:
    """The heads object beside its digest: one leaf per line, sorted by holder."""
    return digest_key(published_at).removesuffix(".json") + ".heads.jsonl"


@dataclass(frozen=True)
class Digest:
    """What one publication says: how many heads, their root, when, and where the heads are."""

    published_at: str
    count: int
    root: str
    heads_key: str
    heads_sha256: str
    heads_bytes: int
    format: str = FORMAT

    def body(self) -> bytes:
        return canonical_json({"format": self.format, "published_at": self.published_at, "count": self.count,
                               "root": self.root, "heads_key": self.heads_key, "heads_sha256": self.heads_sha256,
                               "heads_bytes": self.heads_bytes})
