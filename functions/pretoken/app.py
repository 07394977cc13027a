"""Cognito pre-token-generation trigger (V1_0): a person without MFA gets tokens without the staff and admin
groups; a partner's login gets its partner's id (``loyalty.identity.pretoken``)."""

from __future__ import annotations

from typing import Any

from loyalty.identity.pretoken import override_groups, partner_claims
from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import cognito_users


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    before = list((event.get("request", {}).get("groupConfiguration") or {}).get("groupsToOverride") or [])
    answer = partner_claims(override_groups(event, cognito_users()))
    details = ((answer.get("response") or {}).get("claimsOverrideDetails") or {}).get("groupOverrideDetails")
    if details is not None:
        withheld = sorted(set(before) - set(details["groupsToOverride"]))
        logger.info("groups withheld: no MFA", extra={"trigger": event.get("triggerSource"), "withheld": withheld})
    return answer
