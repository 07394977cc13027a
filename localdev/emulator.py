"""The embedded AWS emulator: moto in server mode on a free loopback port, inside this process.

Every boto3 client the handlers make goes to it through ``AWS_ENDPOINT_URL``, exactly as they
would go to AWS. ``AWS_ENDPOINT_URL_DYNAMODB`` may point DynamoDB somewhere else (DynamoDB Local,
where real concurrency matters). Resources are created from ``infra/template.yaml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from localdev import template

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def local_names() -> dict[str, str]:
    """Local physical names: each resource is named by its logical id."""
    return {name: name for name in template.load()["Resources"]}


def function_environment() -> dict[str, str]:
    """The Globals environment of the template, resolved for the local emulator."""
    names = local_names()
    env = {key: template.resolve(value, names) for key, value in template.global_environment().items()}
    for spec in template.functions():
        env.update({key: template.resolve(value, names) for key, value in spec.environment.items()})
    env.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"})
    return env


def create_tables(client: Any) -> None:
    existing = set(client.list_tables().get("TableNames", []))
    for name, spec in template.table_definitions().items():
        if name not in existing:
            client.create_table(**spec)


def create_resources() -> None:
    """Create everything the template defines that the handlers touch."""
    import boto3

    create_tables(boto3.client("dynamodb"))


@dataclass
class Emulator:
    endpoint: str
    server: Any

    def stop(self) -> None:
        self.server.stop()


def start(*, port: int = 0, dynamodb_endpoint: str | None = None) -> Emulator:
    from moto.server import ThreadedMotoServer

    os.environ.update(FAKE_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    if dynamodb_endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint
    os.environ.update(function_environment())
    create_resources()
    return Emulator(endpoint, server)
