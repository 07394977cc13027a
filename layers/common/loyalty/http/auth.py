"""Who is calling, and who may call a route.

On AWS the HTTP API's JWT authorizer (Cognito user pool) has already checked the token; the local
server checks its own tokens and passes the same claims in the same place. Every route declares its
``Access``; it is checked before anything else about the request (its media type, its body), so a
caller without the role gets ``403`` whatever it sent.

Every caller is of one *kind*, decided here and nowhere else (``kind_of``): a member; a person in the
``staff`` or ``admin`` group (only in an ID token: the pre-token trigger takes those groups out of the ID
tokens of people without MFA, and Cognito's V1_0 trigger cannot touch access tokens, so a person's access
token counts as a member's); the till, a client-credentials access token (``client_id`` present and
equal to ``sub``, as Cognito issues them) with the scope ``loyalty/pos`` and no groups (it acts as staff);
or a partner (group ``partner``), who is not a member. A token with the till's scope that is not a
client-credentials one is a member's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loyalty.identity.domain import ADMIN, PARTNER, POS_SCOPE, STAFF, normalize_phone, verified
from loyalty.shared.errors import Forbidden, Unauthorized

MEMBER_ID_PATTERN = r"^[A-Za-z0-9._:@+-]{1,128}$"
_MEMBER_ID = re.compile(MEMBER_ID_PATTERN)
# The kinds of caller (``Caller.kind``).
MEMBER, PERSON_STAFF, ADMIN_PERSON, TILL, PARTNER_KIND = "member", "person-staff", "admin", "till", "partner"
STAFF_KINDS = frozenset({PERSON_STAFF, ADMIN_PERSON, TILL})
# The kinds that are people who may be members (the till and partners are not).
MEMBER_KINDS = frozenset({MEMBER, PERSON_STAFF, ADMIN_PERSON})


def parse_groups(value: Any) -> frozenset[str]:
    """``cognito:groups`` in any form it arrives in.

    API Gateway HTTP APIs flatten array claims to a bracketed, space-separated string
    (``"[admin staff]"``); a JSON list or a comma-separated string are accepted too.
    """
    if value is None:
        return frozenset()
    if isinstance(value, (list, tuple)):
        return frozenset(str(v) for v in value)
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text[1:-1].split()
        if isinstance(parsed, list):
            return frozenset(str(v) for v in parsed)
    return frozenset(part for part in re.split(r"[,\s]+", text) if part)


def kind_of(claims: Mapping[str, Any]) -> str:
    """The kind of caller a token's claims make: admin, person-staff, partner, till or member."""
    groups, token_use = parse_groups(claims.get("cognito:groups")), claims.get("token_use")
    if token_use == "id" and ADMIN in groups:
        return ADMIN_PERSON
    if token_use == "id" and STAFF in groups:
        return PERSON_STAFF
    if PARTNER in groups:
        return PARTNER_KIND
    if token_use == "access" and not groups and POS_SCOPE in str(claims.get("scope") or "").split() \
            and _is_client_credentials(claims):
        return TILL
    return MEMBER


