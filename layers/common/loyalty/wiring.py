"""The composition root: the one place that builds AWS clients, the store, the clock and the use cases.

Handlers call ``services()``; it is built once per container (on the first request, not at import,
to keep cold starts short) and cached. The local server and tests swap the clock or the whole
container through ``configure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from loyalty.clock import Clock, SystemClock
from loyalty.settings import Settings
from loyalty.usecases.ledger import LedgerService
from loyalty.usecases.members import MembershipService
from loyalty.usecases.program import ProgramService


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    members: MembershipService
    ledger: LedgerService
    program: ProgramService


_clock: Clock = SystemClock()
_services: Services | None = None


def dynamodb_client() -> Any:
    """A DynamoDB client with bounded, adaptive retries and timeouts short enough for an API call."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", config=config)


def build(settings: Settings, clock: Clock, client: Any) -> Services:
    from loyalty.adapters.dynamodb import DynamoStore

    store = DynamoStore(client, settings.tables)
    return Services(
        settings=settings,
        clock=clock,
        members=MembershipService(store, clock),
        ledger=LedgerService(store, clock),
        program=ProgramService(store),
    )


def services() -> Services:
    global _services
    if _services is None:
        _services = build(Settings.from_env(), _clock, dynamodb_client())
    return _services


def configure(*, clock: Clock | None = None) -> None:
    """Replace the clock (local server, tests); the container is rebuilt on next use."""
    global _clock, _services
    if clock is not None:
        _clock = clock
    _services = None


def current_clock() -> Clock:
    return _clock
