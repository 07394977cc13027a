"""List cursors of an index's last key: the key as base64url JSON out, checked on the way back in.

A cursor comes back from a client, so everything in it is checked before it becomes a query's ``ExclusiveStartKey``:
exactly the fields the list gives, each a non-empty string (DynamoDB refuses an empty key value with a
``ValidationException``, which would surface as a 500), and whatever the list itself requires of them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping
from typing import Any

from loyalty.shared.dynamo import from_item, to_item


def cursor_of(last: Mapping[str, Any]) -> str:
    """The cursor for a query's ``LastEvaluatedKey``."""
    return base64.urlsafe_b64encode(json.dumps(from_item(dict(last)), sort_keys=True).encode()).decode().rstrip("=")


def start_key(cursor: str, fields: Collection[str], valid: Callable[[dict[str, str]], bool]) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` of a cursor this list gave: ValueError for anything else."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError("not a cursor this list gave") from None
    if not isinstance(key, dict) or set(key) != set(fields) \
            or not all(isinstance(v, str) and v for v in key.values()) or not valid(key):
        raise ValueError("not a cursor this list gave")
    return to_item(key)
