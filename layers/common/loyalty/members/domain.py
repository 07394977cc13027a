"""Members and the referral tree: who they are, the code they share, and their fixed place in the tree.

The referrer is fixed once, at sign-up, and must already be a member. A new member cannot be anybody's
ancestor yet, so neither self-referral nor a cycle can ever be written: the tree is acyclic by
construction, not by a check that could race.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalty.ledger.accounts import BalanceView
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.errors import LoyaltyError, ValidationProblem
from loyalty.shared.money import BPS

MAX_LEVELS = 10  # the deepest ancestor a member's path keeps (and so the most levels a programme can credit)

# Crockford-like alphabet without the characters people misread (0/O, 1/I/L) or that spell words (U).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8  # 30^8 ≈ 6.6e11 codes: ~39 bits, unguessable at any plausible guessing rate
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


class MemberExists(LoyaltyError):
    slug, status, title = "member-exists", 409, "Already a member"


class UnknownReferralCode(LoyaltyError):
    slug, status, title = "unknown-referral-code", 422, "Unknown referral code"


class EmailNotVerified(LoyaltyError):
    slug, status, title = "email-not-verified", 422, "Email not verified"


def member_email(verified: str | None, requested: str | None) -> str:
    """The email a new member gets: the one Cognito verified (the token's ``email``), never one the request
    names. A requested address that differs from it (ignoring case), or no verified address, is refused:
    otherwise anyone could sign up with somebody else's address and have the shop write to them."""
    if verified is None:
        raise EmailNotVerified("This sign-in has no verified email address: verify it with the app, then sign in "
                               "again.")
    if requested is not None and requested.casefold() != verified.casefold():
        raise EmailNotVerified("The email must be the address this sign-in verified (ignoring case); send that "
                               "one.")
    return verified


def referral_link(base: str, code: str) -> str:
    """The link a member shares: ``<base>/r/<code>``."""
    return f"{base.rstrip('/')}/r/{code}"


def new_referral_code() -> str:
    """A fresh random code from a cryptographic source."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_unsubscribe_id() -> str:
    """What a member's unsubscribe links name instead of their id: 16 random bytes, base64url (22 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("=")


def normalize_referral_code(text: str) -> str | None:
    """The canonical form of a code as a person typed it, or None if it cannot be a code."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if CODE_PATTERN.match(code) else None


@dataclass(frozen=True)
class ReferralPath:
    """A member's ancestors, nearest first (index 0 = level 1), at most MAX_LEVELS long.

    Stored with the member at sign-up, so crediting a purchase needs no walk up the tree.
    """

    ancestors: tuple[str, ...] = ()

    @classmethod
    def below(cls, referrer_id: str, referrer_path: ReferralPath) -> ReferralPath:
        """The path of a new member whose referrer is ``referrer_id``."""
        return cls((referrer_id, *referrer_path.ancestors)[:MAX_LEVELS])

    @property
    def referrer_id(self) -> str | None:
        return self.ancestors[0] if self.ancestors else None


PARTNER_HOLDER_PREFIX = "partner#"  # member ids cannot contain "#": a partner's chain never meets a member's


def partner_holder(partner_id: str) -> str:
    """The holder a partner's chain (its ``commission``) is kept under on the ledger."""
    return f"{PARTNER_HOLDER_PREFIX}{partner_id}"


def partner_of_holder(holder: str) -> str | None:
    """The partner whose chain this holder is, or None (a member's)."""
    return holder.removeprefix(PARTNER_HOLDER_PREFIX) if holder.startswith(PARTNER_HOLDER_PREFIX) else None


@dataclass(frozen=True)
class LinkTarget:
    """What a link code names, as sign-up needs it: a member (the referrer) or a partner and its terms."""

    code: str
    member_id: str | None = None
    partner_id: str | None = None
    commission_bps: int = 0
    attribution_days: int = 0
    campaign: str | None = None
    sub_id: str | None = None
    partner_email: str | None = None  # screening: a partner signing up through its own link


class InvalidClickId(LoyaltyError):
    slug, status, title = "invalid-click-id", 422, "Invalid click id"


@dataclass(frozen=True)
class PartnerBinding:
    """A member who signed up through a partner's link: bound to that partner once, at sign-up, with the terms the
    partner had then (its commission rate and attribution window: a partner's later change of terms applies to the
    members it brings from then on, as affiliate programmes do, and a purchase reads no partner to be credited)."""

    partner_id: str
    bound_at: str  # RFC 3339: the sign-up
    commission_bps: int
    attribution_ends_at: str  # RFC 3339: purchases that occur before it earn the partner a commission
    code: str  # the link signed up through (the report counts its sign-ups, purchases and revenue)
    campaign: str | None = None
    sub_id: str | None = None
    click_id: str | None = None

    @property
    def holder(self) -> str:
        return partner_holder(self.partner_id)

    def commission(self, amount_minor: int, occurred_at: datetime) -> int:
        """What a purchase of ``amount_minor`` occurring at ``occurred_at`` earns the partner: floor(amount × rate),
        within the window (from the binding, before its end), else nothing."""
        if not parse_rfc3339(self.bound_at) <= occurred_at < parse_rfc3339(self.attribution_ends_at):
            return 0
        return amount_minor * self.commission_bps // BPS

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PartnerBinding:
        return cls(partner_id=str(data["partner_id"]), bound_at=str(data["bound_at"]),
                   commission_bps=int(str(data["commission_bps"])),
                   attribution_ends_at=str(data["attribution_ends_at"]), code=str(data["code"]),
                   **{k: str(data[k]) for k in ("campaign", "sub_id", "click_id") if data.get(k) is not None})


@dataclass(frozen=True)
class Member:
    member_id: str
    email: str
    display_name: str
    referral_code: str
    path: ReferralPath
    joined_at: str
    locale: str
    marketing_opt_in: bool
    birthday: str | None = None
    time_zone: str | None = None  # IANA name; None: the default for the member's locale
    notices: bool = True  # account notices such as "your points are available"
    birthday_changed_at: str | None = None  # when it was set: at sign-up or a later change
    phone_number: str | None = None  # E.164, as Cognito verified it
    unsubscribe_id: str | None = None  # what unsubscribe links name instead of the member id (drawn at sign-up)
    opted_in_at: str | None = None  # when marketing was last allowed: links sent before an opt-in no longer work
    partner: PartnerBinding | None = None  # the partner whose link the member signed up through
    # What screening found at sign-up (docs/screening.md): per level of the tree ("1", "2", …) and "partner", each
    # signal the credits there showed and its weight; only where something was found.
    screening: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    lead_id: str | None = None  # the lead (docs/leads.md) this sign-up converted: its submitter is the referrer
    lead_awards: int = 0  # 1 once the first purchase decided the submitter's lead_converted action

    @property
    def referrer_id(self) -> str | None:
        return self.path.referrer_id


@dataclass(frozen=True)
class Referee:
    """A member as their ancestor sees them in the referral tree."""

    member_id: str
    display_name: str
    joined_at: str
    level: int


@dataclass(frozen=True)
class MemberView:
    """A member, the link they share, and their balances at an instant, by asset."""

    member: Member
    referral_link: str
    balances: Mapping[str, BalanceView]
    # Stored value's currency (the programme's), where the balances have it: read only when shown, so a function that
    # reads a member without showing its balances (the ledger's, preferences') never reads the programme.
    currency_of: Callable[[], str] | None = None

    @property
    def currency(self) -> str | None:
        return self.currency_of() if self.currency_of is not None else None
    # The bundle cards with uses left (bundles.domain.CardView), read when a member read shows them; None: the
    # account holds no card (nothing to read)
    bundles: Callable[[], Sequence[Any]] | None = None
    # The member's tier and statuses (tiers.domain.TierView) on a member read; None: the programme has neither
    standing: Any = None
    # The member's segment (segments.domain.Segment) on a member read where segments are kept (docs/segments.md)
    segment: Any = None


@dataclass(frozen=True)
class ReferralSummary:
    member: Member
    referral_link: str
    levels: dict[int, int]  # level → members at it
    direct: list[Referee]
    points_from_referrals: int


def check_profile(birthday: str | None, time_zone: str | None, now: datetime) -> None:
    """A birthday cannot be in the future; a time zone must be one the IANA database knows."""
    if birthday and birthday > now.date().isoformat():
        raise ValidationProblem("birthday is in the future", loc=["body", "birthday"])
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # 3.11/3.12: a directory ("America") is an OSError
            raise ValidationProblem(f"Unknown time zone {time_zone!r}.", loc=["body", "time_zone"]) from None
