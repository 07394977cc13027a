"""The anchor on moto: its schedule on the local clock, and the digests in the Object Lock bucket."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from loyalty.anchoring.domain import Digest, merkle_root
from loyalty.anchoring.s3 import S3DigestStore
from loyalty.shared.clock import FixedClock
from tests.support import Api


def digest_keys(bucket: str) -> list[str]:
    s3 = boto3.client("s3")
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []) if o["Key"].endswith(".json"))


def test_the_clock_runs_the_anchor_when_a_head_moved_and_skips_it_when_none_did(
        api: Api, clock: FixedClock, aws: dict[str, str]) -> None:
    bucket = aws["AnchorBucket"]
    api.chain("alice", "bob")
    assert api.purchase("O-1", "bob", 12900).status == 201
    api.move_clock(3600)
    keys = digest_keys(bucket)
    assert keys == ["digests/2026/11/23/2026-11-23T10:00:00Z.json"]  # the first hourly slot

    api.move_clock(30 * 86400)  # a month with nothing written: no digest says the same again
    assert digest_keys(bucket) == keys

    assert api.purchase("O-2", "alice", 100).status == 201
    api.move_clock(3600)
    assert len(digest_keys(bucket)) == 2

    s3 = boto3.client("s3")
    latest = json.loads(s3.get_object(Bucket=bucket, Key=digest_keys(bucket)[-1])["Body"].read())
    lines = s3.get_object(Bucket=bucket, Key=latest["heads_key"])["Body"].read().splitlines()
    heads = [json.loads(line) for line in lines]
    assert [h["holder"] for h in heads] == ["alice", "bob"]
    assert {h["holder"]: (h["seq"], h["hash"]) for h in heads} == {
        m: (len(api.ledger(m)), api.verify(m)["head_hash"]) for m in ("alice", "bob")}
    assert latest["root"] == merkle_root(lines) and latest["count"] == 2


def test_the_bucket_is_object_locked_and_versioned_as_the_template_says(aws: dict[str, str]) -> None:
    s3, bucket = boto3.client("s3"), aws["AnchorBucket"]
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert (lock["Rule"]["DefaultRetention"]["Mode"], lock["Rule"]["DefaultRetention"]["Days"]) == ("COMPLIANCE", 400)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


def test_a_digest_is_never_overwritten_and_a_locked_one_never_deleted(aws: dict[str, str]) -> None:
    s3, bucket = boto3.client("s3"), aws["AnchorBucket"]
    store = S3DigestStore(s3, bucket)
    digest = Digest("2026-11-30T09:00:00Z", 0, merkle_root([]), "digests/2026/11/30/2026-11-30T09:00:00Z.heads.jsonl",
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0)
    store.publish(digest, io.BytesIO(b""))
    with pytest.raises(ClientError, match="PreconditionFailed"):
        store.publish(digest, io.BytesIO(b""))
    version = s3.list_object_versions(Bucket=bucket)["Versions"][0]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
    assert store.latest() == digest


def test_the_latest_digest_is_found_across_years_months_and_days(aws: dict[str, str]) -> None:
    store = S3DigestStore(boto3.client("s3"), aws["AnchorBucket"])
    assert store.latest() is None
    published: list[Any] = []
    for moment in ("2025-12-31T23:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "2026-02-09T10:00:00Z"):
        at = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC)
        key = f"digests/{at:%Y/%m/%d}/{moment}.heads.jsonl"
        digest = Digest(moment, 0, merkle_root([]), key, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                                                         "7852b855", 0)
        store.publish(digest, io.BytesIO(b""))
        published.append(digest)
    assert store.latest() == published[-1]
    assert list(store.newest_first())[:2] == [f"digests/2026/02/09/{published[-1].published_at}.json",
                                              f"digests/2026/01/01/{published[-2].published_at}.json"]


def test_an_admin_reads_the_latest_digest_and_nobody_else_does(api: Api, clock: FixedClock,
                                                               aws: dict[str, str]) -> None:
    none_yet = api.call("GET", "/v1/ledger/anchor", as_="boss", groups=("admin",))
    assert (none_yet.status, none_yet.body["type"].rsplit("/", 1)[1]) == (404, "not-found")
    api.chain("alice", "bob")
    assert api.purchase("O-1", "bob", 12900).status == 201
    api.move_clock(3600)
    reply = api.call("GET", "/v1/ledger/anchor", as_="boss", groups=("admin",))
    key = digest_keys(aws["AnchorBucket"])[-1]
    published = json.loads(boto3.client("s3").get_object(Bucket=aws["AnchorBucket"], Key=key)["Body"].read())
    assert reply.status == 200 and reply.body == published
    assert reply.body["count"] == 2 and reply.body["published_at"] == "2026-11-23T10:00:00Z"
    assert api.call("GET", "/v1/ledger/anchor", as_="pos", groups=("staff",)).status == 403
