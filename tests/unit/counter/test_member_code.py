"""Member codes: short, in the referral codes' alphabet, one per member and local day, the day before's good for
the first hour of a day, and any typo refused."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.counter.domain import (
    MEMBER_CODE_LENGTH,
    MemberCode,
    code_is_valid,
    days_valid,
    local_day,
    member_code,
    read_member_code,
    renews_at,
)
from loyalty.members.domain import CODE_ALPHABET

SECRET = b"k" * 48
SHANGHAI = "Asia/Shanghai"
REFERRAL = "K7Q2M9XD"


def valid(text: str, now: datetime, member_id: str = "dan", referral: str = REFERRAL, secret: bytes = SECRET) -> bool:
    code = read_member_code(text)
    return code is not None and code_is_valid(code, member_id, referral, now, SHANGHAI, secret)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_a_code_is_the_referral_code_and_a_tag_in_the_same_alphabet_at_most_16_characters() -> None:
    code = member_code("dan", REFERRAL, date(2026, 11, 30), SECRET)
    assert len(code) == MEMBER_CODE_LENGTH == 15 <= 16
    assert code.startswith(REFERRAL) and set(code) <= set(CODE_ALPHABET)
    assert code == member_code("dan", REFERRAL, date(2026, 11, 30), SECRET)  # no state: recomputed to check


def test_codes_differ_by_member_day_and_secret() -> None:
    day = date(2026, 11, 30)
    codes = {member_code("dan", REFERRAL, day, SECRET), member_code("bob", REFERRAL, day, SECRET),
             member_code("dan", REFERRAL, date(2026, 12, 1), SECRET), member_code("dan", REFERRAL, day, b"x" * 48)}
    assert len(codes) == 4


def test_days_are_local_to_the_programmes_time_zone() -> None:
    # 16:30 UTC is 00:30 the next day in Shanghai (UTC+8)
    assert local_day(at("2026-11-30T16:30:00+00:00"), SHANGHAI) == date(2026, 12, 1)
    assert local_day(at("2026-11-30T15:59:59+00:00"), SHANGHAI) == date(2026, 11, 30)
    assert renews_at(at("2026-11-30T09:00:00+00:00"), SHANGHAI).astimezone(UTC) == at("2026-11-30T16:00:00+00:00")


def test_the_day_befores_code_is_good_for_one_hour_past_local_midnight() -> None:
    yesterday = member_code("dan", REFERRAL, date(2026, 11, 30), SECRET)
    today = member_code("dan", REFERRAL, date(2026, 12, 1), SECRET)
    assert valid(yesterday, at("2026-11-30T15:59:59+00:00"))  # 23:59:59 local
    assert not valid(today, at("2026-11-30T15:59:59+00:00"))  # tomorrow's is not good yet
    assert valid(yesterday, at("2026-11-30T16:59:59+00:00"))  # 00:59:59 local
    assert valid(today, at("2026-11-30T16:00:00+00:00"))
    assert not valid(yesterday, at("2026-11-30T17:00:00+00:00"))  # 01:00 local: stale
    assert valid(today, at("2026-11-30T17:00:00+00:00"))
    assert days_valid(at("2026-11-30T16:30:00+00:00"), SHANGHAI) == [date(2026, 12, 1), date(2026, 11, 30)]
    assert days_valid(at("2026-11-30T17:00:00+00:00"), SHANGHAI) == [date(2026, 12, 1)]


def test_a_code_of_two_days_ago_another_member_or_another_key_is_refused() -> None:
    now = at("2026-11-30T09:00:00+00:00")  # 17:00 local
    assert valid(member_code("dan", REFERRAL, date(2026, 11, 30), SECRET), now)
    assert not valid(member_code("dan", REFERRAL, date(2026, 11, 29), SECRET), now)
    assert not valid(member_code("bob", REFERRAL, date(2026, 11, 30), SECRET), now)  # bob's tag on dan's code
    assert not valid(member_code("dan", REFERRAL, date(2026, 11, 30), b"x" * 48), now)
    assert not valid(member_code("dan", REFERRAL, date(2026, 11, 30), SECRET), now, referral="ABCDEFGH")


def test_staff_may_type_it_with_spaces_dashes_and_in_lower_case() -> None:
    code = member_code("dan", REFERRAL, date(2026, 11, 30), SECRET)
    typed = f"{code[:4].lower()} {code[4:8]}-{code[8:]}"
    assert read_member_code(typed) == MemberCode(REFERRAL, code[8:])
    assert valid(typed, at("2026-11-30T09:00:00+00:00"))


@pytest.mark.parametrize("text", ["", "K7Q2M9XD", "K7Q2M9XD123456", "K7Q2M9XD4F7H2K9Z", "K7Q2M9XD0F7H2K9",
                                  "K7Q2M9XDOF7H2K9", "K7Q2M9XD4F7H2KU", "K7Q2M9XD4F7H2K\u0399"])
def test_what_cannot_be_a_code_is_not_read(text: str) -> None:
    assert read_member_code(text) is None


@given(position=st.integers(0, MEMBER_CODE_LENGTH - 1), replacement=st.sampled_from(CODE_ALPHABET))
def test_any_one_character_typo_is_refused(position: int, replacement: str) -> None:
    code = member_code("dan", REFERRAL, date(2026, 11, 30), SECRET)
    typo = code[:position] + replacement + code[position + 1:]
    if typo != code:
        assert not valid(typo, at("2026-11-30T09:00:00+00:00"))
