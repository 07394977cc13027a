"""The Cognito pre-token-generation trigger (V1_0 event): staff and admin groups only for people with MFA.

Cognito calls it before it issues a person's tokens (sign-in and refresh). The event names the user; whether
MFA is set up is not in it, so the trigger asks Cognito (``AdminGetUser``). A person without MFA gets tokens
without the ``staff`` and ``admin`` groups: a member's tokens. The till's client-credentials tokens never
reach a V1_0 trigger and carry no groups anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from loyalty.identity.domain import MFA_GROUPS, groups_kept, mfa_set_up

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
