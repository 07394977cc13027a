"""At the counter: staff find a member (by email, phone, referral code or the code on the member's card) and
check that the member is there; the member shows their card."""

from __future__ import annotations

from loyalty.counter.domain import (
    Card,
    MemberCodeInvalid,
    Secret,
    code_is_valid,
    local_day,
    member_code,
    read_member_code,
    renews_at,
)
from loyalty.identity.domain import normalize_phone
from loyalty.members.domain import Member, MemberView, normalize_referral_code
from loyalty.members.store import MemberStore
from loyalty.members.usecases import MembershipService
from loyalty.shared.clock import Clock
from loyalty.shared.errors import ValidationProblem
from loyalty.shared.once import RetryPolicy

LOOK_UPS = ("email", "phone", "referral_code", "member_code")


class CounterService:
    def __init__(self, store: MemberStore, members: MembershipService, clock: Clock, secret: Secret,
                 time_zone: str, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._members = members
        self._clock = clock
        self._secret = secret
        self._time_zone = time_zone
        self._retry = retry or RetryPolicy()

    def card(self, member_id: str) -> Card:
        """Today's member code of the member (``NotFound`` before sign-up)."""
        member = self._members.get(member_id).member
        now = self._clock.now()
        code = member_code(member.member_id, member.referral_code, local_day(now, self._time_zone), self._secret())
        return Card(code, renews_at(now, self._time_zone))

    def find(self, query: dict[str, str | None]) -> list[MemberView]:
        """The members one look-up matches: exactly one of ``email`` (any case), ``phone`` (any format
        ``normalize_phone`` reads), ``referral_code`` or ``member_code`` (a current one). Several or none given is
        a ``ValidationProblem``; a value that names nobody is an empty list."""
        given = {name: value for name, value in query.items() if value is not None}
        if len(given) != 1 or set(given) - set(LOOK_UPS):
            raise ValidationProblem(f"Give exactly one of {', '.join(LOOK_UPS)} (got {len(given)}).",
                                    loc=["query", *sorted(given)])
        [(name, value)] = given.items()
        return self._members.views(self._retry.run(lambda: self._matches(name, value)))

    def _matches(self, name: str, value: str) -> list[str]:
        if name == "email":
            email = value.strip()
            return self._store.member_ids_by_email(email) if "@" in email else []  # no address: nobody's
        if name == "phone":
            phone = normalize_phone(value)
            if phone is None:
                raise ValidationProblem(f"{value!r} is not a phone number.", loc=["query", "phone"])
            return self._store.member_ids_by_phone(phone)
        if name == "referral_code":
            code = normalize_referral_code(value)
            found = self._store.member_id_for_code(code) if code else None
            return [found] if found else []
        member = self.member_for_code(value)
        return [member.member_id] if member else []

    def member_for_code(self, text: str) -> Member | None:
        """The member whose current member code this is, or None (malformed, mistyped, stale or forged)."""
        code = read_member_code(text)
        member_id = self._store.member_id_for_code(code.referral_code) if code else None
        member = self._store.members([member_id]).get(member_id) if member_id else None
        if code is None or member is None or not self.is_current(member, text):
            return None
        return member

    def is_current(self, member: Member, text: str) -> bool:
        """Whether ``text`` is a current member code of ``member``."""
        code = read_member_code(text)
        return code is not None and code_is_valid(code, member.member_id, member.referral_code, self._clock.now(),
                                                  self._time_zone, self._secret())

    def check_present(self, member: Member, text: str) -> None:
        """``MemberCodeInvalid`` unless ``text`` is ``member``'s current code (the proof they are at the till)."""
        if not self.is_current(member, text):
            raise MemberCodeInvalid("This is not the member's current member code: ask them to show their card "
                                    "again (codes change every day).")
