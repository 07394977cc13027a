"""moto's ``TransactWriteItems`` with a rollback that costs what the transaction touches, not the table's size.

moto 5 backs up a transaction by deep-copying every table it names, then puts the copies back when an item fails.
The copy grows with the table: in a long local session (the fuzzer's hour of requests, ``make bench``'s story, a
console demo) each purchase deep-copies the whole ledger, and that copy is most of the emulator's time.

Installed here, a transaction keeps copies of only the items it names (and each table's stream length) and puts
those back when it is cancelled: the same outcome (every item as it was, no stream record of the cancelled
writes), without the table-wide copy. The service's code is unchanged; this is the emulator's (``localdev``,
the tests and ``make bench`` install it). ``tests/integration/localdev`` checks the outcome of cancelled and
committed transactions. Transactions run one at a time (a lock): the emulator serves requests on threads, and a
cancel puts back every item the transaction names, which must not undo another transaction's write in between.
"""

from __future__ import annotations

import copy
import threading
import types
from typing import Any

_installed = threading.Lock()
_one_at_a_time = threading.Lock()
_done = False


def install() -> None:
    """Replace moto's ``DynamoDBBackend.transact_write_items`` (once per process; later calls do nothing)."""
    global _done
    with _installed:
        if _done:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        original = models.DynamoDBBackend.transact_write_items

        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            # moto's own backup of a table becomes the table itself: restoring it is then a no-op, and the
            # items this module saved are put back instead.
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        models.copy = types.SimpleNamespace(deepcopy=deepcopy)  # type: ignore[assignment]

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            with _one_at_a_time:
                saved = _save(self, transact_items)
                try:
                    original(self, transact_items)
                except Exception:
                    _restore(saved)
                    raise

        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _done = True


def _save(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """Each named item as it is now (a copy, or None when absent), and each table's stream length."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: list[tuple[Any, Any, Any, Any]] = []
    streams: dict[int, tuple[Any, int]] = {}
    for entry in transact_items:
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            key = op["Item"] if "Item" in op else op["Key"]
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        except (KeyError, TypeError, AttributeError, StopIteration):
            continue  # moto refuses it before writing anything
        current = table.get_item(hash_value, range_value)
        saved.append((table, hash_value, range_value, copy.deepcopy(current)))
        if table.stream_shard is not None and id(table) not in streams:
            streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
    saved.extend((None, shard, length, None) for shard, length in streams.values())
    return saved


def _restore(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    """Put every saved item back as it was (latest saved first), then drop the stream records written since."""
    for table, hash_value, range_value, item in reversed(saved):
        if table is None:  # a stream: (None, shard, length, None)
            shard, length = hash_value, range_value
            del shard.items[length:]
        elif item is None:
            if range_value is not None:
                table.items.get(hash_value, {}).pop(range_value, None)
                if hash_value in table.items and not table.items[hash_value]:
                    del table.items[hash_value]
            else:
                table.items.pop(hash_value, None)
        elif range_value is not None:
            table.items[hash_value][range_value] = item
        else:
            table.items[hash_value] = item
