"""The console's files into its bucket, at deploy time: a CloudFormation custom resource.

``sam deploy`` uploads code, not a website. This function carries the built console (``site/``, put there by
``make build``) and, when CloudFormation creates or updates the ``ConsoleAssets`` resource (its ``Version``
property is this function's published version, so every deploy that changes the console calls it), puts each
file into the console bucket with its content type and caching, then writes ``config.json`` (where the API is,
and the Cognito hosted UI's domain and client the console signs people in with). On delete it empties the bucket
so the stack can remove it. It answers CloudFormation at the pre-signed ``ResponseURL`` whatever happens: a
custom resource that never answers holds the stack for an hour.
"""

from __future__ import annotations

import json
import mimetypes
import urllib.request
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent / "site"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json",
         ".txt": "text/plain; charset=utf-8"}
# Chunks have their content's hash in their names: cached for a year. The rest is revalidated on every load, so a
# deploy shows at once (CloudFront's CachingOptimized policy keeps it for its 1-second minimum).
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def files(site: Path | None = None) -> list[tuple[str, Path]]:
    """The site's files as (key, path), in the order to put them: the chunks first, the page last, so a browser
    loading during a deploy never gets a page or app that names a file not there yet."""
    site = site or SITE
    if not (site / "index.html").is_file():
        raise FileNotFoundError(f"{site}/index.html is missing: build with `make build`, which builds the console")
    found = [(str(p.relative_to(site)), p) for p in site.rglob("*") if p.is_file() and p.name != ".built"]
    return sorted(found, key=lambda item: (item[0] == "index.html", "/" not in item[0], item[0]))


def headers_for(key: str) -> dict[str, str]:
    suffix = Path(key).suffix
    kind = TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
    return {"ContentType": kind, "CacheControl": IMMUTABLE if key.startswith("chunks/") else REVALIDATE}


def site_config(props: dict[str, Any]) -> dict[str, Any]:
    """config.json: the API's URL, and the hosted UI the console sends people to for signing in."""
    return {"api": props["ApiUrl"], "auth": "cognito",
            "cognito": {"domain": props["CognitoDomain"], "client_id": props["ClientId"],
                        "redirect_uri": props["RedirectUri"]}}


def publish(s3: Any, bucket: str, props: dict[str, Any], site: Path | None = None) -> int:
    written = 0
    for key, path in files(site):
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), **headers_for(key))
        written += 1
    s3.put_object(Bucket=bucket, Key="config.json", Body=json.dumps(site_config(props)).encode(),
                  ContentType=TYPES[".json"], CacheControl=REVALIDATE)
    return written + 1


def empty(s3: Any, bucket: str) -> int:
    """Remove every object; a bucket already gone is empty (a stack whose bucket was removed by hand still
    deletes)."""
    from botocore.exceptions import ClientError

    try:
        return _remove_all(s3, bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return 0
        raise


def _remove_all(s3: Any, bucket: str) -> int:
    removed = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
            removed += len(keys)
    return removed


def answer(event: dict[str, Any], status: str, reason: str, data: dict[str, Any] | None = None) -> None:
    # The physical id is the bucket's name: should the bucket ever be replaced, CloudFormation sees a new resource
    # and sends a Delete for the old id, which empties the old bucket so it can go.
    bucket = event.get("ResourceProperties", {}).get("Bucket") or event.get("PhysicalResourceId") or "console-assets"
    body = json.dumps({"Status": status, "Reason": reason[:3000], "PhysicalResourceId": bucket,
                       "StackId": event["StackId"], "RequestId": event["RequestId"],
                       "LogicalResourceId": event["LogicalResourceId"], "Data": data or {}}).encode()
    request = urllib.request.Request(event["ResponseURL"], data=body, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()


def handler(event: dict[str, Any], context: Any, s3: Any = None) -> None:
    props = event.get("ResourceProperties", {})
    try:
        if s3 is None:
            import boto3

            s3 = boto3.client("s3")
        bucket = props["Bucket"]
        if event["RequestType"] == "Delete":
            count = empty(s3, bucket)
            answer(event, "SUCCESS", f"removed {count} objects", {"Objects": count})
        else:
            count = publish(s3, bucket, props)
            answer(event, "SUCCESS", f"published {count} objects", {"Objects": count})
    except Exception as error:
        print(json.dumps({"level": "ERROR", "message": "console assets failed", "error": repr(error)}))
        answer(event, "FAILED", f"{type(error).__name__}: {error}")
