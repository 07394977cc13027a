"""The deploy-time custom resource that puts the console's files into its bucket (functions/console/app.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.console import app


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "chunks").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "app.js").write_text("console.log(1)")
    (tmp_path / "chunks" / "charts-ABC.js").write_text("export {}")
    (tmp_path / ".built").write_text("")
    return tmp_path


@pytest.fixture
def responses() -> Any:
    """A stand-in for CloudFormation's pre-signed response URL: records every PUT body."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/cfn", got
    server.shutdown()


def event(kind: str, url: str, bucket: str = "console") -> dict[str, Any]:
    return {"RequestType": kind, "StackId": "s", "RequestId": "r", "LogicalResourceId": "ConsoleAssets",
            "ResponseURL": url, "ResourceProperties": {"Bucket": bucket, "ApiUrl": "https://api.example",
                                                       "CognitoDomain": "https://auth.example", "ClientId": "cid",
                                                       "RedirectUri": "https://console.example/"}}


@mock_aws
def test_create_puts_every_file_with_its_type_and_caching_and_the_config(site: Path, responses: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    url, got = responses
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="console")
    monkeypatch.setattr(app, "SITE", site)
    app.handler(event("Create", url), None, s3)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="console")["Contents"]}
    assert keys == {"index.html", "app.js", "chunks/charts-ABC.js", "config.json"}  # no build stamp
    page = s3.get_object(Bucket="console", Key="index.html")
    assert page["ContentType"].startswith("text/html") and page["CacheControl"] == "no-cache"
    chunk = s3.get_object(Bucket="console", Key="chunks/charts-ABC.js")
    assert chunk["ContentType"].startswith("text/javascript") and "immutable" in chunk["CacheControl"]
    config = json.loads(s3.get_object(Bucket="console", Key="config.json")["Body"].read())
    assert config == {"api": "https://api.example", "auth": "cognito",
                      "cognito": {"domain": "https://auth.example", "client_id": "cid",
                                  "redirect_uri": "https://console.example/"}}
    assert [(g["Status"], g["PhysicalResourceId"], g["Data"]) for g in got] == [
        ("SUCCESS", "console", {"Objects": 4})]
    # The chunks go first and the page last: a browser loading mid-deploy never meets a name not there yet.
    assert [key for key, _ in app.files(site)] == ["chunks/charts-ABC.js", "app.js", "index.html"]

    app.handler(event("Delete", url), None, s3)
    assert "Contents" not in s3.list_objects_v2(Bucket="console")
    assert got[-1]["Status"] == "SUCCESS"

    # A bucket already gone (removed by hand, or replaced) is empty: the stack still deletes.
    s3.delete_bucket(Bucket="console")
    app.handler(event("Delete", url), None, s3)
    assert got[-1]["Status"] == "SUCCESS"


@mock_aws
def test_a_missing_build_or_bucket_fails_the_deploy_with_a_reason(tmp_path: Path, responses: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url, got = responses
    s3 = boto3.client("s3", region_name="us-east-1")
    monkeypatch.setattr(app, "SITE", tmp_path / "nothing")
    app.handler(event("Update", url), None, s3)
    assert got[-1]["Status"] == "FAILED" and "make build" in got[-1]["Reason"]
    monkeypatch.setattr(app, "SITE", tmp_path)
    (tmp_path / "index.html").write_text("x")
    app.handler(event("Create", url, bucket="no-such-bucket"), None, s3)
    assert got[-1]["Status"] == "FAILED" and "NoSuchBucket" in got[-1]["Reason"]
