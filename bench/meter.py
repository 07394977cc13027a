"""Count every AWS call a boto3 session makes, and the DynamoDB capacity each one consumes.

Hooks ``before-call`` / ``after-call`` on the session's event system, so every client made from the
session afterwards (the handlers' own, built by ``loyalty.wiring``) is counted. Capacity is computed
from the items themselves with ``bench.sizes`` (the emulator's ``ConsumedCapacity`` is not used): the
request's items for writes, the items as stored before (and after) the call for replaced or updated
items (DynamoDB charges the larger of the two), the returned items for reads. Index writes follow the
template's index definitions: an item write that adds, changes or removes an index entry writes it too,
sized as its projection (keys plus projected attributes); a local secondary index is written with the
table, so inside a transaction its writes count twice as well; a global secondary index is updated
asynchronously at the standard rate (counted once).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench.sizes import item_size, read_units, write_units
from localdev import template


@dataclass
class Index:
    name: str
    local: bool
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY, INCLUDE
    include: tuple[str, ...] = ()


@dataclass
class Table:
    name: str
    keys: tuple[str, ...]
    indexes: list[Index]


def tables_from_template() -> dict[str, Table]:
    tables = {}
    for name, spec in template.table_definitions().items():
        indexes = []
        for kind, local in (("LocalSecondaryIndexes", True), ("GlobalSecondaryIndexes", False)):
            for index in spec.get(kind, []):
                projection = index.get("Projection", {})
                indexes.append(Index(index["IndexName"], local, tuple(k["AttributeName"] for k in index["KeySchema"]),
                                     projection.get("ProjectionType", "ALL"),
                                     tuple(projection.get("NonKeyAttributes", []))))
        tables[name] = Table(name, tuple(k["AttributeName"] for k in spec["KeySchema"]), indexes)
    return tables


@dataclass
class Call:
    service: str
    operation: str
    read_units: float = 0.0
    write_units: int = 0
    index_write_units: int = 0
    items_written: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Tally:
    calls: list[Call] = field(default_factory=list)

    @property
    def operations(self) -> Counter[str]:
        return Counter(f"{c.operation}" if c.service == "dynamodb" else f"{c.service}:{c.operation}"
                       for c in self.calls)

    @property
    def dynamodb_requests(self) -> int:
        return sum(1 for c in self.calls if c.service == "dynamodb")

    @property
    def rcu(self) -> float:
        return sum(c.read_units for c in self.calls)

    @property
    def wcu(self) -> int:
        return sum(c.write_units + c.index_write_units for c in self.calls)

    @property
    def index_wcu(self) -> int:
        return sum(c.index_write_units for c in self.calls)

    @property
    def other_services(self) -> Counter[str]:
        return Counter(f"{c.service}:{c.operation}" for c in self.calls if c.service != "dynamodb")


class Meter:
    """Counts calls made through ``session`` (a ``boto3.Session``) while a measurement is open."""

    def __init__(self, session: Any, reader: Any) -> None:
        self.tables = tables_from_template()
        self.reader = reader  # a client of another session: its reads are not counted
        self.current: Tally | None = None
        self._pending: list[tuple[Call, Any]] = []
        session.events.register("before-call", self._before)
        session.events.register("after-call", self._after)

    def start(self) -> None:
        self.current = Tally()

    def stop(self) -> Tally:
        tally, self.current = self.current or Tally(), None
        return tally

    # --- hooks ------------------------------------------------------------------------------------

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        call = Call(service, model.name)
        request: dict[str, Any] = {}
        if service == "dynamodb":
            body = params.get("body") or b"{}"
            request = json.loads(body if isinstance(body, (str, bytes)) else b"{}")
        self._pending.append((call, (request, self._before_images(model.name, request) if request else {})))

    def _after(self, model: Any, parsed: dict[str, Any], http_response: Any = None, **_: Any) -> None:
        if not self._pending:
            return
        call, (request, before) = self._pending.pop()
        if call.service == "dynamodb" and request and 200 <= getattr(http_response, "status_code", 200) < 300:
            self._price(call, request, parsed, before)
        if self.current is not None:
            self.current.calls.append(call)

    # --- items before and after -------------------------------------------------------------------

    def _key(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self.tables[table].keys if k in item}

    def _fetch(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self.reader.get_item(TableName=table, Key=key, ConsistentRead=True)
        return found.get("Item")

    def _targets(self, operation: str, request: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], Any]]:
        """(kind, table, key, the request part) for every item a write call touches."""
        if operation == "PutItem":
            return [("Put", request["TableName"], self._key(request["TableName"], request["Item"]), request)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(operation[:-4], request["TableName"], request["Key"], request)]
        if operation == "TransactWriteItems":
            found = []
            for part in request["TransactItems"]:
                (kind, body), = part.items()
                key = body.get("Key") or self._key(body["TableName"], body["Item"])
                found.append((kind, body["TableName"], key, body))
            return found
        if operation == "BatchWriteItem":
            found = []
            for table, writes in request["RequestItems"].items():
                for write in writes:
                    if "PutRequest" in write:
                        item = write["PutRequest"]["Item"]
                        found.append(("Put", table, self._key(table, item), write["PutRequest"]))
                    else:
                        found.append(("Delete", table, write["DeleteRequest"]["Key"], write["DeleteRequest"]))
            return found
        return []

    def _before_images(self, operation: str, request: dict[str, Any]) -> dict[int, Any]:
        return {i: self._fetch(table, key) for i, (_, table, key, _) in enumerate(self._targets(operation, request))}

    # --- capacity ---------------------------------------------------------------------------------

    def _price(self, call: Call, request: dict[str, Any], parsed: dict[str, Any], before: dict[int, Any]) -> None:
        op = call.operation
        if op in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"):
            transactional = op == "TransactWriteItems"
            for i, (kind, table, key, body) in enumerate(self._targets(op, request)):
                old = before.get(i)
                if kind == "ConditionCheck":
                    # charged as a transactional write of the item it checks
                    call.write_units += write_units(item_size(old), transactional=True)
                    call.notes.append(f"ConditionCheck {table} {item_size(old)} B")
                    continue
                new = body["Item"] if kind == "Put" else (self._fetch(table, key) if kind == "Update" else None)
                size = max(item_size(old), item_size(new))
                call.write_units += write_units(size, transactional=transactional)
                call.items_written += 1
                call.notes.append(f"{kind} {table} {item_size(new) if new else item_size(old)} B")
                call.index_write_units += self._index_writes(table, old, new, transactional)
        elif op == "GetItem":
            call.read_units += read_units(item_size(parsed.get("Item")), consistent=bool(request.get("ConsistentRead")))
        elif op == "BatchGetItem":
            for table, spec in request["RequestItems"].items():
                found = {json.dumps(self._key(table, i), sort_keys=True): i
                         for i in parsed.get("Responses", {}).get(table, [])}
                for key in spec["Keys"]:
                    item = found.get(json.dumps(key, sort_keys=True))
                    call.read_units += read_units(item_size(item), consistent=bool(spec.get("ConsistentRead")))
        elif op in ("Query", "Scan"):
            size = sum(item_size(i) for i in parsed.get("Items", []))
            call.read_units += read_units(size, consistent=bool(request.get("ConsistentRead")))
            call.notes.append(f"{op} {len(parsed.get('Items', []))} items {size} B")
        elif op == "TransactGetItems":
            for part in parsed.get("Responses", []):
                call.read_units += read_units(item_size(part.get("Item")), transactional=True)

    def _index_writes(self, table: str, old: dict[str, Any] | None, new: dict[str, Any] | None,
                      transactional: bool) -> int:
        units = 0
        spec = self.tables[table]
        for index in spec.indexes:
            old_entry, new_entry = self._entry(spec, index, old), self._entry(spec, index, new)
            if old_entry == new_entry:
                continue
            moved = old_entry is not None and new_entry is not None and \
                any(old_entry.get(k) != new_entry.get(k) for k in index.keys)
            writes = [e for e in ((old_entry, new_entry) if moved else (new_entry or old_entry,)) if e is not None]
            double = transactional and index.local
            units += sum(write_units(item_size(e), transactional=double) for e in writes)
        return units

    @staticmethod
    def _entry(table: Table, index: Index, item: dict[str, Any] | None) -> dict[str, Any] | None:
        """The index entry an item has (None if it lacks an index key): keys plus the projection."""
        if item is None or any(k not in item for k in index.keys):
            return None
        if index.projection == "ALL":
            return dict(item)
        names = set(table.keys) | set(index.keys) | (set(index.include) if index.projection == "INCLUDE" else set())
        return {k: v for k, v in item.items() if k in names}
