"""Who is calling and who may call a route; ledger cursors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.http.auth import (
    ADMIN_ONLY,
    ADMIN_OR_PARTNER,
    ANY_CALLER,
    PUBLIC,
    SELF_OR_STAFF,
    SIGNED_IN,
    SIGNED_IN_OR_PARTNER,
    STAFF_ONLY,
    caller_from_claims,
    kind_of,
    parse_groups,
)
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
    admin = caller_from_claims({"sub": "boss", "cognito:groups": "[admin]", "token_use": "id"})
    assert admin.is_staff and admin.is_admin and admin.kind == "admin"


# Claims as API Gateway passes them: a person's ID token, a person's access token, the till's token.
ID = {"token_use": "id"}
ACCESS = {"token_use": "access"}
TILL = {"sub": "7f3k2till", "token_use": "access", "client_id": "7f3k2till", "scope": "loyalty/pos"}


@pytest.mark.parametrize(("claims", "kind"), [
    ({**ID, "sub": "dan"}, "member"),
    ({**ID, "sub": "pos", "cognito:groups": "[staff]"}, "person-staff"),
    ({**ID, "sub": "boss", "cognito:groups": "[admin staff]"}, "admin"),
    ({**ID, "sub": "pat", "cognito:groups": "[partner]"}, "partner"),
    (TILL, "till"),
    # The pre-token trigger (V1_0) rewrites ID tokens only: a person's access token keeps the groups of a person
    # without MFA, so its staff and admin groups count for nothing.
    ({**ACCESS, "sub": "pos", "cognito:groups": "[staff]"}, "member"),
    ({**ACCESS, "sub": "boss", "cognito:groups": "[admin]", "scope": "loyalty/pos"}, "member"),
    # The till's scope with groups, or in an ID token, is nobody's till.
    ({**ID, "sub": "x", "scope": "loyalty/pos"}, "member"),
    ({**TILL, "scope": "loyalty/other"}, "member"),
    # Only a client-credentials token is the till (Cognito: client_id == sub); a person's access token carrying
    # the scope (a user-facing client granted it by mistake) is that person, a member.
    ({**TILL, "sub": "dan"}, "member"),
    ({k: v for k, v in TILL.items() if k != "client_id"}, "member"),
    ({**TILL, "client_id": ""}, "member"),
])
def test_every_token_is_one_kind_of_caller(claims: dict[str, str], kind: str) -> None:
    assert kind_of(claims) == kind
    assert caller_from_claims(claims).kind == kind


def test_only_verified_contact_claims_count_and_phones_are_e164() -> None:
    caller = caller_from_claims({**ID, "sub": "li", "email": "li@example.com", "email_verified": "true",
                                 "phone_number": "13800138000", "phone_number_verified": "true"})
    assert (caller.email, caller.phone_number) == ("li@example.com", "+8613800138000")
    unverified = caller_from_claims({**ID, "sub": "li", "email": "li@example.com", "email_verified": "false",
                                     "phone_number": "+8613800138000"})
    assert (unverified.email, unverified.phone_number) == (None, None)


PARTNER = {**ID, "sub": "pat", "cognito:groups": "[partner]"}


@pytest.mark.parametrize(("access", "claims", "path", "allowed"), [
    (PUBLIC, None, {}, True),
    (SIGNED_IN, None, {}, Unauthorized),
    (SIGNED_IN, {"sub": "dan"}, {}, True),
    (SIGNED_IN, {**ID, "sub": "pos", "cognito:groups": "[staff]"}, {}, True),
    (SIGNED_IN, TILL, {}, Forbidden),
    (SIGNED_IN, {**ID, "sub": "pat", "cognito:groups": "[partner]"}, {}, Forbidden),
    (ANY_CALLER, TILL, {}, True),
    (ANY_CALLER, {**ID, "sub": "pat", "cognito:groups": "[partner]"}, {}, True),
    (STAFF_ONLY, {"sub": "dan"}, {}, Forbidden),
    (STAFF_ONLY, {**ID, "sub": "pos", "cognito:groups": "[staff]"}, {}, True),
    (STAFF_ONLY, {**ID, "sub": "boss", "cognito:groups": "[admin]"}, {}, True),
    (STAFF_ONLY, TILL, {}, True),
    (STAFF_ONLY, {**ACCESS, "sub": "pos", "cognito:groups": "[staff]"}, {}, Forbidden),
    (ADMIN_ONLY, {**ID, "sub": "pos", "cognito:groups": "[staff]"}, {}, Forbidden),
    (ADMIN_ONLY, TILL, {}, Forbidden),
    (ADMIN_ONLY, {**ID, "sub": "boss", "cognito:groups": "[admin]"}, {}, True),
    (SELF_OR_STAFF, {"sub": "dan"}, {"member_id": "dan"}, True),
    (SELF_OR_STAFF, {"sub": "dan"}, {"member_id": "bob"}, Forbidden),
    (SELF_OR_STAFF, {**ID, "sub": "pos", "cognito:groups": "[staff]"}, {"member_id": "bob"}, True),
    (SELF_OR_STAFF, TILL, {"member_id": "bob"}, True),
    (SELF_OR_STAFF, {**ID, "sub": "pat", "cognito:groups": "[partner]"}, {"member_id": "pat"}, Forbidden),
    # Partners: admin, or the partner its claim names; a partner token without a well-formed claim is refused.
    (ADMIN_OR_PARTNER, {**PARTNER, "partner_id": "P-1"}, {"partner_id": "P-1"}, True),
    (ADMIN_OR_PARTNER, {**PARTNER, "partner_id": "P-1"}, {"partner_id": "P-2"}, Forbidden),
    (ADMIN_OR_PARTNER, PARTNER, {"partner_id": "pat"}, Forbidden),
    (ADMIN_OR_PARTNER, {**PARTNER, "partner_id": "P 1/../"}, {"partner_id": "P 1/../"}, Forbidden),
    (ADMIN_OR_PARTNER, {**ID, "sub": "boss", "cognito:groups": "[admin]"}, {"partner_id": "P-1"}, True),
    (ADMIN_OR_PARTNER, {**ID, "sub": "P-1", "partner_id": "P-1"}, {"partner_id": "P-1"}, Forbidden),  # a member
    (ADMIN_OR_PARTNER, TILL, {"partner_id": "P-1"}, Forbidden),
    (SIGNED_IN_OR_PARTNER, {**PARTNER, "partner_id": "P-1"}, {}, True),
    (SIGNED_IN_OR_PARTNER, PARTNER, {}, Forbidden),
    (SIGNED_IN_OR_PARTNER, {"sub": "dan"}, {}, True),
    (SIGNED_IN_OR_PARTNER, TILL, {}, Forbidden),
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
