"""DynamoDB's item size and capacity rules, applied to items in the low-level (typed) JSON form.

Item size (DynamoDB Developer Guide, "Item sizes and formats"): per attribute, the UTF-8 bytes of its name
plus its value: a string its UTF-8 bytes; a number 1 byte per two significant digits plus 1 byte; binary
its raw bytes; null or boolean 1 byte; a list or map 3 bytes plus its elements, each element 1 byte more
(a map element also its key's bytes); a set the sum of its elements. Capacity: a write is 1 unit per
1 KB (rounded up), a strongly consistent read 1 unit per 4 KB, an eventually consistent one half that;
transactional reads and writes count twice.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

KB = 1024
WRITE_UNIT = 1 * KB
READ_UNIT = 4 * KB
INDEX_OVERHEAD = 100  # bytes DynamoDB counts per item (and per index entry) for storage
MAX_ITEM = 400 * KB


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def number_size(text: str) -> int:
    """Bytes of a number: 1 per two significant digits (leading and trailing zeros trimmed) + 1."""
    value = Decimal(text)
    digits = value.as_tuple().digits if value != 0 else (0,)
    significant = "".join(map(str, digits)).strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one typed value (without its attribute name)."""
    (kind, inner), = value.items()
    if kind == "S":
        return _utf8(inner)
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner) if isinstance(inner, bytes) else len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(v) for v in inner)
    if kind == "NS":
        return sum(number_size(v) for v in inner)
    if kind == "BS":
        return sum(len(v) if isinstance(v, bytes) else len(base64.b64decode(v)) for v in inner)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in inner)
    if kind == "M":
        return 3 + sum(_utf8(k) + value_size(v) + 1 for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of an item: names plus values, per attribute."""
    return sum(_utf8(name) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int, *, transactional: bool = False) -> int:
    """Write capacity (or on-demand write request) units for one item write of ``size`` bytes."""
    return max(1, math.ceil(size / WRITE_UNIT)) * (2 if transactional else 1)


def read_units(size: int, *, consistent: bool = True, transactional: bool = False) -> float:
    """Read units for reading ``size`` bytes (one item, or a whole query's items): at least one 4 KB unit."""
    units = max(1, math.ceil(size / READ_UNIT))
    if transactional:
        return units * 2.0
    return float(units) if consistent else units / 2
