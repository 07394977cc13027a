"""Shared fixtures: moto in-process with the template's tables, a clock that stands still, and an
API client that routes through the template's routes to the real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from localdev import emulator
from localdev.server import LocalGateway
from loyalty import wiring
from loyalty.shared.clock import FixedClock, SystemClock
from tests.support import Api

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process with every resource of the template; yields the resources' local names."""
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in emulator.FAKE_AWS.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        names = emulator.create_resources()
        for key, value in {**emulator.function_environment(names), "PUBLIC_BASE_URL": "http://localhost"}.items():
            monkeypatch.setenv(key, value)
        yield names


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    fixed = FixedClock(START)
    wiring.configure(clock=fixed)
    yield fixed
    wiring.configure(clock=SystemClock())


@pytest.fixture
def api(aws: dict[str, str], clock: FixedClock) -> Api:
    return Api(LocalGateway(clock, names=aws))


@pytest.fixture
def dynamodb(aws: None) -> object:
    return boto3.client("dynamodb")
