"""Partners and referral links: who shares a link, the code it carries and its checks, the click it counts.

A link code is 15 characters of the referral codes' alphabet (no 0/O, 1/I/L, U)::

    K7Q2M9XDHT  4F7H  R
    random      tag   check

- 10 random characters (``secrets``): 30^10 ≈ 5.9 × 10^14 codes, unguessable;
- a 4-character tag, an HMAC-SHA256 of the random part under a key only the service holds (the Secrets Manager
  secret ``LinkSecret``): a code nobody issued passes it with a chance of 1 in 30^4 (810,000);
- a check character that makes the weighted sum of all 15 values (weights 1…15) a multiple of 31. 31 is prime
  and larger than the alphabet, so every single-character substitution and every swap of two neighbours changes
  the sum: a typo is always caught, whatever the key. (A check value of 30 has no character: such a draw is
  drawn again, 1 in 31.)

A code is checked before anything is looked up: a mistyped or forged one costs no read. Members' referral codes
(8 characters, from sign-up) carry no check and are looked up as before.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from loyalty.members.domain import CODE_ALPHABET, CODE_PATTERN

RANDOM_LENGTH = 10
TAG_LENGTH = 4
LINK_CODE_LENGTH = RANDOM_LENGTH + TAG_LENGTH + 1  # 15: within the contract's 16
CHECK_MODULUS = 31  # prime, above the alphabet's 30 values
_VALUE = {c: i for i, c in enumerate(CODE_ALPHABET)}
_LINK_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{LINK_CODE_LENGTH}}}$")
CODE_PURPOSE = b"loyalty-ledger/link-code/v1\x00"
CLICK_PURPOSE = b"loyalty-ledger/click-id/v1\x00"
VISITOR_PURPOSE = b"loyalty-ledger/visitor/v1\x00"
VISITOR_LENGTH = 16  # 30^16 ≈ 4.3e23
_CLICK_ID = re.compile(rf"^([{CODE_ALPHABET}]{{8,16}})\.(\d{{8}})\.([{CODE_ALPHABET}]{{{VISITOR_LENGTH}}})\."
                       r"([A-Za-z0-9_-]{22})$")

PARTNER, MEMBER = "partner", "member"  # who owns a link
LOCALES = ("zh-CN", "en")  # what the landing page speaks

Secret = Callable[[], bytes]  # the HMAC key, read on first use


@dataclass(frozen=True)
class Partner:
    """Somebody who is paid a commission for the customers their links bring (not a member)."""

    partner_id: str
    name: str
    email: str
    commission_bps: int  # 0..10000 of a purchase's amount
    attribution_days: int  # 1..365 after sign-up
    created_at: str


@dataclass(frozen=True)
class Owner:
    type: str  # "partner" | "member"
    id: str


@dataclass(frozen=True)
class Link:
    """A link as its owner sees it."""

    code: str
    link_id: str
    owner: Owner
    campaign: str | None
    sub_id: str | None
    created_at: str
    url: str
    qr_svg: str  # where the QR code of ``url`` is, as SVG (print) …
    qr_png: str  # … and as PNG (chat apps)
    disclosure: str  # what its owner must show next to it (the default locale's text)
    disclosures: dict[str, str] = field(default_factory=dict)  # every locale's


@dataclass(frozen=True)
class ResolvedLink:
    """What a code stands for: the owner a sign-up through it is credited to."""

    code: str  # canonical code
    owner_type: str  # "partner" | "member"
    owner_id: str  # partner_id or member_id
    campaign: str | None
    sub_id: str | None
    partner: Partner | None  # the partner (commission_bps, attribution_days) when owner_type == "partner"


# FTC 16 CFR 255.5: a material connection is disclosed clearly, next to the endorsement.
DEFAULT_DISCLOSURES: dict[str, dict[str, str]] = {
    PARTNER: {"en": "I earn a commission if you buy through this link.",
              "zh-CN": "通过此链接购买，我会获得佣金。"},
    MEMBER: {"en": "I get reward points if you join and buy through this link.",
             "zh-CN": "通过此链接注册并购买，我会获得积分奖励。"},
}


@dataclass(frozen=True)
class LinkSettings:
    """What link owners must disclose, by owner type and locale (an admin sets it; these defaults ship)."""

    disclosures: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: DEFAULT_DISCLOSURES)

    def disclosure(self, owner_type: str, locale: str) -> str:
        """The owner type's text in ``locale``, else in English, else any."""
        texts = self.disclosures.get(owner_type) or DEFAULT_DISCLOSURES[owner_type]
        return texts.get(locale) or texts.get("en") or next(iter(texts.values()))


# --- codes -------------------------------------------------------------------------------------------

