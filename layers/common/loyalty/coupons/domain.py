"""Coupons: templates an admin publishes, single-use coupons issued from them, their use at the till and its void.

A coupon is an instrument, not a balance: its issue and its use are each a record written exactly once (an
``Operation`` keyed by the client's id, in the same transaction as the coupon's own items). How many coupons of a
template a member holds at once is a counter item moved by each issue, use and void under the write's own condition
(docs/wallet.md, "Coupons").
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.errors import LoyaltyError, ValidationProblem

# The members' codes' alphabet: no 0/O, 1/I/L, U. 30 symbols, log2(30) ≈ 4.91 bits each.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 13  # 30^13 ≈ 1.6e19: 63.8 bits from ``secrets``
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
VOID_WINDOW = timedelta(minutes=15)
ISSUE_ON = ("sign_up", "referred_sign_up", "birthday")
ACTIVE, USED, EXPIRED = "active", "used", "expired"


class CouponLimit(LoyaltyError):
    slug, status, title = "coupon-limit", 409, "The member holds as many of these coupons as allowed"


class CouponUsed(LoyaltyError):
    slug, status, title = "coupon-used", 409, "The coupon was already used"


class CouponNotApplicable(LoyaltyError):
    slug, status, title = "coupon-not-applicable", 422, "The coupon does not apply"


class RedemptionVoided(LoyaltyError):
    slug, status, title = "redemption-voided", 409, "This redemption was voided"


class VoidWindowPassed(LoyaltyError):
    slug, status, title = "void-window-passed", 409, "Too late to void this redemption"


@dataclass(frozen=True)
class Template:
    template_id: str
    name: str
    amount_off_minor: int | None
    percent_off_bps: int | None
    max_off_minor: int | None
    min_spend_minor: int
    valid_days: int
    per_member_limit: int | None
    issue_on: str | None

    def __post_init__(self) -> None:
        if (self.amount_off_minor is None) == (self.percent_off_bps is None):
            raise ValidationProblem("Send exactly one of amount_off_minor and percent_off_bps.",
                                    loc=["body", "amount_off_minor"])
        if self.max_off_minor is not None and self.percent_off_bps is None:
            raise ValidationProblem("max_off_minor caps a percentage: send it with percent_off_bps only.",
                                    loc=["body", "max_off_minor"])
        if self.issue_on is not None and self.issue_on not in ISSUE_ON:
            raise ValidationProblem(f"issue_on is null or one of {', '.join(ISSUE_ON)}.", loc=["body", "issue_on"])

    def discount(self, subtotal_minor: int) -> int:
        """What the coupon takes off a subtotal: the fixed amount, or floor(subtotal × bps / 10000) capped by
        ``max_off_minor``; never more than the subtotal. Integers only."""
        if self.amount_off_minor is not None:
            off = self.amount_off_minor
        else:
            off = subtotal_minor * (self.percent_off_bps or 0) // 10_000
            if self.max_off_minor is not None:
                off = min(off, self.max_off_minor)
        return max(0, min(off, subtotal_minor))


@dataclass(frozen=True)
class Coupon:
    coupon_id: str
    code: str
    template_id: str
    member_id: str
    status: str  # as stored: active or used (expired is read from expires_at)
    issued_at: str
    expires_at: str
    used_at: str | None = None
    redemption_id: str | None = None

    def status_at(self, now: datetime) -> str:
        if self.status == ACTIVE and parse_rfc3339(self.expires_at) <= now:
            return EXPIRED
        return self.status


@dataclass(frozen=True)
class CouponView:
    """A coupon as the API shows it: its status at the moment of reading."""

    coupon_id: str
    code: str
    template_id: str
    member_id: str
    status: str
    expires_at: str
    used_at: str | None

    @classmethod
    def of(cls, coupon: Coupon, now: datetime) -> CouponView:
        return cls(coupon.coupon_id, coupon.code, coupon.template_id, coupon.member_id, coupon.status_at(now),
                   coupon.expires_at, coupon.used_at)


@dataclass(frozen=True)
class CouponRedeemed:
    redemption_id: str
    code: str
    discount_minor: int


@dataclass(frozen=True)
class CouponVoided:
    redemption_id: str
    code: str
    voided_at: str


def new_code() -> str:
    """A fresh coupon code: 13 symbols drawn with ``secrets`` (63.8 bits): unguessable, short, unambiguous."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The canonical form of a code as a person typed it (any case, spaces or dashes), or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if CODE_PATTERN.match(code) else None


def coupon_id_for(issue_key: str) -> str:
    """A stable, opaque id for the coupon an issue names (the same for every replay)."""
    return "cpn_" + hashlib.sha256(issue_key.encode()).hexdigest()[:24]


def expiry(now: datetime, valid_days: int) -> str:
    return to_rfc3339(now + timedelta(days=valid_days))


def within_void_window(redeemed_at: str, now: datetime) -> bool:
    return now - parse_rfc3339(redeemed_at) <= VOID_WINDOW


def issue_key(issue_id: str) -> str:
    return f"coupon-issue/{issue_id}"


def redemption_key(redemption_id: str) -> str:
    return f"coupon-redemption/{redemption_id}"


def void_key(redemption_id: str) -> str:
    return f"coupon-void/{redemption_id}"


def auto_issue_id(template_id: str, member_id: str) -> str:
    """The issue id of a template's automatic coupon at sign-up: one per member and template, whatever retries."""
    return f"auto:{template_id}:{member_id}"


def birthday_issue_id(template_id: str, member_id: str, year: int) -> str:
    """One birthday coupon per member, template and year."""
    return f"birthday:{template_id}:{member_id}:{year}"
