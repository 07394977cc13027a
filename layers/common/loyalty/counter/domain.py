"""Member codes: what a member shows at the till, so staff can find them and know they are there.

A member code is the member's referral code (8 characters) followed by a 7-character tag, an HMAC-SHA256 of the
member id and a local date under a secret only the service holds, bound to its purpose::

    K7Q2M9XD  4F7H2K9
    referral  tag of (member id, 2026-11-30)

It changes every day (dates in the programme's time zone); the day before's stays good for the first hour of a
day, so a code shown just before midnight still works at the till. Nothing is written to issue or rotate one:
the service recomputes the tag to check it. Both parts use the referral codes' alphabet (no 0/O, 1/I/L, U), and
any typo breaks the tag, so a mistyped code is refused instead of naming somebody else (a chance of 1 in 30^7,
about 2 × 10^10). The referral part is public (it is in every referral link); the tag is what cannot be guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalty.members.domain import CODE_ALPHABET, CODE_LENGTH
from loyalty.shared.errors import LoyaltyError

PURPOSE = b"loyalty-ledger/member-code/v1\x00"
TAG_LENGTH = 7  # 30^7 ≈ 2.2e10: ~34 bits, checked by staff-only routes
MEMBER_CODE_LENGTH = CODE_LENGTH + TAG_LENGTH  # 15: within the contract's 16
GRACE = time(1, 0)  # the day before's code is still good until 01:00 local time
_MEMBER_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{MEMBER_CODE_LENGTH}}}$")

Secret = Callable[[], bytes]  # the HMAC key, read on first use


class MemberCodeInvalid(LoyaltyError):
    slug, status, title = "member-code-invalid", 422, "Member code not valid"


@dataclass(frozen=True)
class MemberCode:
    """A code as read from a card: the referral code of the member it claims to be, and its tag."""

    referral_code: str
    tag: str


@dataclass(frozen=True)
class Card:
    """What a member shows at the till today."""

    member_code: str
    renews_at: datetime  # when the next day's code takes over (this one stays good for an hour past it)


def _tag(member_id: str, day: date, secret: bytes) -> str:
    digest = hmac.new(secret, PURPOSE + member_id.encode() + b"\x00" + day.isoformat().encode(),
                      hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")  # 2^64 over 30^7: the bias is below 1e-9
    chars = []
    for _ in range(TAG_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def member_code(member_id: str, referral_code: str, day: date, secret: bytes) -> str:
    """The code a member shows on ``day`` (a local date)."""
    return referral_code + _tag(member_id, day, secret)


def read_member_code(text: str) -> MemberCode | None:
    """A code as staff typed or scanned it (spaces and dashes ignored, any case), or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", text).upper()
    if not _MEMBER_CODE.match(code):
        return None
    return MemberCode(code[:CODE_LENGTH], code[CODE_LENGTH:])


def local_day(now: datetime, time_zone: str) -> date:
    """The date it is in the programme's time zone."""
    return now.astimezone(ZoneInfo(time_zone)).date()


def days_valid(now: datetime, time_zone: str) -> list[date]:
    """The local dates whose codes are good now: today's, and the day before's during the first hour of a day."""
    local = now.astimezone(ZoneInfo(time_zone))
    today = local.date()
    return [today, today - timedelta(days=1)] if local.time() < GRACE else [today]


def renews_at(now: datetime, time_zone: str) -> datetime:
    """When the next code takes over: the next local midnight (as an aware datetime in that zone)."""
    zone = ZoneInfo(time_zone)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=zone)


def code_is_valid(code: MemberCode, member_id: str, referral_code: str, now: datetime, time_zone: str,
                  secret: bytes) -> bool:
    """Whether ``code`` is a current code of the member with this id and referral code (constant-time per tag)."""
    if code.referral_code != referral_code:
        return False
    found = False
    for day in days_valid(now, time_zone):
        found |= hmac.compare_digest(code.tag, _tag(member_id, day, secret))
    return found
