"""Reminders and the rules that protect the member: opt-in, suppression, quiet hours, the cap.

A reminder is one email to one member for one *occasion* (an order, a year's birthday, a holiday,
a campaign …). ``(member_id, kind, occasion)`` is its identity: it is sent at most once.

``decide`` is the single place that says what happens to a due reminder now: send it, defer it
to a later instant (quiet hours, the frequency cap, a local date not reached yet), or drop it
(not wanted, suppressed, expired, cancelled) — always with a reason for the send log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loyalty.shared.clock import to_rfc3339


class ReminderKind(StrEnum):
    THANK_YOU = "thank_you"
    GREETING = "greeting"
    CHECKIN = "checkin"
    REPLACEMENT = "replacement"
    BIRTHDAY = "birthday"
    HOLIDAY = "holiday"
    POINTS_AVAILABLE = "points_available"
    POINTS_EXPIRING = "points_expiring"
    WINBACK = "winback"
    CAMPAIGN = "campaign"
    FEEDBACK_REPLY = "feedback_reply"  # staff's answer to a member's feedback (docs/feedback.md)
    FEEDBACK_ALERT = "feedback_alert"  # to the shop's staff address: a complaint unanswered for 24 hours


class Category(StrEnum):
    TRANSACTIONAL = "transactional"  # receipt-like: no opt-in needed, no cap, no quiet hours
    NOTICE = "notice"  # about the member's account: no opt-in needed, can be turned off, quiet hours
    MARKETING = "marketing"  # needs opt-in; cap and quiet hours apply; carries one-click unsubscribe


CATEGORY = {
    ReminderKind.THANK_YOU: Category.TRANSACTIONAL,
    ReminderKind.POINTS_AVAILABLE: Category.NOTICE,
    ReminderKind.POINTS_EXPIRING: Category.NOTICE,
    ReminderKind.GREETING: Category.MARKETING,
    ReminderKind.CHECKIN: Category.MARKETING,
    ReminderKind.REPLACEMENT: Category.MARKETING,
    ReminderKind.BIRTHDAY: Category.MARKETING,
    ReminderKind.HOLIDAY: Category.MARKETING,
    ReminderKind.WINBACK: Category.MARKETING,
    ReminderKind.CAMPAIGN: Category.MARKETING,
    ReminderKind.FEEDBACK_REPLY: Category.TRANSACTIONAL,  # the answer the member asked for
    ReminderKind.FEEDBACK_ALERT: Category.TRANSACTIONAL,  # to the staff, not to a member
}

# Kinds sent to the shop's staff address (the outreach settings' ``staff_email``, in ``staff_locale``), not to the
# member they are about.
TO_STAFF = frozenset({ReminderKind.FEEDBACK_ALERT})

# How late a reminder may still go out; later than this it is dropped, not sent.
EXPIRY = {
    ReminderKind.THANK_YOU: timedelta(days=2),
    ReminderKind.GREETING: timedelta(days=7),
    ReminderKind.CHECKIN: timedelta(days=7),
    ReminderKind.REPLACEMENT: timedelta(days=30),
    ReminderKind.BIRTHDAY: timedelta(days=7),
    ReminderKind.HOLIDAY: timedelta(days=7),
    ReminderKind.POINTS_AVAILABLE: timedelta(days=7),
    ReminderKind.POINTS_EXPIRING: timedelta(days=25),  # still worth sending until 5 days before the month
    ReminderKind.WINBACK: timedelta(days=14),
    ReminderKind.CAMPAIGN: timedelta(days=7),
    ReminderKind.FEEDBACK_REPLY: timedelta(days=7),
    ReminderKind.FEEDBACK_ALERT: timedelta(days=7),
}

# A birthday set or changed less than this long ago does not trigger a greeting at once.
BIRTHDAY_SETTLING = timedelta(days=30)

DEFAULT_TIME_ZONES = {"zh": "Asia/Shanghai"}  # else the settings' default_time_zone


@dataclass(frozen=True)
class OutreachSettings:
    """What an operator tunes (``PUT /v1/outreach/settings``)."""

    min_gap_hours: int = 48
    max_per_30_days: int = 4
    quiet_start: str = "20:00"  # marketing is sent between quiet_end and quiet_start, local time
    quiet_end: str = "09:00"
    greeting_after_days: int = 2
    checkin_after_days: int = 7
    winback_after_days: int = 60
    default_time_zone: str = "Asia/Shanghai"
    staff_email: str | None = None  # where alerts for the shop's staff go (docs/feedback.md); None: nowhere
    staff_locale: str = "zh-CN"  # the language of those alerts

    def window(self) -> tuple[time, time]:
        return time.fromisoformat(self.quiet_end), time.fromisoformat(self.quiet_start)


@dataclass(frozen=True)
class Reminder:
    member_id: str
    kind: ReminderKind
    occasion: str
    due_at: datetime
    expires_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    local_date: str | None = None  # only on this date in the member's time zone (birthdays, holidays)

    @property
    def category(self) -> Category:
        return CATEGORY[self.kind]

    @classmethod
    def new(cls, member_id: str, kind: ReminderKind, occasion: str, due_at: datetime, *,
            data: dict[str, Any] | None = None, local_date: str | None = None) -> Reminder:
        return cls(member_id, kind, occasion, due_at, due_at + EXPIRY[kind], dict(data or {}), local_date)

    def to_message(self) -> dict[str, Any]:
        message = {"member_id": self.member_id, "kind": str(self.kind), "occasion": self.occasion,
                   "due_at": to_rfc3339(self.due_at), "expires_at": to_rfc3339(self.expires_at), "data": self.data}
        if self.local_date:
            message["local_date"] = self.local_date
        return message

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Reminder:
        return cls(
            member_id=message["member_id"], kind=ReminderKind(message["kind"]), occasion=message["occasion"],
            due_at=datetime.fromisoformat(message["due_at"].replace("Z", "+00:00")),
            expires_at=datetime.fromisoformat(message["expires_at"].replace("Z", "+00:00")),
            data=dict(message.get("data") or {}), local_date=message.get("local_date"),
        )


@dataclass(frozen=True)
class Recipient:
    """What the sender knows about the member at the moment of sending."""

    member_id: str
    email: str
    display_name: str
    locale: str
    time_zone: str
    marketing_opt_in: bool
    notices: bool = True
    suppressed: str | None = None  # why the address is suppressed (bounce, complaint), if it is


@dataclass(frozen=True)
class ContactHistory:
    """The member's recent marketing sends (for the cap), and their last purchase (for win-back)."""

    marketing_sent: tuple[datetime, ...] = ()
    last_order_id: str | None = None
    version: int = 0


