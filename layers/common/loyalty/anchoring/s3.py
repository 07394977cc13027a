"""The digests in an S3 bucket with Object Lock: ``anchoring.store.DigestStore``'s adapter.

Objects are only ever created (``If-None-Match: *``; the bucket's policy refuses a put without it), and the
bucket's default retention keeps every version from being deleted or overwritten until it expires. Keys
sort by time (``digests/<yyyy>/<mm>/<dd>/<rfc3339>.json``), so the latest is found by walking the newest
year, month and day down, never by listing every digest ever published.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from loyalty.anchoring.domain import PREFIX, Digest

DEPTH = 3  # <yyyy>/<mm>/<dd>/


def is_digest(key: str) -> bool:
    return key.endswith(".json")


class S3DigestStore:
    def __init__(self, client: Any, bucket: str) -> None:
        self._s3 = client
        self._bucket = bucket

    def _children(self, prefix: str) -> tuple[list[str], list[str]]:
        """The sub-prefixes and the keys directly under ``prefix``, every page of them."""
        prefixes: list[str] = []
        keys: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": prefix, "Delimiter": "/"}
        while True:
            answer = self._s3.list_objects_v2(**kwargs)
            prefixes += [p["Prefix"] for p in answer.get("CommonPrefixes", [])]
            keys += [o["Key"] for o in answer.get("Contents", [])]
            if not answer.get("IsTruncated"):
                return prefixes, keys
            kwargs["ContinuationToken"] = answer["NextContinuationToken"]

    def newest_first(self, prefix: str = PREFIX, depth: int = 0) -> Iterator[str]:
        """Digest keys, newest first, read a day at a time."""
        prefixes, keys = self._children(prefix)
        if depth == DEPTH:
            yield from sorted((k for k in keys if is_digest(k)), reverse=True)
            return
        for child in sorted(prefixes, reverse=True):
            yield from self.newest_first(child, depth + 1)

    def read(self, key: str) -> Digest:
        body = json.loads(self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read())
        return Digest(**body)

    def latest(self) -> Digest | None:
        key = next(self.newest_first(), None)
        return self.read(key) if key is not None else None

    def heads(self, digest: Digest) -> Iterator[bytes]:
        body = self._s3.get_object(Bucket=self._bucket, Key=digest.heads_key)["Body"]
        yield from (line for line in body.iter_lines() if line)

    def publish(self, digest: Digest, heads: BinaryIO) -> None:
        self._put(digest.heads_key, heads, "application/x-ndjson")
        self._put(key_of(digest), digest.body(), "application/json")

    def _put(self, key: str, body: Any, content_type: str) -> None:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type,
                            IfNoneMatch="*", ChecksumAlgorithm="SHA256")


def key_of(digest: Digest) -> str:
    return digest.heads_key.removesuffix(".heads.jsonl") + ".json"
