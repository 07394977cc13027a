"""The Cognito pre-token-generation trigger (V1_0 event): staff and admin groups only for people with MFA, and a
partner's id in a partner's ID token.

Cognito calls it before it issues a person's tokens (sign-in and refresh). The event names the user; whether
MFA is set up is not in it, so the trigger asks Cognito (``AdminGetUser``). A person without MFA gets tokens
without the ``staff`` and ``admin`` groups: a member's tokens. The till's client-credentials tokens never
reach a V1_0 trigger and carry no groups anyway.

A person in the group ``partner`` whose ``custom:partner_id`` an admin has set gets it as the claim ``partner_id``
(``partner_claims``): the partner routes read it. The app clients cannot write that attribute, and only admins
put people in groups, so nobody can name a partner for themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loyalty.identity.domain import MFA_GROUPS, PARTNER, PARTNER_ATTRIBUTE, PARTNER_CLAIM, groups_kept, mfa_set_up

# (user pool id, user name) → AdminGetUser's answer
UserLookup = Callable[[str, str], Mapping[str, Any]]


def override_groups(event: dict[str, Any], lookup: UserLookup) -> dict[str, Any]:
    """The event with ``claimsOverrideDetails.groupOverrideDetails`` set when groups must go.

    MFA is only looked up for a person in staff or admin: a member's sign-in costs no extra call.
    """
    details = event.get("request", {}).get("groupConfiguration") or {}
    groups = list(details.get("groupsToOverride") or [])
    if not MFA_GROUPS & set(groups):
        return event
    kept = groups_kept(groups, mfa_set_up=mfa_set_up(lookup(event["userPoolId"], event["userName"])))
    if kept != groups:
        response = event.setdefault("response", {}) or {}
        event["response"] = response
        overrides = response.get("claimsOverrideDetails") or {}
        overrides["groupOverrideDetails"] = {**details, "groupsToOverride": kept}
        response["claimsOverrideDetails"] = overrides
    return event


def partner_claims(event: dict[str, Any]) -> dict[str, Any]:
    """The event with ``claimsOverrideDetails.claimsToAddOrOverride.partner_id`` set for a partner's login: in the
    group ``partner``, with the admin-set ``custom:partner_id``; unchanged for anybody else."""
    request = event.get("request", {})
    groups = (request.get("groupConfiguration") or {}).get("groupsToOverride") or []
    partner_id = (request.get("userAttributes") or {}).get(PARTNER_ATTRIBUTE)
    if PARTNER not in groups or not partner_id:
        return event
    response = event.get("response") or {}
    event["response"] = response
    overrides = response.get("claimsOverrideDetails") or {}
    overrides["claimsToAddOrOverride"] = {**(overrides.get("claimsToAddOrOverride") or {}), PARTNER_CLAIM: partner_id}
    response["claimsOverrideDetails"] = overrides
    return event
