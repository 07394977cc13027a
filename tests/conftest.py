"""Shared fixtures: moto in-process with the template's tables, a clock that stands still, and an
API client that routes through the template's routes to the real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.session
import pytest
from _pytest.nodeid import NodeId
from botocore.loaders import create_loader
from moto import mock_aws

from localdev import emulator
from localdev.server import LocalGateway
from loyalty import wiring
from loyalty.shared.clock import FixedClock, SystemClock
from tests.support import Api

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


# Collected first: with --no-loadscope-reorder (pyproject's addopts) xdist hands out the tests, and the groups, in
# collection order, so each worker starts with one of the model test's two runs (minutes each) and then takes the
# next group or test. Left to the end, they could leave one worker idle; handed out after the groups (xdist's
# default order, largest group first) both could go to the worker that finished its group first, one after another.
LONG_FIRST = ("tests/model/test_model.py::test_ledger_agrees_with_model",)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Make ``--dist loadgroup`` group again. pytest-xdist (3.8) marks an item of an ``xdist_group`` by setting
    ``item._nodeid`` to ``<nodeid>@<group>``, and its scheduler groups by that suffix; pytest 9 keeps the id in
    ``item._id`` and ignores ``_nodeid``, so every test was scheduled alone: both workers started DynamoDB Local,
    eight containers, the fuzzer's seeded server and the e2e servers and browsers. Copy xdist's id over (after its
    hook: trylast).

    Under loadgroup, the tests of a module that shares a module-scoped fixture (test_bench's benchmark runs, the
    expanded template) are one group too, so that the fixture is made once; and ``LONG_FIRST`` goes first."""
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers with --dist loadgroup
        return
    for item in items:
        grouped = item.__dict__.get("_nodeid")
        if isinstance(grouped, str) and grouped != item.nodeid and "@" in grouped:
            item._id = NodeId.parse(grouped)
        elif _shares_a_module_fixture(item):
            item._id = NodeId.parse(f"{item.nodeid}@{item.nodeid.split('::')[0]}")
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))  # stable: the rest keep their order


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    definitions = info.name2fixturedefs.values() if info is not None else ()
    return any(chain[-1].scope == "module" for chain in definitions if chain)


@pytest.fixture(scope="session", autouse=True)
def _one_botocore_loader() -> Iterator[None]:
    """Every botocore session of a test process shares one data loader. A fresh session (moto's mock resets
    boto3's default one; the local gateway's jobs make their own) otherwise parses the service models and the
    endpoint rules again, a few tenths of a second per client. The loader only reads botocore's own data files,
    and caches what it read; its callers already share those objects within a session."""
    loaders: dict[str | None, Any] = {}

    def shared(search_path_string: str | None = None) -> Any:
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", shared)
        yield


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto in-process with every resource of the template; yields the resources' local names."""
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in emulator.FAKE_AWS.items():
        monkeypatch.setenv(key, value)
    # boto3's default session is kept across tests, as the model test's worlds keep it (tests/model/world.py): a
    # fresh one reloads the service models. Every mock still starts with no data; a test that replaces the session
    # (test_iam's recorder) has the kept one put back after it.
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3.DEFAULT_SESSION)
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
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
