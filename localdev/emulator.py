"""The embedded AWS emulator: moto in server mode on a free loopback port, inside this process.

Every boto3 client the handlers make goes to it through ``AWS_ENDPOINT_URL``, exactly as they
would go to AWS. ``AWS_ENDPOINT_URL_DYNAMODB`` may point DynamoDB somewhere else (DynamoDB Local,
where real concurrency matters). Resources are created from ``infra/template.yaml``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
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


def function_environment(names: dict[str, str] | None = None) -> dict[str, str]:
    """The functions' environment from the template, resolved for the emulator's resources."""
    names = names or {name: name for name in template.load()["Resources"]}
    env = {key: template.resolve(value, names) for key, value in template.global_environment().items()}
    for spec in template.functions():
        env.update({key: template.resolve(value, names) for key, value in spec.environment.items()})
    env.update({"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                # a programme published locally applies to the very next purchase (on AWS: within a second)
                "PROGRAM_CACHE_SECONDS": "0",
                # the emulator answers in-process: threads only add contention for its lock
                "QUEUE_READ_THREADS": "1",
                # the emulator reports SES's sandbox rate (1/s); pacing to it would only slow local runs
                "SES_MAX_SEND_RATE": "100"})
    return env


def create_tables(client: Any) -> None:
    existing = set(client.list_tables().get("TableNames", []))
    for name, spec in template.table_definitions().items():
        if name not in existing:
            client.create_table(**spec)


def create_resources() -> dict[str, str]:
    """Create what the template defines that the handlers touch; return the local physical names.

    Names map a logical id (and ``<id>.Arn``) to what ``!Ref`` (and ``!GetAtt``) give on AWS.
    """
    import boto3

    from localdev import moto_transactions

    moto_transactions.install()  # moto's transactions roll back what they touch, not a copy of every table
    names = {name: name for name in template.load()["Resources"]}
    create_tables(boto3.client("dynamodb"))

    sqs = boto3.client("sqs")
    queues = template.resources("AWS::SQS::Queue")
    for name in sorted(queues, key=lambda n: "RedrivePolicy" in queues[n]["Properties"]):
        props = queues[name]["Properties"]
        attributes = {k: str(props[k]) for k in ("VisibilityTimeout", "MessageRetentionPeriod") if k in props}
        if "RedrivePolicy" in props:
            target = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": names[f"{target}.Arn"],
                                                      "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"]})
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        names[name] = url
        names[f"{name}.Arn"] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    secretsmanager = boto3.client("secretsmanager")
    for name in template.resources("AWS::SecretsManager::Secret"):
        with contextlib.suppress(secretsmanager.exceptions.ResourceExistsException):
            secretsmanager.create_secret(Name=name, SecretString=secrets.token_urlsafe(48))

    for name, bucket in template.resources("AWS::S3::Bucket").items():
        names[name], names[f"{name}.Arn"] = create_bucket(boto3.client("s3"), name, bucket["Properties"], names)

    scheduler = boto3.client("scheduler")
    existing = {s["Name"] for s in scheduler.list_schedules().get("Schedules", [])}
    for spec in template.functions():
        for name, schedule in spec.schedule_events:
            if f"{spec.logical_id}-{name}" not in existing:
                scheduler.create_schedule(
                    Name=f"{spec.logical_id}-{name}",
                    ScheduleExpression=template.resolve(schedule["ScheduleExpression"], names),
                    FlexibleTimeWindow={"Mode": "OFF"},
                    Target={"Arn": f"arn:aws:lambda:us-east-1:000000000000:function:{spec.logical_id}",
                            "RoleArn": "arn:aws:iam::000000000000:role/scheduler",
                            "Input": schedule.get("Input", "{}")})

    sesv2 = boto3.client("sesv2")
    for name in template.resources("AWS::SES::ConfigurationSet"):
        with contextlib.suppress(sesv2.exceptions.AlreadyExistsException):
            sesv2.create_configuration_set(ConfigurationSetName=name)
    for identity in template.resources("AWS::SES::EmailIdentity").values():
        domain = template.resolve(identity["Properties"]["EmailIdentity"], names)  # a parameter's default
        sesv2.create_email_identity(EmailIdentity=domain)
    return names


def create_bucket(s3: Any, logical_id: str, props: dict[str, Any], names: dict[str, str]) -> tuple[str, str]:
    """A bucket as the template declares it (Object Lock and its default retention, versioning, public access
    block); returns its local name (bucket names are lower case) and ARN."""
    bucket = logical_id.lower()
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=bool(props.get("ObjectLockEnabled")))
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={
            "Status": props["VersioningConfiguration"]["Status"]})
    lock = props.get("ObjectLockConfiguration")
    if lock:
        retention = lock["Rule"]["DefaultRetention"]
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {
                "Mode": template.resolve(retention["Mode"], names),
                "Days": int(template.resolve(retention["Days"], names))}}})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(Bucket=bucket,
                                   PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    return bucket, f"arn:aws:s3:::{bucket}"


def queue_holds_messages(name: str) -> bool | None:
    """Whether the emulator's queue ``name`` holds a message a consumer could receive now, read from moto's
    memory in this process (no call: the emulator records none); None when this process cannot tell."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import sqs_backends

        queue = sqs_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")].queues.get(name)
        return None if queue is None else bool(queue.messages)
    except Exception:  # another moto, or no moto here
        return None


def stream_end(table: str) -> int | None:
    """The sequence number of the last record of the table's stream (0 when it has none), read from moto's
    memory in this process; None when this process cannot tell (the table lives elsewhere: DynamoDB Local)."""
    try:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ.get("AWS_DEFAULT_REGION", "us-east-1")]
        found = backend.tables.get(table)
        shard = found.stream_shard if found is not None else None
        if shard is None or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
            return None
        return int(shard.starting_sequence_number) + len(shard.items) - 1 if shard.items else 0
    except Exception:  # another moto, or no moto here
        return None


@dataclass
class Emulator:
    endpoint: str
    server: Any
    names: dict[str, str]

    def stop(self) -> None:
        self.server.stop()


def start(*, port: int = 0, dynamodb_endpoint: str | None = None) -> Emulator:
    from moto.server import ThreadedMotoServer

    # The emulator's own access log (werkzeug's, one line per AWS call) would drown the server's.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    os.environ.update(FAKE_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    endpoint = f"http://{host}:{bound}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    if dynamodb_endpoint:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_endpoint
    names = create_resources()
    os.environ.update(function_environment(names))
    return Emulator(endpoint, server, names)
