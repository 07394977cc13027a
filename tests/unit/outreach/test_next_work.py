"""When the dispatcher's scheduled jobs next have work: the pure windows (plans) and the planner's answer
(``OutreachPlanner.next_work``) over an in-memory store. The local runner skips the slots before it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.outreach.planning import OutreachPlanner
from loyalty.outreach.plans import (
    Holiday,
    birthday_days,
    birthday_keys_of,
    birthday_window,
    plan_birthday,
)
from loyalty.outreach.policy import OutreachSettings
from loyalty.shared.clock import to_rfc3339

SETTINGS = OutreachSettings()
T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
ZONES = ["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Santiago",
         "Asia/Kathmandu", "Europe/London", "UTC"]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# --- birthday windows ----------------------------------------------------------------------------

def test_a_birthday_window_is_the_local_day_in_utc() -> None:
    window = birthday_window("1990-11-24", None, "Asia/Shanghai", T0, SETTINGS)
    assert window is not None
    assert (window.day, window.start, window.end) == (date(2026, 11, 24), at("2026-11-23T16:00:00+00:00"),
                                                      at("2026-11-24T16:00:00+00:00"))
    window = birthday_window("1990-11-24", None, "America/New_York", T0, SETTINGS)
    assert window is not None and (window.start, window.end) == (at("2026-11-24T05:00:00+00:00"),
                                                                 at("2026-11-25T05:00:00+00:00"))


def test_a_window_under_way_is_returned_until_it_ends_then_next_years() -> None:
    during = birthday_window("1990-11-23", None, "Asia/Shanghai", T0, SETTINGS)  # 17:30 on the 23rd there
    assert during is not None and during.start < T0 < during.end and during.day == date(2026, 11, 23)
    after = birthday_window("1990-11-23", None, "Asia/Shanghai", during.end, SETTINGS)
    assert after is not None and after.day == date(2027, 11, 23)


def test_leap_day_birthdays_are_on_28_february_in_common_years() -> None:
    common = birthday_window("2000-02-29", None, "UTC", T0, SETTINGS)
    assert common is not None and common.day == date(2027, 2, 28)
    leap = birthday_window("2000-02-29", None, "UTC", at("2028-01-01T00:00:00+00:00"), SETTINGS)
    assert leap is not None and leap.day == date(2028, 2, 29)
    assert birthday_keys_of(date(2027, 2, 28)) == ["02-28", "02-29"]
    assert birthday_keys_of(date(2028, 2, 28)) == ["02-28"]
    assert birthday_keys_of(date(2028, 2, 29)) == ["02-29"]


def test_a_changed_birthday_starts_once_it_has_settled_or_waits_a_year() -> None:
    # Changed at T0 to the 1st of December: 30 days have not passed by then, so next year.
    skipped = birthday_window("1985-12-01", to_rfc3339(T0), "Asia/Shanghai", T0, SETTINGS)
    assert skipped is not None and skipped.day == date(2027, 12, 1)
    # Changed so that it settles during the day: the window starts then.
    changed = at("2026-10-24T03:00:00+00:00")  # settles 2026-11-23T03:00Z, 11:00 on the 23rd in Shanghai
    shrunk = birthday_window("1990-11-23", to_rfc3339(changed), "Asia/Shanghai", at("2026-11-22T00:00:00+00:00"),
                             SETTINGS)
    assert shrunk is not None and shrunk.start == at("2026-11-23T03:00:00+00:00")
    assert shrunk.end == at("2026-11-23T16:00:00+00:00")


@given(zone=st.sampled_from(ZONES), birthday=st.dates(date(1950, 1, 1), date(2010, 12, 31)),
       offset=st.integers(-400 * 86400, 400 * 86400),
       changed=st.one_of(st.none(), st.integers(-60 * 86400, 0)))
def test_plan_birthday_plans_exactly_inside_the_window(zone: str, birthday: date, offset: int,
                                                        changed: int | None) -> None:
    now = T0 + timedelta(seconds=offset)
    changed_at = to_rfc3339(now + timedelta(seconds=changed)) if changed is not None else None
    window = birthday_window(birthday.isoformat(), changed_at, zone, now, SETTINGS)
    assert window is not None and window.end > now
    planned = plan_birthday("m", birthday.isoformat(), changed_at, zone, now, SETTINGS)
    assert (planned is not None) == (window.start <= now)
    if planned is not None:
        assert planned.occasion == str(window.day.year)
    for moment in (window.start - timedelta(seconds=1), window.start, window.end - timedelta(seconds=1), window.end):
        inside = plan_birthday("m", birthday.isoformat(), changed_at, zone, moment, SETTINGS) is not None
        assert inside == (window.start <= moment < window.end), (moment, window)


def test_the_days_to_look_at_cover_every_time_zone() -> None:
    days = birthday_days(T0, T0 + timedelta(days=2))
    assert days[0] <= (T0 - timedelta(hours=37)).date() and days[-1] >= (T0 + timedelta(days=2, hours=14)).date()
    assert days == sorted(days) and len(days) == len(set(days))


# --- holidays -----------------------------------------------------------------------------------

@given(offset=st.integers(-3 * 86400, 3 * 86400))
def test_a_holidays_window_is_when_it_may_have_started(offset: int) -> None:
    holiday = Holiday("h", "2026-11-25", {"en": "H"})
    start, end = holiday.window()
    assert (start, end) == (at("2026-11-24T10:00:00+00:00"), at("2026-11-26T12:00:00+00:00"))
    now = start + timedelta(seconds=offset)
    assert holiday.may_have_started(now) == (start <= now < end)


# --- the planner's answer --------------------------------------------------------------------------

class Store:
    """The part of OutreachStore next_work reads."""

    optin_shards = 1

    def __init__(self) -> None:
        self.due_at: datetime | None = None
        self.holiday_list: list[Holiday] = []
        self.started: set[str] = set()
        self.members: list[dict[str, Any]] = []
        self.logs: set[tuple[str, str, str]] = set()
        self.queries: list[str] = []

    def next_due(self) -> datetime | None:
        return self.due_at

    def holidays(self) -> list[Holiday]:
        return self.holiday_list

    def fanout_started(self, key: str) -> bool:
        return key in self.started

    def settings(self) -> OutreachSettings:
        return SETTINGS

    def birthdays(self, month_day: str) -> Iterator[dict[str, Any]]:
        self.queries.append(month_day)
        yield from (m for m in self.members if m["birthday"][5:] == month_day)

    def log(self, member_id: str, kind: str, occasion: str) -> dict[str, Any] | None:
        return {"status": "sent"} if (member_id, kind, occasion) in self.logs else None


@pytest.fixture
def store() -> Store:
    return Store()


def planner(store: Store) -> OutreachPlanner:
    return OutreachPlanner(store, None, None, None, None)  # type: ignore[arg-type]


def test_nothing_to_do(store: Store) -> None:
    assert planner(store).next_work(T0, T0 + timedelta(days=365)) is None


def test_due_reminders_are_work_when_they_are_due_or_at_once_when_overdue(store: Store) -> None:
    store.due_at = T0 + timedelta(days=2)
    assert planner(store).next_work(T0, T0 + timedelta(days=3), "due") == store.due_at
    assert planner(store).next_work(T0, T0 + timedelta(days=1), "due") is None
    assert planner(store).next_work(T0, T0 + timedelta(days=3), "calendar") is None
    store.due_at = T0 - timedelta(hours=1)
    assert planner(store).next_work(T0, T0 + timedelta(days=1)) == T0


def test_a_holiday_is_work_from_when_it_may_have_started_until_its_fan_out_has(store: Store) -> None:
    store.holiday_list = [Holiday("h", "2026-11-25", {"en": "H"})]
    begins = at("2026-11-24T10:00:00+00:00")
    assert planner(store).next_work(T0, T0 + timedelta(days=3), "calendar") == begins
    assert planner(store).next_work(T0, T0 + timedelta(days=3), "due") is None
    assert planner(store).next_work(T0, begins - timedelta(seconds=1)) is None
    assert planner(store).next_work(begins + timedelta(hours=1), begins + timedelta(days=3)) == \
        begins + timedelta(hours=1)  # under way, not fanned out yet
    store.started.add("HOLIDAY#h")
    assert planner(store).next_work(T0, T0 + timedelta(days=3)) is None


def test_a_birthday_is_work_when_it_begins_where_the_member_lives(store: Store) -> None:
    store.members = [{"member_id": "ny", "birthday": "1990-12-24", "time_zone": "America/New_York"},
                     {"member_id": "li", "birthday": "1990-12-24", "locale": "zh-CN"},  # Shanghai by locale
                     {"member_id": "mo", "birthday": "1990-12-20", "time_zone": "Asia/Shanghai",
                      "birthday_changed_at": to_rfc3339(T0)}]  # not settled by the 20th
    assert planner(store).next_work(T0, T0 + timedelta(days=365)) == at("2026-12-23T16:00:00+00:00")  # li
    assert planner(store).next_work(at("2026-12-23T16:00:00+00:00"), T0 + timedelta(days=365)) == \
        at("2026-12-23T16:00:00+00:00")  # under way, not planned yet
    store.logs.add(("li", "birthday", "2026"))
    assert planner(store).next_work(at("2026-12-23T16:00:00+00:00"), T0 + timedelta(days=365)) == \
        at("2026-12-24T05:00:00+00:00")  # ny
    assert planner(store).next_work(T0, at("2026-12-23T15:59:59+00:00")) is None


def test_a_birthday_planned_already_is_work_again_next_year(store: Store) -> None:
    store.members = [{"member_id": "li", "birthday": "1990-11-23", "time_zone": "Asia/Shanghai"}]  # today there
    assert planner(store).next_work(T0, T0 + timedelta(days=730)) == T0  # under way, not planned yet
    store.logs.add(("li", "birthday", "2026"))
    assert planner(store).next_work(T0, T0 + timedelta(days=730)) == at("2027-11-22T16:00:00+00:00")
    assert planner(store).next_work(T0, T0 + timedelta(days=300)) is None


def test_looking_for_birthdays_stops_at_the_first_day_with_one(store: Store) -> None:
    store.members = [{"member_id": "li", "birthday": "1990-12-01", "time_zone": "Asia/Shanghai"}]
    assert planner(store).next_work(T0, T0 + timedelta(days=365)) == at("2026-11-30T16:00:00+00:00")
    assert len(store.queries) < 15  # from two days before T0 to a day after the 1st of December, not a year
