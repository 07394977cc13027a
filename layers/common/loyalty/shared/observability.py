"""The Powertools logger, tracer and metrics every function shares, and the entry for event handlers."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
# Not Powertools' default patch_all() at import: that imports botocore (and requests, sqlite3 … whatever is
# installed) on every cold start. This service calls nothing but AWS, through botocore, so botocore alone is
# patched, by ``patch_aws_sdk`` when the first client is built (``wiring.client``), before any AWS call.
tracer = Tracer(auto_patch=False)
# An explicit namespace: a module imported before its environment must still have one.
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LoyaltyLedger"))


def patch_aws_sdk() -> None:
    """Trace every AWS call (X-Ray subsegments): patch botocore, once, before the first client is built.
    A no-op when tracing is off (outside Lambda, or ``POWERTOOLS_TRACE_DISABLED``)."""
    tracer.patch(["botocore"])  # the X-Ray SDK remembers what it patched: repeated calls do nothing


def fresh_metrics(handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """Nothing buffered outlives an invocation (with metrics disabled Powertools keeps the buffer, and
    serializes it on the 100th value)."""

    @wraps(handler)
    def wrapped(event: dict[str, Any], context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            metrics.clear_metrics()

    return wrapped


def event_entry(handle: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
    """A Lambda handler for a non-HTTP event (a stream, a queue, a schedule, an EventBridge rule)."""

    @fresh_metrics
    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> Any:
        return handle(event, context)

    return handler
