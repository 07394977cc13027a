"""A fault-injecting wrapper around the low-level DynamoDB client the adapter is built with.

``FaultyClient(client, rate=0.2, seed=7)`` forwards every call to ``client``; with probability ``rate``
a call goes wrong instead, in one of the ways DynamoDB goes wrong:

- ``throttle``: ``ThrottlingException`` or ``ProvisionedThroughputExceededException`` before the call
  (nothing applied), on reads and writes;
- ``conflict``: ``TransactionCanceledException`` with a ``TransactionConflict`` cancellation reason on
  one of the transaction's items (nothing applied), on ``TransactWriteItems``;
- ``ambiguous``: the real ``TransactWriteItems`` runs and commits, then the caller gets
  ``botocore.exceptions.ReadTimeoutError`` (applied, but the caller cannot know);
- ``unprocessed``: ``BatchGetItem`` answers only part of the keys and returns the rest as
  ``UnprocessedKeys`` (as DynamoDB does under load).

Faults are drawn from a seeded generator, so a run is reproducible. ``injected`` counts them by kind.
``ambiguous_unless`` lets a caller exempt some transactions from the ambiguous fault (a known defect
would otherwise make every run fail; the exemption is named where it is used).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

READS = ("get_item", "batch_get_item", "query")
WRITE = "transact_write_items"


def _api_name(operation: str) -> str:
    return "".join(word.title() for word in operation.split("_"))


def throttling(operation: str, rng: random.Random) -> ClientError:
    operation = _api_name(operation)
    code = rng.choice(["ThrottlingException", "ProvisionedThroughputExceededException"])
    return ClientError({"Error": {"Code": code, "Message": "Rate of requests exceeds the allowed throughput."},
                        "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)


def transaction_conflict(items: list[dict[str, Any]], rng: random.Random) -> ClientError:
    reasons = [{"Code": "None"} for _ in items]
    reasons[rng.randrange(len(items))] = {"Code": "TransactionConflict",
                                          "Message": "Transaction is ongoing for the item"}
    message = "Transaction cancelled, please refer cancellation reasons for specific reasons [" + \
        ", ".join(r["Code"] for r in reasons) + "]"
    return ClientError({"Error": {"Code": "TransactionCanceledException", "Message": message},
                        "CancellationReasons": reasons, "ResponseMetadata": {"HTTPStatusCode": 400}},
                       "TransactWriteItems")


class FaultyClient:
    """Wraps a boto3 DynamoDB client; see the module docstring."""

    def __init__(self, client: Any, *, rate: float, seed: int = 0, faulty_reads: tuple[str, ...] = READS,
                 ambiguous_unless: Callable[[list[dict[str, Any]]], bool] | None = None) -> None:
        self._client = client
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._reads = faulty_reads
        self._exempt = ambiguous_unless
        self.injected: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _draw(self, kinds: tuple[str, ...]) -> str | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            return self._rng.choice(kinds)

    def _count(self, operation: str, fault: str | None) -> None:
        with self._lock:
            self.calls[operation] += 1
            if fault is not None:
                self.injected[fault] += 1

    def _read(self, operation: str, **kwargs: Any) -> Any:
        method = getattr(self._client, operation)
        if operation not in self._reads:
            self._count(operation, None)
            return method(**kwargs)
        kinds = ("throttle", "unprocessed") if operation == "batch_get_item" else ("throttle",)
        fault = self._draw(kinds)
        self._count(operation, fault)
        if fault == "throttle":
            raise throttling(operation, self._rng)
        answer = method(**kwargs)
        if fault == "unprocessed":
            answer = self._partial(kwargs["RequestItems"], answer)
        return answer

    def _partial(self, requested: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        """Keep the first table's answer, hand every other table's keys back as unprocessed."""
        tables = list(requested)
        if len(tables) < 2:
            return {**answer, "Responses": {}, "UnprocessedKeys": requested}
        kept = tables[0]
        return {**answer, "Responses": {kept: answer.get("Responses", {}).get(kept, [])},
                "UnprocessedKeys": {t: requested[t] for t in tables[1:]}}

    def get_item(self, **kwargs: Any) -> Any:
        return self._read("get_item", **kwargs)

    def batch_get_item(self, **kwargs: Any) -> Any:
        return self._read("batch_get_item", **kwargs)

    def query(self, **kwargs: Any) -> Any:
        return self._read("query", **kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        items = kwargs["TransactItems"]
        fault = self._draw(("throttle", "conflict", "ambiguous"))
        if fault == "ambiguous" and self._exempt is not None and self._exempt(items):
            fault = None
        self._count(WRITE, fault)
        if fault == "throttle":
            raise throttling("TransactWriteItems", self._rng)
        if fault == "conflict":
            raise transaction_conflict(items, self._rng)
        answer = self._client.transact_write_items(**kwargs)
        if fault == "ambiguous":
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
        return answer


class OneFault:
    """Wraps a client; the next call of ``operation`` fails once, as ``fault`` says, then all is well.

    ``fault`` is ``throttle`` (before the call) or ``ambiguous`` (after the real call returned).
    """

    def __init__(self, client: Any, operation: str, fault: str) -> None:
        self._client = client
        self._operation = operation
        self._fault = fault
        self.fired = False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if name != self._operation or self.fired:
            return method

        def once(**kwargs: Any) -> Any:
            self.fired = True
            if self._fault == "throttle":
                raise throttling(name, random.Random(0))
            method(**kwargs)  # applied; the answer is lost on the way back
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")

        return once


class AlwaysThrottled:
    """Every call is throttled: a request that never gets through. ``calls`` counts them by operation."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        if name not in (*READS, WRITE):
            return getattr(self._client, name)

        def throttled(**kwargs: Any) -> Any:
            self.calls[name] += 1
            raise throttling(name, random.Random(0))

        return throttled


class ScriptedTransactions:
    """``TransactWriteItems`` fails as ``script`` says, call by call (``conflict``, ``ambiguous``, or ``None``)."""

    def __init__(self, client: Any, script: Sequence[str | None]) -> None:
        self._client = client
        self._script = list(script)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        fault = self._script.pop(0) if self._script else None
        if fault == "conflict":
            raise transaction_conflict(kwargs["TransactItems"], random.Random(0))
        answer = self._client.transact_write_items(**kwargs)
        if fault == "ambiguous":
            raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
        return answer
