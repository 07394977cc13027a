"""The digest's leaves and Merkle root exactly as docs/anchoring.md writes them, and the anchor's use case on fakes."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

import pytest

from loyalty.anchoring.domain import Digest, Head, HistoryRewritten, MerkleRoot, digest_key, heads_key, merkle_root
from loyalty.anchoring.usecases import AnchorService
from loyalty.shared.clock import FixedClock

H = "ab" * 32


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_a_leaf_is_the_canonical_json_of_holder_seq_and_hash() -> None:
    assert Head("李伟", 7, H).leaf() == ('{"hash":"' + H + '","holder":"李伟","seq":7}').encode()


def test_the_root_of_three_heads_written_out_by_hand() -> None:
    leaves = [Head(h, 1, H).leaf() for h in ("a", "b", "c")]
    a, b, c = (sha(b"\x00" + leaf) for leaf in leaves)
    expected = sha(b"\x01" + sha(b"\x01" + a + b) + c).hex()  # the odd leaf moves up unchanged
    assert merkle_root(leaves) == expected
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    assert merkle_root(leaves[:1]) == a.hex()


@pytest.mark.parametrize("n", [*range(0, 20), 31, 32, 33, 100, 1000])
def test_the_streamed_root_is_the_level_by_level_root(n: int) -> None:
    leaves = [random.randbytes(8) for _ in range(n)]
    streamed = MerkleRoot()
    for leaf in leaves:
        streamed.add(leaf)
    assert (streamed.hexdigest(), streamed.count) == (merkle_root(leaves), n)


def test_keys_sort_by_time_and_the_heads_sit_beside_their_digest() -> None:
    at = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert digest_key(at) == "digests/2026/11/30/2026-11-30T09:00:00Z.json"
    assert heads_key(at) == "digests/2026/11/30/2026-11-30T09:00:00Z.heads.jsonl"


class Source:
    def __init__(self, heads: list[tuple[str, int, str]]) -> None:
        self.list = heads
        self.entries: dict[tuple[str, int], str] = {}  # (holder, seq) -> hash, of entries below the heads

    def entry_hash(self, holder: str, seq: int) -> str | None:
        return self.entries.get((holder, seq))

    def heads(self, page_size: int) -> Iterator[list[tuple[str, int, str]]]:
        for start in range(0, len(self.list), page_size):
            yield self.list[start:start + page_size]


class Digests:
    def __init__(self) -> None:
        self.published: list[tuple[Digest, bytes]] = []

    def latest(self) -> Digest | None:
        return self.published[-1][0] if self.published else None

    def heads(self, digest: Digest) -> Iterator[bytes]:
        body = next(body for published, body in self.published if published == digest)
        yield from body.splitlines()

    def publish(self, digest: Digest, heads: BinaryIO) -> None:
        self.published.append((digest, heads.read()))


def test_heads_are_sorted_on_disk_in_runs_and_hashed_in_holder_order() -> None:
    heads = [(f"m{n:05d}", n % 7 + 1, hashlib.sha256(str(n).encode()).hexdigest()) for n in range(2500)]
    random.shuffle(heads)
    digests, clock = Digests(), FixedClock(datetime(2026, 11, 30, 9, 0, 12, 345, tzinfo=UTC))
    publication = AnchorService(Source(heads), digests, clock, page_size=100, run_size=300).publish()

    ordered = sorted(Head(*h) for h in heads)
    digest, body = digests.published[0]
    assert publication.published and digest == publication.digest
    assert body == b"".join(h.leaf() + b"\n" for h in ordered)
    assert (digest.count, digest.root) == (2500, merkle_root([h.leaf() for h in ordered]))
    assert (digest.heads_sha256, digest.heads_bytes) == (hashlib.sha256(body).hexdigest(), len(body))
    assert (digest.published_at, digest.heads_key) == ("2026-11-30T09:00:12Z", heads_key(clock.now()))


def test_an_unchanged_ledger_publishes_nothing_and_a_moved_head_publishes_again() -> None:
    heads = [("a", 1, H), ("b", 2, H)]
    digests, clock = Digests(), FixedClock(datetime(2026, 11, 30, 9, tzinfo=UTC))
    source = Source(heads)
    service = AnchorService(source, digests, clock)
    assert service.has_news() and service.publish().published
    assert not service.has_news() and not service.publish().published
    heads[1], source.entries["b", 2] = ("b", 3, "cd" * 32), H  # b's chain grew past the published head
    assert service.has_news() and service.publish().published
    assert len(digests.published) == 2
    assert io.BytesIO(digests.published[1][1]).read().count(b"\n") == 2


@pytest.mark.parametrize(("change", "why"), [
    (lambda heads, entries: heads.__setitem__(1, ("b", 3, "cd" * 32)), "not the one published"),  # entry 2 rewritten
    (lambda heads, entries: heads.__setitem__(1, ("b", 2, "cd" * 32)), "not the one published"),  # head rehashed
    (lambda heads, entries: heads.__setitem__(1, ("b", 1, "cd" * 32)), "went back to seq 1"),
    (lambda heads, entries: heads.pop(0), "chain is gone"),
], ids=["rewritten below the new head", "rewritten at the head", "shortened", "removed"])
def test_the_anchor_refuses_to_publish_a_ledger_whose_published_history_changed(change: Any, why: str) -> None:
    """A digest of a rewritten ledger would make the rewrite look genuine to every later check: the anchor
    publishes nothing, fails naming the holder, and the genuine digest stays the latest."""
    heads = [("a", 1, H), ("b", 2, H)]
    source, digests = Source(heads), Digests()
    service = AnchorService(source, digests, FixedClock(datetime(2026, 11, 30, 9, tzinfo=UTC)))
    genuine = service.publish().digest
    source.entries["b", 2] = "ef" * 32  # what a rewrite below a new head leaves at the published seq
    change(heads, source.entries)
    with pytest.raises(HistoryRewritten, match=why) as refused:
        service.publish()
    assert refused.value.holder == ("a" if why == "chain is gone" else "b")
    assert digests.latest() == genuine and len(digests.published) == 1
