"""The anchor's HTTP model: the latest digest of every chain head, as the console's verification page shows it."""

from __future__ import annotations

from pydantic import Field

from loyalty.anchoring.domain import Digest
from loyalty.http.types import Answer, Timestamp


class AnchorDigest(Answer):
    published_at: Timestamp = Field(description="When the heads were read (RFC 3339, UTC, whole seconds)")
    count: int = Field(description="How many chains (holders) the digest covers")
    root: str = Field(description="Merkle root of the heads (RFC 6962 hashing; docs/anchoring.md)",
                      examples=["3935d29b3758fe5cc178a0e0fcb8318593d7c122d913cce70edd29fecd2bfac0"])
    heads_key: str = Field(description="Where the heads object is in the anchor bucket",
                           examples=["digests/2026/11/30/2026-11-30T10:00:00Z.heads.jsonl"])
    heads_sha256: str
    heads_bytes: int
    format: str = Field(examples=["loyalty-ledger/anchor-digest/v1"])

    @classmethod
    def of(cls, digest: Digest) -> AnchorDigest:
        return cls(published_at=digest.published_at, count=digest.count, root=digest.root,
                   heads_key=digest.heads_key, heads_sha256=digest.heads_sha256, heads_bytes=digest.heads_bytes,
                   format=digest.format)
