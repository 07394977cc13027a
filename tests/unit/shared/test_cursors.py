"""List cursors (loyalty/shared/cursors.py): what a list gave comes back as its key; anything else, an empty key
value included (DynamoDB would refuse it with a 500's ValidationException), is a ValueError (the routes' 422)."""

from __future__ import annotations

import base64
import json

import pytest

from loyalty.shared.cursors import cursor_of, start_key
from loyalty.shared.dynamo import to_item

FIELDS = {"pk", "sk", "listed", "status"}
LAST = to_item({"pk": "LEAD#F-1.1", "sk": "LEAD", "listed": "2026-12-01T06:00:00Z#F-1.1", "status": "new"})


def _valid(key: dict[str, str]) -> bool:
    return key["status"] == "new" and key["pk"].startswith("LEAD#")


def _forged(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def test_a_cursor_the_list_gave_comes_back_as_its_key() -> None:
    assert start_key(cursor_of(LAST), FIELDS, _valid) == LAST


@pytest.mark.parametrize("cursor", [
    _forged({"pk": "LEAD#x", "sk": "LEAD", "listed": "", "status": "new"}),  # an empty index key value
    _forged({"pk": "LEAD#x", "sk": "LEAD", "listed": "t#x", "status": "closed"}),  # another list's
    _forged({"pk": "LEAD#x", "sk": "LEAD", "listed": "t#x"}),  # a field missing
    _forged({"pk": "LEAD#x", "sk": "LEAD", "listed": 1, "status": "new"}),  # not a string
    _forged(["LEAD#x"]), "not base64!", "",
])
def test_anything_else_is_refused(cursor: str) -> None:
    with pytest.raises(ValueError, match="not a cursor this list gave"):
        start_key(cursor, FIELDS, _valid)
