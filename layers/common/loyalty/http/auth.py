"""Who is calling: the claims API Gateway's JWT authorizer put in the request context.

On AWS the HTTP API's JWT authorizer (Cognito user pool) has already checked the token; the
local server checks its own tokens and passes the same claims in the same place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from loyalty.errors import Forbidden, Unauthorized

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

    def require_staff(self) -> None:
        if not self.is_staff:
            raise Forbidden("This needs the staff role.")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("This needs the admin role.")

    def require_self_or_staff(self, member_id: str) -> None:
        if member_id != self.sub and not self.is_staff:
            raise Forbidden("Members can only see their own data.")


def caller_from_claims(claims: dict[str, Any] | None) -> Caller:
    sub = (claims or {}).get("sub")
    if not sub:
        raise Unauthorized("A bearer token is required.")
    if not _MEMBER_ID.match(str(sub)):
        raise Forbidden("This token's subject cannot be a member id.")
    return Caller(str(sub), parse_groups((claims or {}).get("cognito:groups")))
