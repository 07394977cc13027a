"""Who is calling, and who may call a route.

On AWS the HTTP API's JWT authorizer (Cognito user pool) has already checked the token; the local
server checks its own tokens and passes the same claims in the same place. Every route declares its
``Access``; it is checked before anything else about the request (its media type, its body), so a
caller without the role gets ``403`` whatever it sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loyalty.shared.errors import Forbidden, Unauthorized

MEMBER_ID_PATTERN = r"^[A-Za-z0-9._:@+-]{1,128}$"
_MEMBER_ID = re.compile(MEMBER_ID_PATTERN)
STAFF, ADMIN = "staff", "admin"


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


@dataclass(frozen=True)
class Caller:
    sub: str
    groups: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.groups

    @property
    def is_staff(self) -> bool:
        return STAFF in self.groups or self.is_admin


def caller_from_claims(claims: Mapping[str, Any] | None) -> Caller:
    sub = (claims or {}).get("sub")
    if not sub:
        raise Unauthorized("A bearer token is required.")
    if not _MEMBER_ID.match(str(sub)):
        raise Forbidden("This token's subject cannot be a member id.")
    return Caller(str(sub), parse_groups((claims or {}).get("cognito:groups")))


@dataclass(frozen=True)
class Access:
    """Who may call a route: nobody needs a token (``public``), any signed-in caller (``signed_in``, a member
    acting on itself), ``staff`` (or admin), ``admin``, or the member a path parameter names and staff
    (``self_or_staff``)."""

    name: str
    role: str | None = None  # the group needed, if any
    self_param: str | None = None  # the path parameter that may name the caller instead

    @property
    def needs_token(self) -> bool:
        return self.name != "public"

    def check(self, claims: Mapping[str, Any] | None, path: Mapping[str, str]) -> Caller | None:
        """The caller, if allowed; ``Unauthorized`` or ``Forbidden`` if not."""
        if not self.needs_token:
            return None
        caller = caller_from_claims(claims)
        if self.self_param is not None and path.get(self.self_param) == caller.sub:
            return caller
        if self.role == ADMIN and not caller.is_admin:
            raise Forbidden("This needs the admin role.")
        if self.role == STAFF and not caller.is_staff:
            raise Forbidden("Members can only see their own data." if self.self_param else "This needs the staff role.")
        return caller


PUBLIC = Access("public")
SIGNED_IN = Access("signed_in")
STAFF_ONLY = Access("staff", role=STAFF)
ADMIN_ONLY = Access("admin", role=ADMIN)
SELF_OR_STAFF = Access("self_or_staff", role=STAFF, self_param="member_id")
