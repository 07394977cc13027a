"""The anchor bucket as the template declares it: digests no function can delete, overwrite or unlock.

What the anchor function may do there is checked with every other function's rights in ``test_iam.py``
(recorded calls against the template's grants); here, what the bucket itself promises (docs/anchoring.md).
"""

from __future__ import annotations

from typing import Any

from localdev import template
from tests.contract.test_iam import granted

BUCKET = "AnchorBucket"
NEVER = {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:PutObjectLegalHold",
         "s3:PutBucketObjectLockConfiguration", "s3:BypassGovernanceRetention", "s3:PutBucketPolicy",
         "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration", "s3:PutBucketVersioning", "s3:DeleteBucket"}


def bucket() -> dict[str, Any]:
    return dict(template.resources("AWS::S3::Bucket")[BUCKET])


def policy() -> list[dict[str, Any]]:
    policies = [p["Properties"] for p in template.resources("AWS::S3::BucketPolicy").values()
                if p["Properties"]["Bucket"] == {"Ref": BUCKET}]
    assert len(policies) == 1
    return list(policies[0]["PolicyDocument"]["Statement"])


def test_the_bucket_locks_every_digest_for_the_parameterised_mode_and_days() -> None:
    props = bucket()["Properties"]
    assert props["ObjectLockEnabled"] is True
    lock = props["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert lock["Rule"]["DefaultRetention"] == {"Mode": {"Ref": "AnchorRetentionMode"},
                                                "Days": {"Ref": "AnchorRetentionDays"}}
    parameters = template.load()["Parameters"]
    assert parameters["AnchorRetentionMode"]["Default"] == "COMPLIANCE"
    assert set(parameters["AnchorRetentionMode"]["AllowedValues"]) == {"COMPLIANCE", "GOVERNANCE"}
    assert parameters["AnchorRetentionDays"]["MinValue"] >= 1
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert bucket()["DeletionPolicy"] == "Retain"  # deleting the stack never deletes the digests


def test_the_bucket_is_tls_only_create_only_and_written_by_the_anchor_alone() -> None:
    statements = policy()
    tls = [s for s in statements if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert tls and tls[0]["Effect"] == "Deny" and tls[0]["Principal"] == "*" and tls[0]["Action"] == "s3:*"
    create_only = [s for s in statements if s.get("Condition") == {"Null": {"s3:if-none-match": "true"}}]
    assert create_only and create_only[0]["Effect"] == "Deny" and create_only[0]["Action"] == "s3:PutObject"
    only_anchor = [s for s in statements if s.get("Condition") == {
        "ArnNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": ["AnchorFunctionRole", "Arn"]}}}]
    assert only_anchor and only_anchor[0]["Effect"] == "Deny" and only_anchor[0]["Action"] == "s3:PutObject"
    removes = [s for s in statements if s.get("Principal") == {"AWS": {"Fn::GetAtt": ["AnchorFunctionRole", "Arn"]}}]
    assert removes and removes[0]["Effect"] == "Deny" and set(removes[0]["Action"]) >= NEVER - {"s3:DeleteBucket"}


def test_nobody_may_delete_a_digest_not_even_to_hide_it_behind_a_delete_marker() -> None:
    """Object Lock keeps a version from deletion, but a delete without a version id adds a delete marker that
    hides the digest from every listing: the bucket denies both kinds of delete to every principal."""
    denies = [s for s in policy() if s["Effect"] == "Deny" and s["Principal"] == "*" and "Condition" not in s]
    denied = {a for s in denies for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= denied


def test_no_function_may_remove_or_unlock_a_digest_and_the_anchor_only_puts_gets_and_lists() -> None:
    for function, pairs in granted().items():
        on_bucket = {(a, r) for a, r in pairs if r.startswith(BUCKET)}
        assert not {a for a, _ in on_bucket} & NEVER, function
        if function == "LedgerFunction":  # GET /v1/ledger/anchor reads the latest digest: reading only
            assert on_bucket == {("s3:GetObject", "AnchorBucket/digests/*"), ("s3:ListBucket", BUCKET)}
        elif function != "AnchorFunction":
            assert not on_bucket, function
    anchor = {(a, r) for a, r in granted()["AnchorFunction"] if r.startswith(BUCKET)}
    assert anchor == {("s3:PutObject", "AnchorBucket/digests/*"), ("s3:GetObject", "AnchorBucket/digests/*"),
                      ("s3:ListBucket", BUCKET)}


def test_the_schedule_is_a_parameter() -> None:
    anchor = template.resources("AWS::Serverless::Function")["AnchorFunction"]["Properties"]
    (event,) = anchor["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "AnchorSchedule"}
    assert template.load()["Parameters"]["AnchorSchedule"]["Default"] == "rate(1 hour)"