def _digits(digest: bytes, count: int) -> str:
    number = int.from_bytes(digest, "big")  # 2^256 over 30^count: no bias worth the name
    chars = []
    for _ in range(count):
        number, digit = divmod(number, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "".join(chars)


def _tag(random_part: str, secret: bytes) -> str:
    return _digits(hmac.new(secret, CODE_PURPOSE + random_part.encode(), hashlib.sha256).digest(), TAG_LENGTH)


def _weighted_sum(text: str) -> int:
    return sum(weight * _VALUE[c] for weight, c in enumerate(text, start=1)) % CHECK_MODULUS


def _check_value(body: str) -> int:
    """The value the last character must have for the whole code's weighted sum to be 0 mod 31."""
    weight = len(body) + 1
    # weight × v ≡ −sum (mod 31): multiply by the inverse of the weight
    return (-_weighted_sum(body) * pow(weight, -1, CHECK_MODULUS)) % CHECK_MODULUS


def new_link_code(secret: bytes, draw: Callable[[], str] | None = None) -> str:
    """A fresh link code: random part, its tag under ``secret``, and the check character."""
    draw = draw or (lambda: "".join(secrets.choice(CODE_ALPHABET) for _ in range(RANDOM_LENGTH)))
    while True:
        body = (random_part := draw()) + _tag(random_part, secret)
        value = _check_value(body)
        if value < len(CODE_ALPHABET):
            return body + CODE_ALPHABET[value]


def canonical(text: str) -> str:
    """A code as a person typed it: spaces and dashes left out, upper case."""
    return re.sub(r"[\s-]", "", text).upper()


def is_typo_free(code: str) -> bool:
    """Whether a canonical link code's check character holds (no key needed)."""
    return bool(_LINK_CODE.match(code)) and _weighted_sum(code) == 0


def is_link_code(code: str, secret: bytes) -> bool:
    """Whether a canonical code is one this service issued: its check character, then its tag (constant time)."""
    if not is_typo_free(code):
        return False
    random_part, tag = code[:RANDOM_LENGTH], code[RANDOM_LENGTH:RANDOM_LENGTH + TAG_LENGTH]
    return hmac.compare_digest(tag, _tag(random_part, secret))


def is_member_code(code: str) -> bool:
    """Whether a canonical code has the shape of a member's referral code (8 characters, no check)."""
    return bool(CODE_PATTERN.match(code))


def grouped(code: str) -> str:
    """A code as people read it aloud or type it: groups of five (``K7Q2M-9XDHT-4F7HR``); dashes are ignored."""
    return "-".join(code[i:i + 5] for i in range(0, len(code), 5))


# --- clicks ----------------------------------------------------------------------------------------

CLICK_DAYS = 30  # how long a click counts: the click cookie's life, and how old a click id a sign-up accepts


@dataclass(frozen=True)
class ClickId:
    """A click on a link, as the landing page's cookie and the app link carry it: signed, so it cannot be made up."""

    code: str
    day: date  # the programme's local date of the click
    visitor: str  # who clicked: the same across their clicks (from the cookie), never an address

    def signed(self, secret: bytes) -> str:
        body = f"{self.code}.{self.day:%Y%m%d}.{self.visitor}"
        return f"{body}.{_mac(body, secret)}"


def _mac(body: str, secret: bytes) -> str:
    digest = hmac.new(secret, CLICK_PURPOSE + body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def read_click_id(text: str, secret: bytes) -> ClickId | None:
    """The click a signed click id names, or None if it is malformed or its signature does not hold."""
    found = _CLICK_ID.match(text or "")
    if found is None:
        return None
    code, day, visitor, mac = found.groups()
    if not hmac.compare_digest(mac, _mac(f"{code}.{day}.{visitor}", secret)):
        return None
    try:
        when = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        return None
    return ClickId(code, when, visitor)


def visitor_of(day: date, source_ip: str, user_agent: str, secret: bytes) -> str:
    """A visitor without a cookie: a keyed hash of address and user agent, on that day (so it links no two days
    and, without the key, names nobody). The raw address is never stored."""
    message = VISITOR_PURPOSE + day.isoformat().encode() + b"\x00" + source_ip.encode() + b"\x00" + user_agent.encode()
    return _digits(hmac.new(secret, message, hashlib.sha256).digest(), VISITOR_LENGTH)


def local_day(now: datetime, time_zone: str) -> date:
    return now.astimezone(ZoneInfo(time_zone)).date()


@dataclass(frozen=True)
class Offer:
    """What the programme gives, as the landing page says it (from the current programme's rules)."""

    shop_name: str
    points_per_currency_unit: int
    currency: str

    def text(self, locale: str) -> str:
        n, currency = self.points_per_currency_unit, self.currency
        if locale == "zh-CN":
            return f"加入{self.shop_name}会员：每消费 1 {currency}，即得 {n} 积分。"
        points = "point" if n == 1 else "points"
        return f"Join {self.shop_name}'s loyalty programme: earn {n} {points} for every 1 {currency} you spend."


@dataclass(frozen=True)
class Landing:
    """What the landing page of a link shows, and the click it counted."""

    link: ResolvedLink
    click_id: str
    offer: Offer
    disclosure: str
    locale: str
    unique: bool  # the visitor's first click on this link today
