"""One throwaway world for a test that cannot use fixtures (a hypothesis state machine builds one per
example): moto in-process with every resource of the template, a clock that stands still, and an API
client over the local gateway. The same set-up as the ``aws``, ``clock`` and ``api`` fixtures of
``tests/conftest.py``."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import boto3
from aws_lambda_powertools import Metrics
from moto import mock_aws

from localdev import emulator
from localdev.server import LocalGateway
from loyalty import wiring
from loyalty.clock import FixedClock, SystemClock
from tests.support import Api

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def forget_buffered_metrics() -> None:
    """Empty the process's metrics buffer, as a fresh Lambda container would have it.

    A workaround for a defect (``test_model.py::test_a_process_serves_more_than_a_hundred_writes_of_a_kind``):
    with metrics disabled locally, Powertools keeps every metric value of the process in one buffer and
    serializes it at the 100th value of one metric, which fails with a 500 when the handlers were imported
    before their environment (as test collection does). These tests make hundreds of writes per process.
    """
    Metrics().clear_metrics()  # the buffer is shared by every Metrics instance of the process


class World:
    def __init__(self) -> None:
        forget_buffered_metrics()
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
            for key, value in {**emulator.function_environment(names), "PUBLIC_BASE_URL": "http://localhost"}.items():
                self._set(key, value)
            self.dynamodb = boto3.client("dynamodb")
        except BaseException:
            self.close()
            raise
        self.clock = FixedClock(START)
        wiring.configure(clock=self.clock)
        self.api = Api(LocalGateway(self.clock, serialize=False, names=names))

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
