"""Every test here starts with an empty metrics buffer: a workaround, until the defect shown by
``test_model.py::test_a_process_serves_more_than_a_hundred_writes_of_a_kind`` is fixed (see
``world.forget_buffered_metrics``)."""

from __future__ import annotations

import pytest

from tests.model.world import forget_buffered_metrics


@pytest.fixture(autouse=True)
def _empty_metrics_buffer() -> None:
    forget_buffered_metrics()
