"""The composition root: the one place that builds AWS clients, the stores, the clock and the use cases.

Handlers call ``services()`` (the ledger) or ``outreach()``; each is built once per container (on
first use, not at import, to keep cold starts short) and cached. The local server and tests swap
the clock through ``configure``, which also drops what was built so it is rebuilt on next use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from loyalty.clock import Clock, SystemClock
from loyalty.settings import OutreachEnv, Settings
from loyalty.usecases.ledger import LedgerService
from loyalty.usecases.members import MembershipService
from loyalty.usecases.program import ProgramService

if TYPE_CHECKING:
    from loyalty.usecases.outreach import OutreachService


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    members: MembershipService
    ledger: LedgerService
    program: ProgramService


_clock: Clock = SystemClock()


def client(service: str, *, attempts: int = 2) -> Any:
    """An AWS client with one quick retry of its own and timeouts short enough for an API call.

    Retrying further is the use cases' job: they re-read before they write again, back off with
    jitter and stop within a time budget (``RetryPolicy``), which botocore's retries cannot know.
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": attempts}, connect_timeout=2, read_timeout=4)
    return boto3.client(service, config=config)


def build(settings: Settings, clock: Clock, dynamodb: Any) -> Services:
    from loyalty.adapters.dynamodb import DynamoStore

    store = DynamoStore(dynamodb, settings.tables)
    return Services(
        settings=settings,
        clock=clock,
        members=MembershipService(store, clock),
        ledger=LedgerService(store, clock),
        program=ProgramService(store),
    )


@cache
def _dynamodb() -> Any:
    return client("dynamodb")


@cache
def services() -> Services:
    return build(Settings.from_env(), _clock, _dynamodb())


@cache
def outreach() -> OutreachService:
    from loyalty.adapters.dynamodb import DynamoStore
    from loyalty.adapters.messaging import Secret, SesMailer, SqsQueue
    from loyalty.adapters.outreach_dynamodb import OutreachStore
    from loyalty.usecases.outreach import OutreachConfig, OutreachService

    settings, env = Settings.from_env(), OutreachEnv.from_env()
    sqs = client("sqs") if env.send_queue_url or env.fanout_queue_url else None
    return OutreachService(
        store=OutreachStore(_dynamodb(), env.table, settings.tables.members, shards=env.due_shards),
        ledger=DynamoStore(_dynamodb(), settings.tables),
        clock=_clock,
        config=OutreachConfig(sender=env.sender, shop_name=env.shop_name, app_link=env.app_link,
                              public_base_url=env.public_base_url.rstrip("/")),
        secret=Secret(client("secretsmanager"), env.unsubscribe_secret),
        send_queue=SqsQueue(sqs, env.send_queue_url) if env.send_queue_url else None,
        fanout_queue=SqsQueue(sqs, env.fanout_queue_url) if env.fanout_queue_url else None,
        # One attempt: a send SES accepted but answered late must not be sent again by botocore; the
        # send log's claim and the queue decide what happens to a send that failed.
        mailer=SesMailer(client("sesv2", attempts=1), client("ses"), env.configuration_set, env.sender_concurrency,
                         env.max_send_rate) if env.configuration_set else None,
    )


def configure(*, clock: Clock | None = None) -> None:
    """Replace the clock (local server, tests); everything built so far is rebuilt on next use."""
    global _clock
    if clock is not None:
        _clock = clock
    for built in (services, outreach, _dynamodb):
        built.cache_clear()
