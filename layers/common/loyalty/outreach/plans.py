"""Which reminders an event plans: a purchase, a birthday coming round, a holiday, a campaign."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.entries import Entry
from loyalty.ledger.expiry import Expiry, last_day, policy_of
from loyalty.outreach.policy import BIRTHDAY_SETTLING, OutreachSettings, Reminder, ReminderKind, zone
from loyalty.purchases.domain import PurchaseRecord
from loyalty.shared.clock import parse_rfc3339

MAX_GUIDES = 3  # guides an email carries at most (the first items' of the order): an email stays short


@dataclass(frozen=True)
class Guide:
    """How to use a product, in one language: plain text the shop writes (never HTML), and an optional https link."""

    title: str
    text: str
    link: str | None = None


@dataclass(frozen=True)
class ReplacementRule:
    """What the shop says about a product (by SKU) or a whole category: that it is due for replacement after some
    days, a usage guide per language sent with the thank-you and the check-in, or both (docs/reminders.md)."""

    interval_days: int | None = None
    sku: str | None = None
    category: str | None = None
    name: str | None = None
    guide: dict[str, Guide] = field(default_factory=dict)  # locale -> guide

    def matches(self, item: dict[str, Any]) -> bool:
        if self.sku is not None:
            return bool(item.get("sku") == self.sku)
        return self.category is not None and item.get("category") == self.category

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> ReplacementRule:
        """A rule as ``asdict`` or its HTTP model wrote it (a rule saved before guides existed has none; a language
        given as null has none)."""
        guide = {locale: Guide(**g) for locale, g in (stored.get("guide") or {}).items() if g}
        return cls(**{**stored, "guide": guide})


def _most_specific(item: dict[str, Any], rules: list[ReplacementRule]) -> ReplacementRule | None:
    """A rule for the item's SKU wins over a rule for its category."""
    by_sku = [r for r in rules if r.sku is not None and r.matches(item)]
    by_category = [r for r in rules if r.sku is None and r.matches(item)]
    found = by_sku or by_category
    return found[0] if found else None


def replacement_interval(item: dict[str, Any], rules: list[ReplacementRule]) -> ReplacementRule | None:
    """The rule that dates an item's replacement: of the rules with an interval, its SKU's over its category's
    (a SKU's guide-only rule leaves its category's interval in force)."""
    return _most_specific(item, [r for r in rules if r.interval_days is not None])


def guides_for(items: list[dict[str, Any]], rules: list[ReplacementRule],
               limit: int = MAX_GUIDES) -> list[dict[str, Guide]]:
    """The guides an order's email carries: per item, of the rules with a guide, its SKU's over its category's; each
    guide once however many items it covers, in the order of the items, at most ``limit``."""
    with_guide = [r for r in rules if r.guide]
    chosen: list[dict[str, Guide]] = []
    for item in items:
        rule = _most_specific(item, with_guide)
        if rule is not None and rule.guide not in chosen:  # two rules with the same guide show it once too
            chosen.append(rule.guide)
    return chosen[:limit]


def plan_purchase(purchase: PurchaseRecord, settings: OutreachSettings,
                  rules: list[ReplacementRule]) -> list[Reminder]:
    """The follow-ups of one recorded purchase.

    Thank-you at once, a greeting and a usage check-in later, a notice when each credit's points
    become available, a replacement reminder per item with an interval, and a win-back reminder
    that only goes out if no later purchase has been made by then.
    """
    order_id, buyer = purchase.order_id, purchase.member_id
    recorded = parse_rfc3339(purchase.recorded_at)
    # The order by reference: what was bought is read from the purchase's record when the email is written, so a
    # reminder stays small in the due index and on the send queue (SQS takes 256 KB) however long the order.
    order = {"order_id": order_id}
    plans = [
        Reminder.new(buyer, ReminderKind.THANK_YOU, order_id, recorded, data=order),
        Reminder.new(buyer, ReminderKind.GREETING, order_id, recorded + timedelta(days=settings.greeting_after_days),
                     data=order),
        Reminder.new(buyer, ReminderKind.CHECKIN, order_id, recorded + timedelta(days=settings.checkin_after_days),
                     data=order),
        Reminder.new(buyer, ReminderKind.WINBACK, order_id, recorded + timedelta(days=settings.winback_after_days),
                     data={"order_id": order_id, "days": settings.winback_after_days}),
    ]
    for credit in purchase.credits:
        # Members' points, unless held for review: no "available" promise the review may break.
        if credit.bucket is Bucket.PENDING and credit.available_at and not credit.is_commission \
                and credit.review is None:
            plans.append(Reminder.new(
                credit.member_id, ReminderKind.POINTS_AVAILABLE, order_id, parse_rfc3339(credit.available_at),
                data={"order_id": order_id, "points": credit.points, "level": credit.level}))
    for item in purchase.items:
        rule = replacement_interval(item, rules)
        if rule is not None and rule.interval_days is not None:
            due = recorded + timedelta(days=rule.interval_days)
            plans.append(Reminder.new(buyer, ReminderKind.REPLACEMENT, f"{order_id}:{item['sku']}", due, data={
                "order_id": order_id, "sku": item["sku"], "name": item.get("name") or rule.name or item["sku"],
                "interval_days": rule.interval_days}))
    return plans


def expiry_dates(entry: Entry, expiry: Expiry) -> list[str]:
    """The instants at which the points a new points entry brings will expire: the dates a credit into ``available``
    carries, or the one its hold's end will get (a credit held for review is dated only once approved)."""
    if entry.amount <= 0 or entry.kind is EntryKind.EXPIRY:
        return []
    if entry.expires is not None:
        return [at for at, _ in entry.expires]
    if entry.bucket is Bucket.PENDING and entry.available_at is not None and entry.review is None:
        policy = policy_of(expiry)
        at = policy.expires_at(parse_rfc3339(entry.available_at)) if policy is not None else None
        return [at] if at is not None else []
    return []


