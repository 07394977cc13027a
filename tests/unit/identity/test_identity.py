"""Identity rules: staff and admin groups only with MFA (the pre-token trigger and the local server share
``groups_kept``), phone numbers in E.164."""

from __future__ import annotations

from typing import Any

import pytest

from loyalty.identity.domain import groups_kept, mfa_set_up, normalize_phone
from loyalty.identity.pretoken import override_groups, partner_claims


def event(groups: list[str]) -> dict[str, Any]:
    """A V1_0 pre-token-generation event as Cognito sends it."""
    return {"version": "1", "triggerSource": "TokenGeneration_Authentication", "region": "cn-north-1",
            "userPoolId": "cn-north-1_AbC", "userName": "owner", "callerContext": {"clientId": "app"},
            "request": {"userAttributes": {"sub": "owner", "email": "owner@example.com"},
                        "groupConfiguration": {"groupsToOverride": groups, "iamRolesToOverride": [],
                                               "preferredRole": None}},
            "response": {"claimsOverrideDetails": None}}


WITH_MFA = {"UserMFASettingList": ["SOFTWARE_TOKEN_MFA"], "PreferredMfaSetting": "SOFTWARE_TOKEN_MFA"}
WITHOUT_MFA: dict[str, Any] = {"UserAttributes": []}


def test_without_mfa_staff_and_admin_groups_are_taken_out_of_the_token() -> None:
    looked_up: list[tuple[str, str]] = []

    def lookup(pool: str, user: str) -> dict[str, Any]:
        looked_up.append((pool, user))
        return WITHOUT_MFA

    out = override_groups(event(["admin", "staff", "partner"]), lookup)
    assert out["response"]["claimsOverrideDetails"]["groupOverrideDetails"]["groupsToOverride"] == ["partner"]
    assert looked_up == [("cn-north-1_AbC", "owner")]


def test_with_mfa_the_groups_stay_and_members_cost_no_lookup() -> None:
    assert override_groups(event(["staff"]), lambda pool, user: WITH_MFA)["response"] == {
        "claimsOverrideDetails": None}

    def never(pool: str, user: str) -> dict[str, Any]:
        raise AssertionError("a member's sign-in needs no lookup")

    assert override_groups(event([]), never)["response"] == {"claimsOverrideDetails": None}


@pytest.mark.parametrize(("user", "set_up"), [
    (WITH_MFA, True), ({"PreferredMfaSetting": "SOFTWARE_TOKEN_MFA"}, True),
    ({"UserMFASettingList": ["SOFTWARE_TOKEN_MFA"]}, True), (WITHOUT_MFA, False), ({"UserMFASettingList": []}, False),
])
def test_mfa_is_set_up_when_cognito_lists_a_method(user: dict[str, Any], set_up: bool) -> None:
    assert mfa_set_up(user) is set_up


def test_a_partners_login_gets_its_partner_id_and_nobody_else_does() -> None:
    partner = event(["partner"])
    partner["request"]["userAttributes"]["custom:partner_id"] = "P-wang"
    assert partner_claims(partner)["response"]["claimsOverrideDetails"] == {
        "claimsToAddOrOverride": {"partner_id": "P-wang"}}
    member = event([])
    member["request"]["userAttributes"]["custom:partner_id"] = "P-wang"  # set, but not in the group: no claim
    assert partner_claims(member)["response"] == {"claimsOverrideDetails": None}
    assert partner_claims(event(["partner"]))["response"] == {"claimsOverrideDetails": None}  # no partner set yet
    withheld = partner_claims(override_groups(partner | {"request": {**partner["request"], "groupConfiguration": {
        "groupsToOverride": ["staff", "partner"]}}}, lambda pool, user: WITHOUT_MFA))
    assert withheld["response"]["claimsOverrideDetails"] == {  # both overrides, side by side
        "groupOverrideDetails": {"groupsToOverride": ["partner"]}, "claimsToAddOrOverride": {"partner_id": "P-wang"}}


def test_groups_kept() -> None:
    assert groups_kept(["staff", "partner", "admin"], mfa_set_up=False) == ["partner"]
    assert groups_kept(["staff", "admin"], mfa_set_up=True) == ["staff", "admin"]


@pytest.mark.parametrize(("text", "e164"), [
    ("+8613800138000", "+8613800138000"), ("13800138000", "+8613800138000"), ("138 0013 8000", "+8613800138000"),
    ("0085291234567", "+85291234567"), ("+1 (415) 555-0100", "+14155550100"), ("", None), ("abc", None),
    ("+0123", None), ("1" * 20, None),
    # what people type at a Chinese till or keyboard
    ("１３８ ００１３ ８０００", "+8613800138000"), ("＋86 138-0013-8000", "+8613800138000"),
    ("8613800138000", "+8613800138000"), ("(010) 1234 5678", "+861012345678"), ("010-12345678", "+861012345678"),
    ("+86 (0)10 1234 5678", "+861012345678"), ("+86.138.0013.8000", "+8613800138000"),
    ("138 0013 800O", None), ("+86 138 0013 8000 ext 12", None), ("٣٨٠٠١٣٨٠٠٠١", None), ("+", None),
])
def test_phone_numbers_are_e164_and_without_a_country_code_chinese(text: str, e164: str | None) -> None:
    assert normalize_phone(text) == e164