class Verdict(StrEnum):
    SEND = "sent"
    DEFER = "deferred"
    SUPPRESS = "suppressed"
    DROP = "dropped"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    until: datetime | None = None  # for DEFER


def zone(name: str | None, fallback: str) -> ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def default_time_zone(locale: str, settings: OutreachSettings) -> str:
    return DEFAULT_TIME_ZONES.get(locale.split("-")[0], settings.default_time_zone)


def next_window_start(now: datetime, tz: tzinfo, settings: OutreachSettings) -> datetime | None:
    """None if ``now`` is inside the sending window in ``tz``; else the instant the window next opens."""
    opens, closes = settings.window()
    local = now.astimezone(tz)
    at = local.time()
    # The window is [opens, closes); it may run past midnight (quiet hours inside one day, e.g. 00:30–08:00).
    inside = opens <= at < closes if opens < closes else (at >= opens or at < closes)
    if inside:
        return None
    day = local.date() if at < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=tz).astimezone(now.tzinfo)


def cap_allows_at(history: ContactHistory, now: datetime, settings: OutreachSettings) -> datetime:
    """The earliest instant another marketing email fits under the cap (``now`` if it fits now)."""
    recent = sorted(t for t in history.marketing_sent if t > now - timedelta(days=30))
    earliest = now
    if recent:
        earliest = max(earliest, recent[-1] + timedelta(hours=settings.min_gap_hours))
    if settings.max_per_30_days and len(recent) >= settings.max_per_30_days:
        earliest = max(earliest, recent[-settings.max_per_30_days] + timedelta(days=30))
    return earliest


def decide(reminder: Reminder, recipient: Recipient | None, history: ContactHistory, now: datetime,
           settings: OutreachSettings, cancelled: str | None = None) -> Decision:
    """What to do with a due reminder now. ``cancelled`` is why the occasion no longer holds, if so.

    First whether it may go at all (``_refusal``), then when it may go (``_timing``)."""
    refused = _refusal(reminder, recipient, now, cancelled)
    if refused is not None:
        return refused
    assert recipient is not None
    if reminder.category is Category.TRANSACTIONAL:
        return Decision(Verdict.SEND, "transactional")
    return _timing(reminder, recipient, history, now, settings)


def _refusal(reminder: Reminder, recipient: Recipient | None, now: datetime, cancelled: str | None) -> Decision | None:
    """Why the reminder must not go at all, if so: no member, cancelled, not wanted, suppressed, expired."""
    if recipient is None:
        return Decision(Verdict.DROP, "no such member")
    if cancelled:
        return Decision(Verdict.DROP, f"cancelled: {cancelled}")
    category = reminder.category
    if recipient.suppressed:
        return Decision(Verdict.SUPPRESS, f"address suppressed ({recipient.suppressed})")
    if category is Category.MARKETING and not recipient.marketing_opt_in:
        return Decision(Verdict.SUPPRESS, "no marketing consent")
    if category is Category.NOTICE and not recipient.notices:
        return Decision(Verdict.SUPPRESS, "notices turned off")
    if now > reminder.expires_at:
        return Decision(Verdict.DROP, f"expired at {to_rfc3339(reminder.expires_at)}")
    return None


def _timing(reminder: Reminder, recipient: Recipient, history: ContactHistory, now: datetime,
            settings: OutreachSettings) -> Decision:
    """Send now, or defer to the earliest instant its local date, the cap and the sending window allow, or
    drop it if that is too late."""
    tz = zone(recipient.time_zone, settings.default_time_zone)
    earliest = now
    reasons = []
    if reminder.local_date:
        wanted = date.fromisoformat(reminder.local_date)
        today = now.astimezone(tz).date()
        if today > wanted:
            return Decision(Verdict.DROP, f"its day ({reminder.local_date}) has passed in {tz.key}")
        if today < wanted:
            earliest = datetime.combine(wanted, settings.window()[0], tzinfo=tz).astimezone(now.tzinfo)
            reasons.append(f"waiting for {reminder.local_date} in {tz.key}")
    if reminder.category is Category.MARKETING:
        allowed = cap_allows_at(history, earliest, settings)
        if allowed > earliest:
            earliest, reasons = allowed, [*reasons, "frequency cap"]
    window = next_window_start(earliest, tz, settings)
    if window is not None:
        earliest, reasons = window, [*reasons, f"quiet hours in {tz.key}"]
    if earliest <= now:
        return Decision(Verdict.SEND, reminder.category.value)
    if earliest > reminder.expires_at or (
            reminder.local_date and earliest.astimezone(tz).date() > date.fromisoformat(reminder.local_date)):
        return Decision(Verdict.DROP, f"would expire before it may be sent ({', '.join(reasons)})")
    return Decision(Verdict.DEFER, ", ".join(reasons), until=earliest)
