"""Who is calling and who may call a route; ledger cursors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.http.auth import ADMIN_ONLY, PUBLIC, SELF_OR_STAFF, SIGNED_IN, STAFF_ONLY, caller_from_claims, parse_groups
from loyalty.ledger.http import decode_cursor, encode_cursor
from loyalty.shared.errors import Forbidden, Unauthorized


@pytest.mark.parametrize(("claim", "groups"), [
    ("[admin staff]", {"admin", "staff"}), ('["staff"]', {"staff"}), (["staff"], {"staff"}),
    ("staff,admin", {"staff", "admin"}), ("staff", {"staff"}), (None, set()), ("[]", set()),
])
def test_group_claims_in_every_shape_api_gateway_may_send(claim: object, groups: set[str]) -> None:
    assert parse_groups(claim) == groups


def test_callers() -> None:
    with pytest.raises(Unauthorized):
        caller_from_claims({})
    with pytest.raises(Forbidden):
        caller_from_claims({"sub": "has space"})
    admin = caller_from_claims({"sub": "boss", "cognito:groups": "[admin]"})
    assert admin.is_staff and admin.is_admin


@pytest.mark.parametrize(("access", "claims", "path", "allowed"), [
    (PUBLIC, None, {}, True),
    (SIGNED_IN, None, {}, Unauthorized),
    (SIGNED_IN, {"sub": "dan"}, {}, True),
    (STAFF_ONLY, {"sub": "dan"}, {}, Forbidden),
    (STAFF_ONLY, {"sub": "pos", "cognito:groups": "[staff]"}, {}, True),
    (STAFF_ONLY, {"sub": "boss", "cognito:groups": "[admin]"}, {}, True),
    (ADMIN_ONLY, {"sub": "pos", "cognito:groups": "[staff]"}, {}, Forbidden),
    (ADMIN_ONLY, {"sub": "boss", "cognito:groups": "[admin]"}, {}, True),
    (SELF_OR_STAFF, {"sub": "dan"}, {"member_id": "dan"}, True),
    (SELF_OR_STAFF, {"sub": "dan"}, {"member_id": "bob"}, Forbidden),
    (SELF_OR_STAFF, {"sub": "pos", "cognito:groups": "[staff]"}, {"member_id": "bob"}, True),
])
def test_access(access: object, claims: dict[str, str] | None, path: dict[str, str], allowed: object) -> None:
    if allowed is True:
        access.check(claims, path)  # type: ignore[attr-defined]
    else:
        with pytest.raises(allowed):  # type: ignore[call-overload]
            access.check(claims, path)  # type: ignore[attr-defined]


@given(st.integers(1, 10**12))
def test_cursors_round_trip(seq: int) -> None:
    assert decode_cursor(encode_cursor(seq)) == seq


@pytest.mark.parametrize("text", ["", "x", "c2VxOg", "c2VxOjAx", "c2VxOi0x", "bm9wZTox", "%%%",
                                  encode_cursor(2**63), encode_cursor(10**40 + 1)])
def test_foreign_cursors_are_refused(text: str) -> None:
    assert decode_cursor(text) is None
