"""Members: who they are, their referral code, and their fixed place in the referral tree."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.referrals import ReferralPath


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
    birthday_changed_at: str | None = None  # set when a member changes it (not at sign-up)

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