def _is_client_credentials(claims: Mapping[str, Any]) -> bool:
    """Whether an access token is a client-credentials one: Cognito makes its ``sub`` the app client's id. A
    person's access token names the app client too, but its ``sub`` is the person's (so, with the till's scope
    granted to a user-facing client by mistake, it is still that person: a member, not the till)."""
    client_id = claims.get("client_id")
    return bool(client_id) and client_id == claims.get("sub")


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: frozenset[str]
    kind: str = MEMBER
    email: str | None = None  # verified by Cognito, else None
    phone_number: str | None = None  # verified by Cognito, E.164
    partner_id: str | None = None  # a partner's own id (the claim ``partner_id``), None if absent or malformed

    @property
    def is_admin(self) -> bool:
        return self.kind == ADMIN_PERSON

    @property
    def is_staff(self) -> bool:
        return self.kind in STAFF_KINDS

    @property
    def may_be_member(self) -> bool:
        return self.kind in MEMBER_KINDS

    @property
    def is_partner(self) -> bool:
        """A partner that can act: the group ``partner`` and a well-formed ``partner_id`` claim."""
        return self.kind == PARTNER_KIND and self.partner_id is not None


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    claims = claims or {}
    sub = claims.get("sub")
    if not sub:
        raise Unauthorized("A bearer token is required.")
    if not _MEMBER_ID.match(str(sub)):
        raise Forbidden("This token's subject cannot be a member id.")
    phone = verified(claims, "phone_number")
    partner_id = claims.get("partner_id")
    return Caller(str(sub), parse_groups(claims.get("cognito:groups")), kind_of(claims),
                  email=verified(claims, "email"), phone_number=normalize_phone(phone) if phone else None,
                  partner_id=str(partner_id) if partner_id and _MEMBER_ID.match(str(partner_id)) else None)


@dataclass(frozen=True)
class Access:
    """Who may call a route: nobody needs a token (``public``), any authenticated caller (``any``), a person
    who may be a member, acting on itself (``signed_in``: not the till, not a partner), ``staff`` (staff or
    admin people, the till), ``admin``, the member a path parameter names and staff (``self_or_staff``), or a
    person acting on itself and staff acting for a member the route names otherwise (``signed_in_or_staff``)."""

    name: str
    role: str | None = None  # the group needed, if any
    self_param: str | None = None  # the path parameter that may name the caller instead
    members_only: bool = False  # refuse the till and partners
    staff_too: bool = False  # with members_only: staff (the till included) may call it too
    partners_too: bool = False  # with members_only: a partner (acting on itself) may call it too
    partner_param: str | None = None  # the path parameter that may name the calling partner instead

    @property
    def needs_token(self) -> bool:
        return self.name != "public"

    def check(self, claims: Mapping[str, Any] | None, path: Mapping[str, str]) -> Caller | None:
        """The caller, if allowed; ``Unauthorized`` or ``Forbidden`` if not."""
        if not self.needs_token:
            return None
        caller = caller_from_claims(claims)
        if self.members_only and not caller.may_be_member and not (self.staff_too and caller.is_staff) \
                and not (self.partners_too and caller.is_partner):
            raise Forbidden("This token is not a member's: the till and partners cannot act as members."
                            if not self.partners_too else "This token is neither a member's nor a partner's "
                                                          "(a partner's carries its partner_id).")
        if self.partner_param is not None and caller.kind == PARTNER_KIND:
            if caller.partner_id is not None and path.get(self.partner_param) == caller.partner_id:
                return caller
            raise Forbidden("A partner can only see itself.")
        if self.self_param is not None and path.get(self.self_param) == caller.sub and caller.may_be_member:
            return caller
        if self.role == ADMIN and not caller.is_admin:
            raise Forbidden("This needs the admin role.")
        if self.role == STAFF and not caller.is_staff:
            raise Forbidden("Members can only see their own data." if self.self_param else "This needs the staff role.")
        return caller


PUBLIC = Access("public")
ANY_CALLER = Access("any")
SIGNED_IN = Access("signed_in", members_only=True)
# A person acting on itself, or staff (the till too) acting for a member the body names: redemptions at the counter.
SIGNED_IN_OR_STAFF = Access("signed_in_or_staff", members_only=True, staff_too=True)
STAFF_ONLY = Access("staff", role=STAFF)
ADMIN_ONLY = Access("admin", role=ADMIN)
SELF_OR_STAFF = Access("self_or_staff", role=STAFF, self_param="member_id")
# Partners (API-additions, "Partners and referral links"): admin, or the partner the path names.
ADMIN_OR_PARTNER = Access("admin_or_partner", role=ADMIN, partner_param="partner_id")
# Referral links: a person acting on itself as a member, or a partner acting on itself (not the till).
SIGNED_IN_OR_PARTNER = Access("signed_in_or_partner", members_only=True, partners_too=True)
