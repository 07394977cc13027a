"""What anchoring needs from storage: the chain heads (the ledger's store reads them) and the digests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Protocol

from loyalty.anchoring.domain import Digest


class HeadSource(Protocol):
    def heads(self, page_size: int) -> Iterator[list[tuple[str, int, str]]]:
        """Every holder's ``(holder, seq, head_hash)``, a page at a time, in no particular order."""
        ...

    def entry_hash(self, holder: str, seq: int) -> str | None:
        """The hash of the holder's entry at ``seq`` as the ledger holds it now; None if there is none."""
        ...


class DigestStore(Protocol):
    def latest(self) -> Digest | None:
        """The latest digest published, or None before the first."""
        ...

    def heads(self, digest: Digest) -> Iterator[bytes]:
        """The lines of a published digest's heads object, in order (holders sorted)."""
        ...

    def publish(self, digest: Digest, heads: BinaryIO) -> None:
        """Write the heads object, then the digest that names it (so a digest never names missing heads);
        neither may overwrite anything."""
        ...
