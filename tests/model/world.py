"""One throwaway world for a test that cannot use fixtures (a hypothesis state machine builds one per
example): moto in-process with every resource of the template, a clock that stands still, and an API
client over the local gateway. The same set-up as the ``aws``, ``clock`` and ``api`` fixtures of
``tests/conftest.py``."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import boto3
from moto import mock_aws

from localdev import emulator
from localdev.server import LocalGateway
from loyalty import wiring
from loyalty.shared.clock import FixedClock, SystemClock
from tests.support import Api

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class World:
    def __init__(self) -> None:
        self._saved: dict[str, str | None] = {}
        for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
            self._set(key, None)
        for key, value in emulator.FAKE_AWS.items():
            self._set(key, value)
        # Keep boto3's default session across worlds: a fresh one reloads the service models (~0.1 s per
        # client), most of the cost of a world. Every mock still starts with no data.
        self._mock = mock_aws(config={"core": {"reset_boto3_session": False}})
        self._mock.start()
        try:
            names = emulator.create_resources()
            for key, value in {**emulator.function_environment(names), "PUBLIC_BASE_URL": "http://localhost",
                               # The model reads every member after every step; each read queries every lane of
                               # the member's queue. Two lanes keep that cheap (lanes are exercised by the
                               # integration and DynamoDB Local suites at the template's 8).
                               "CREDIT_SPREAD": "2"}.items():
                self._set(key, value)
            self.dynamodb = boto3.client("dynamodb")
        except BaseException:
            self.close()
            raise
        self.clock = FixedClock(START)
        wiring.configure(clock=self.clock)
        self.api = Api(LocalGateway(self.clock, names=names))

    def _set(self, key: str, value: str | None) -> None:
        self._saved.setdefault(key, os.environ.get(key))
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value

    def close(self) -> None:
        self._mock.stop()
        wiring.configure(clock=SystemClock())
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
