"""Identity rules with no I/O, shared by the Cognito pre-token-generation trigger, the local server and the
HTTP layer.

- People who act for the shop (groups ``staff`` and ``admin``) must have MFA set up: a token of a person
  without MFA carries neither group, so it is a member's token (``groups_kept``). The trigger applies this on
  AWS; the local server calls the same function when it mints a token.
- A phone number is stored in E.164; one without a country code is read as China's (+86).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

STAFF, ADMIN, PARTNER = "staff", "admin", "partner"
# Groups that only a person with MFA set up may carry in a token.
MFA_GROUPS = frozenset({STAFF, ADMIN})
# A partner's login carries the partner it acts for in this custom attribute, which only an admin can set (the app
# clients may not write it); the pre-token trigger puts it in the ID token as the claim ``partner_id``.
PARTNER_ATTRIBUTE, PARTNER_CLAIM = "custom:partner_id", "partner_id"
# The scope of the till's client-credentials token (resource server ``loyalty``, scope ``pos``).
POS_SCOPE = "loyalty/pos"
DEFAULT_COUNTRY_CODE = "86"
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")  # at least 7 digits: no real number is shorter


def groups_kept(groups: Iterable[str], *, mfa_set_up: bool) -> list[str]:
    """The groups a person's token may carry: all of them with MFA set up, else all but staff and admin
    (in their order)."""
    return [g for g in groups if mfa_set_up or g not in MFA_GROUPS]


def mfa_set_up(user: Mapping[str, Any]) -> bool:
    """Whether Cognito's AdminGetUser answer shows an MFA method set up for the user (a TOTP app: the pool
    offers no other), by ``UserMFASettingList`` or ``PreferredMfaSetting``."""
    return bool(user.get("UserMFASettingList") or user.get("PreferredMfaSetting"))


def normalize_phone(text: str) -> str | None:
    """The E.164 form of a phone number (``+8613800138000``), or None if it cannot be one.

    Full-width characters count as their ASCII selves (``１３８…`` from a Chinese keyboard); spaces, dashes, dots
    and brackets are ignored, and so is a ``(0)`` after the country code; ``00`` is the international prefix. A
    number without a country code is a Chinese one: its domestic trunk ``0`` goes (``010 1234 5678``, Beijing,
    is ``+861012345678``), and 13 digits that start ``861`` are a mobile number with the code but no ``+``.
    """
    digits = re.sub(r"[\s().-]", "", unicodedata.normalize("NFKC", text).replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif not digits.startswith("+"):
        if len(digits) == 13 and digits.startswith("861"):
            digits = digits[2:]
        elif digits.startswith("0"):
            digits = digits[1:]
        digits = "+" + DEFAULT_COUNTRY_CODE + digits
    return digits if _E164.match(digits) else None


def verified(claims: Mapping[str, Any], name: str) -> str | None:
    """A contact claim (``email``, ``phone_number``) only if the token says Cognito verified it
    (``<name>_verified``: ``true``, or ``"true"`` as API Gateway passes it)."""
    value, flag = claims.get(name), claims.get(f"{name}_verified")
    if not isinstance(value, str) or not value or str(flag).lower() != "true":
        return None
    return value