EXPIRY_NOTICE = timedelta(days=30)  # a month's expiring points are announced this long before the month begins


def plan_expiry(holder: str, expires: list[str], time_zone: str) -> list[Reminder]:
    """One notice per local month in which some of a member's points expire (docs/earning-expiry.md), 30 days
    before that month begins, whatever day of it they expire on: a member who earns every day gets one email a
    month, not one a day. It is keyed by the month, so every credit that expires in it plans the same reminder; what
    it says (how many, from which day) is read from the member's balance when it is written."""
    plans: dict[str, Reminder] = {}
    for instant in expires:
        month = last_day(instant, time_zone).replace(day=1)
        begins = datetime.combine(month, time(), tzinfo=zone(time_zone, "UTC")).astimezone(UTC)
        occasion = month.strftime("%Y-%m")
        plans[occasion] = Reminder.new(holder, ReminderKind.POINTS_EXPIRING, occasion, begins - EXPIRY_NOTICE,
                                       data={"month": occasion})
    return list(plans.values())


def birthday_this_year(birthday: date, year: int) -> date:
    """The day a birthday is celebrated in ``year`` (29 February becomes 28 February in common years)."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def plan_birthday(member_id: str, birthday: str, changed_at: str | None, time_zone: str, now: datetime,
                  settings: OutreachSettings) -> Reminder | None:
    """A greeting if today is the member's birthday where they live, and the date has settled."""
    tz = zone(time_zone, settings.default_time_zone)
    today = now.astimezone(tz).date()
    if birthday_this_year(date.fromisoformat(birthday), today.year) != today:
        return None
    if changed_at is not None and now - parse_rfc3339(changed_at) < BIRTHDAY_SETTLING:
        return None
    return Reminder.new(member_id, ReminderKind.BIRTHDAY, str(today.year), now, local_date=today.isoformat())


@dataclass(frozen=True)
class BirthdayWindow:
    """A stretch of time in which ``plan_birthday`` plans a member's greeting (UTC instants, ``end`` excluded)."""

    day: date  # the local date celebrated: its year is the greeting's occasion
    start: datetime
    end: datetime


def birthday_window(birthday: str, changed_at: str | None, time_zone: str, after: datetime,
                    settings: OutreachSettings) -> BirthdayWindow | None:
    """The first window of a member's birthday that has not ended at ``after`` (it may have begun already).

    The rules of ``plan_birthday``: the day is the birthday where the member lives (29 February on 28 February
    in common years), from local midnight to the next; a birthday changed less than ``BIRTHDAY_SETTLING`` ago
    starts only once the change has settled, so a year's window may shrink or be skipped. None only if no
    window of the next years is left (a change settling years from ``after``).
    """
    tz = zone(time_zone, settings.default_time_zone)
    born = date.fromisoformat(birthday)
    settled = parse_rfc3339(changed_at) + BIRTHDAY_SETTLING if changed_at is not None else None
    first_year = after.astimezone(tz).year
    for year in range(first_year, first_year + 3):
        day = birthday_this_year(born, year)
        start = datetime.combine(day, time(0), tz).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
        if settled is not None:
            start = max(start, settled)
        if start < end and end > after:
            return BirthdayWindow(day, start, end)
    return None


def birthday_days(after: datetime, until: datetime) -> list[date]:
    """The local dates, oldest first, whose birthdays can have a window that has not ended at ``after`` and
    begins by ``until`` somewhere on Earth (UTC-12 … UTC+14, an hour more for summer time)."""
    first, last = (after - timedelta(hours=38)).date(), (until + timedelta(hours=15)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def birthday_keys_of(day: date) -> list[str]:
    """The ``MM-DD`` keys of the birthdays celebrated on ``day`` (29 February's on 28 February in common years)."""
    keys = [day.strftime("%m-%d")]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        keys.append("02-29")
    return keys


def birthday_keys(now: datetime) -> list[str]:
    """The ``MM-DD`` keys that can be 'today' somewhere on Earth at ``now`` (UTC-12 … UTC+14)."""
    days = {(now + timedelta(hours=h)).date() for h in (-12, 0, 14)}
    keys = {d.strftime("%m-%d") for d in days}
    if "02-28" in keys:
        keys.add("02-29")  # leap-day birthdays are celebrated on 28 February in common years
    return sorted(keys)


@dataclass(frozen=True)
class Holiday:
    holiday_id: str
    date: str
    names: dict[str, str]

    def may_have_started(self, now: datetime) -> bool:
        """True from the moment the date begins anywhere on Earth until it has ended everywhere."""
        day = date.fromisoformat(self.date)
        return any((now + timedelta(hours=h)).date() == day for h in (-12, 0, 14))

    def window(self) -> tuple[datetime, datetime]:
        """When ``may_have_started`` holds: from the date's start in UTC+14 to its end in UTC-12 (end excluded)."""
        midnight = datetime.combine(date.fromisoformat(self.date), time(0), UTC)
        return midnight - timedelta(hours=14), midnight + timedelta(days=1, hours=12)


def plan_holiday(member_id: str, holiday: Holiday, now: datetime) -> Reminder:
    return Reminder.new(member_id, ReminderKind.HOLIDAY, holiday.holiday_id, now, local_date=holiday.date,
                        data={"holiday_id": holiday.holiday_id})  # its names are read from the calendar
