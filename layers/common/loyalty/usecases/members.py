"""Membership use cases: signing up under a referrer, reading a member, reading the referral tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalty.clock import Clock, to_rfc3339
from loyalty.errors import MemberExists, NotFound, UnknownReferralCode, ValidationProblem
from loyalty.ledger import BalanceView
from loyalty.members import Member, Referee
from loyalty.ports import CodeTaken, Contention, MemberTaken, NoSuchMember, Store
from loyalty.program import MAX_REFERRAL_LEVELS
from loyalty.referrals import ReferralPath, new_referral_code, normalize_referral_code
from loyalty.usecases.once import RetryPolicy

DIRECT_REFERRALS_SHOWN = 100


@dataclass(frozen=True)
class MemberView:
    member: Member
    balances: BalanceView


@dataclass(frozen=True)
class ReferralSummary:
    member: Member
    levels: dict[int, int]
    direct: list[Referee]
    points_from_referrals: int


class MembershipService:
    def __init__(self, store: Store, clock: Clock, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def sign_up(self, *, member_id: str, email: str, display_name: str, locale: str, marketing_opt_in: bool,
                birthday: str | None, referral_code: str | None, time_zone: str | None = None) -> MemberView:
        """Make the caller a member; the referrer (if any) is fixed here, once, and never changes."""
        _check_profile(birthday, time_zone, self._clock.now())
        drawn: list[str] = []  # the codes this sign-up tried: its own earlier write is recognised by them

        def attempt() -> MemberView:
            existing = self._store.snapshot(members=[member_id]).members.get(member_id)
            if existing is not None:
                if existing.referral_code in drawn:  # our write landed although we did not hear back
                    return MemberView(existing, BalanceView(0, 0, 0, 0))
                raise MemberExists(f"{member_id} is already a member.")
            path = ReferralPath()
            if referral_code is not None:
                code = normalize_referral_code(referral_code)
                referrer_id = self._store.member_id_for_code(code) if code else None
                referrer = self._store.snapshot(members=[referrer_id]).members.get(referrer_id) if referrer_id \
                    else None
                if referrer is None:
                    raise UnknownReferralCode(f"No member has the referral code {referral_code!r}.")
                path = ReferralPath.below(referrer.member_id, referrer.path)
            member = Member(
                member_id=member_id, email=email, display_name=display_name, referral_code=new_referral_code(),
                path=path, joined_at=to_rfc3339(self._clock.now()), locale=locale,
                marketing_opt_in=marketing_opt_in, birthday=birthday, time_zone=time_zone,
            )
            drawn.append(member.referral_code)
            try:
                self._store.create_member(member)
            except (MemberTaken, CodeTaken):
                # Taken by whom? Read again: our own earlier try, another sign-up, or (a code) draw again.
                raise Contention(member_id) from None
            return MemberView(member, BalanceView(0, 0, 0, 0))

        view: MemberView = self._retry.run(attempt)
        return view

    def update_preferences(self, member_id: str, changes: dict[str, Any]) -> Member:
        """Change what the member allows and how to reach them: consent, notices, locale, time zone, birthday.

        A changed birthday is remembered with the time of the change, so a fresh change cannot
        trigger a birthday greeting at once.
        """
        member = self.get(member_id).member
        now = self._clock.now()
        fields: dict[str, Any] = {}
        _check_profile(changes.get("birthday"), changes.get("time_zone"), now)
        for name in ("locale", "time_zone", "notices", "marketing_opt_in"):
            if name in changes and changes[name] is not None:
                fields[name] = changes[name]
        if changes.get("birthday") and changes["birthday"] != member.birthday:
            fields.update(birthday=changes["birthday"], birthday_changed_at=to_rfc3339(now))
        if fields:
            try:
                self._retry.run(lambda: self._store.update_member(member_id, fields))  # a SET: safe to repeat
            except NoSuchMember:
                raise NotFound(f"No member {member_id}.") from None
        return self.get(member_id).member

    def get(self, member_id: str) -> MemberView:
        snap = self._retry.run(lambda: self._store.snapshot(members=[member_id], accounts=[member_id]))
        member = snap.members.get(member_id)
        if member is None:
            raise NotFound(f"No member {member_id}.")
        return MemberView(member, snap.accounts[member_id].view(self._clock.now()))

    def referrals(self, member_id: str) -> ReferralSummary:
        view = self.get(member_id)
        counts = self._retry.run(lambda: self._store.referee_counts(member_id))
        return ReferralSummary(
            member=view.member,
            levels={level: counts[level] for level in range(1, MAX_REFERRAL_LEVELS + 1) if counts.get(level)},
            direct=self._retry.run(lambda: self._store.referees(member_id, level=1, limit=DIRECT_REFERRALS_SHOWN)),
            points_from_referrals=view.balances.from_referrals,
        )


def _check_profile(birthday: str | None, time_zone: str | None, now: datetime) -> None:
    """A birthday cannot be in the future; a time zone must be one the IANA database knows."""
    if birthday and birthday > now.date().isoformat():
        raise ValidationProblem("birthday is in the future", loc=["body", "birthday"])
    if time_zone is not None:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # 3.11/3.12: a directory ("America") is an OSError
            raise ValidationProblem(f"Unknown time zone {time_zone!r}.", loc=["body", "time_zone"]) from None
