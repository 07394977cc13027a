"""Planning reminders and handing the due ones to the sender.

- ``plan_purchase``: a recorded purchase (from the Operations table's stream) plans its follow-ups;
- ``dispatch_due``: every few minutes, reminders whose time has come go to the send queue;
- ``plan_calendar``: every hour, birthdays that are today somewhere, and holidays that have begun;
- ``start_campaign`` / ``fan_out``: a holiday or a campaign, one page of opted-in members at a time;
- ``next_work``: when the scheduled jobs next have something to do (for a runner that moves time in steps).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from loyalty.ledger.assets import POINTS
from loyalty.ledger.entries import Entry
from loyalty.ledger.expiry import once, policy_of
from loyalty.ledger.store import LedgerStore
from loyalty.outreach.plans import (
    birthday_days,
    birthday_keys,
    birthday_keys_of,
    birthday_window,
    expiry_dates,
    plan_birthday,
    plan_expiry,
    plan_holiday,
    plan_purchase,
)
from loyalty.outreach.policy import OutreachSettings, Reminder, ReminderKind, default_time_zone
from loyalty.outreach.store import OutreachStore, Queue, find_campaign
from loyalty.purchases.domain import PurchaseRecord
from loyalty.shared.clock import Clock, parse_rfc3339, to_rfc3339
from loyalty.shared.errors import IdempotencyMismatch

FANOUT_PAGE = 100
SEND_BATCH = 100
Job = Literal["due", "calendar"]  # the scheduled jobs (the dispatcher's events say which: {"job": "due"})


def _birthday_zone(member: dict[str, Any], settings: OutreachSettings) -> str:
    return str(member.get("time_zone") or default_time_zone(member.get("locale", ""), settings))


def _fanout_marker(kind: str, key: str) -> str:
    return f"{kind.upper()}#{key}"


class OutreachPlanner:
    def __init__(self, store: OutreachStore, ledger: LedgerStore, clock: Clock, send_queue: Queue | None,
                 fanout_queue: Queue | None) -> None:
        self._store = store
        self._ledger = ledger
        self._clock = clock
        self._send_queue = send_queue
        self._fanout_queue = fanout_queue

    def plan_purchase(self, purchase: PurchaseRecord) -> list[Reminder]:
        """Plan the follow-ups of a recorded purchase, and remember what the member bought."""
        reminders = plan_purchase(purchase, self._store.settings(), self._store.replacement_rules())
        categories = sorted({i["category"] for i in purchase.items if i.get("category")})
        self._store.note_purchase(purchase.member_id, purchase.order_id, purchase.recorded_at, categories)
        self._store.schedule(reminders)
        return reminders

    def plan_expiry(self, entries: Sequence[Entry]) -> list[Reminder]:
        """Plan the notices of the points these ledger entries date (docs/earning-expiry.md): a credit into
        ``available`` names its dates; a held credit will be dated from the instant its hold ends, by the programme's
        rule (read only when a batch has one)."""
        rule = once(self._ledger.expiry)
        by_holder: dict[str, list[str]] = {}
        for entry in entries:
            by_holder.setdefault(entry.holder, []).extend(expiry_dates(entry, rule))
        policy = policy_of(rule) if any(by_holder.values()) else None
        reminders = [reminder for holder, instants in by_holder.items() if instants and policy is not None
                     for reminder in plan_expiry(holder, instants, policy.zone)]
        self._store.schedule(reminders)
        return reminders

    def dispatch_due(self) -> dict[str, int]:
        """Send every reminder whose time has come to the send queue; how many were queued and set aside.

        A reminder leaves the due index only after the queue took it; if this run dies in between,
        the next run queues it again and the send log keeps the second copy from being sent. One that cannot
        be read, or that the queue refuses for good, is set aside (``quarantine_due``, with why) and the rest go
        on: a poisoned item must not stop every reminder behind it, run after run. One the queue could not take
        for now (its own fault: throttling, an internal error) stays due, and the next run offers it again.
        """
        assert self._send_queue is not None
        now, counts = self._clock.now(), {"queued": 0, "quarantined": 0, "retrying": 0}
        batch: list[tuple[dict[str, str], Reminder]] = []
        for key, reminder in self._store.due(now):
            if reminder is None:
                self._store.quarantine_due(key, "not a readable reminder", now)
                counts["quarantined"] += 1
                continue
            batch.append((key, reminder))
            if len(batch) == SEND_BATCH:
                self._queue_due(batch, now, counts)
                batch = []
        if batch:
            self._queue_due(batch, now, counts)
        return counts

    def _queue_due(self, batch: list[tuple[dict[str, str], Reminder]], now: datetime, counts: dict[str, int]) -> None:
        assert self._send_queue is not None
        not_taken = self._send_queue.offer([reminder.to_message() for _, reminder in batch])
        refused = {r.index: r.why for r in not_taken if not r.retry}
        later = {r.index for r in not_taken if r.retry}  # left in the due index: the next run offers them again
        self._store.forget_due([key for n, (key, _) in enumerate(batch) if n not in refused and n not in later])
        for n, why in refused.items():
            self._store.quarantine_due(batch[n][0], f"the send queue refused it: {why}", now)
        counts["queued"] += len(batch) - len(refused) - len(later)
        counts["quarantined"] += len(refused)
        counts["retrying"] += len(later)

    def plan_calendar(self) -> dict[str, int]:
        """Birthdays that are today where the member lives; holidays that have begun somewhere."""
        assert self._send_queue is not None and self._fanout_queue is not None
        now, settings = self._clock.now(), self._store.settings()
        birthdays = []
        for month_day in birthday_keys(now):
            for item in self._store.birthdays(month_day):
                reminder = plan_birthday(item["member_id"], item["birthday"], item.get("birthday_changed_at"),
                                         _birthday_zone(item, settings), now, settings)
                if reminder is not None and self._store.plan(reminder, now) != "done":
                    birthdays.append(reminder.to_message())
        if birthdays:
            self._send_queue.send(birthdays)
        holidays = 0
        for holiday in self._store.holidays():
            if holiday.may_have_started(now) and self._start_fanout("holiday", holiday.holiday_id, now):
                holidays += 1
        return {"birthdays": len(birthdays), "holidays": holidays}

    def next_work(self, after: datetime, until: datetime, job: Job | None = None) -> datetime | None:
        """The earliest instant in [after, until] at which ``job`` (either job, without it) has something to do,
        or None: ``after`` itself when something is waiting already.

        - ``due``: the earliest reminder in the due index (deferred ones included: they wait there too);
        - ``calendar``: the first instant a member's birthday begins where they live (after the settling of a
          changed birthday: ``plan_birthday``'s rules), or a birthday under way that is not planned yet; the
          first instant a holiday may have started somewhere, or one under way whose fan-out has not started.

        Fan-out pages and emails are not counted: they wait in queues, whose consumers take them when they are
        there. For a caller that moves time forward in steps and skips the steps where nothing is due (the
        local runner, so a year passes in seconds); on AWS the schedules just run. Reads grow with the days
        from ``after`` to ``until`` (one birthday query a day, stopping at the first day with work): ask
        for the next stretch only.
        """
        found = [self._next_due(after, until) if job in (None, "due") else None,
                 self._next_calendar(after, until) if job in (None, "calendar") else None]
        return min((w for w in found if w is not None), default=None)

    def _next_due(self, after: datetime, until: datetime) -> datetime | None:
        due = self._store.next_due()
        return None if due is None or due > until else max(due, after)

    def _next_calendar(self, after: datetime, until: datetime) -> datetime | None:
        found: list[datetime] = []
        for holiday in self._store.holidays():
            start, end = holiday.window()
            if start <= until and end > after \
                    and not self._store.fanout_started(_fanout_marker("holiday", holiday.holiday_id)):
                found.append(max(start, after))
        settings = self._store.settings()
        for day in birthday_days(after, until):
            if found and min(found) <= datetime.combine(day, time(0), UTC) - timedelta(hours=15):
                break  # a birthday celebrated on this day or later cannot begin earlier than what was found
            for key in birthday_keys_of(day):
                for member in self._store.birthdays(key):
                    window = birthday_window(member["birthday"], member.get("birthday_changed_at"),
                                             _birthday_zone(member, settings), after, settings)
                    if window is not None and window.start <= after:  # under way: work now, unless planned
                        if found and min(found) <= after:
                            continue
                        if self._store.log(member["member_id"], ReminderKind.BIRTHDAY, str(window.day.year)):
                            window = birthday_window(member["birthday"], member.get("birthday_changed_at"),
                                                     _birthday_zone(member, settings), window.end, settings)
                    if window is None or window.start > until or (found and window.start >= min(found)):
                        continue
                    found.append(max(window.start, after))
        return min(found, default=None)

    def start_campaign(self, campaign: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Record a campaign and start its fan-out to every opted-in member (or those its filter keeps).

        Idempotent by ``campaign_id``: the same campaign again changes nothing (False, the campaign);
        the same id for a different campaign is an ``idempotency-mismatch``.
        """
        assert self._fanout_queue is not None
        created = self._store.create_campaign({**campaign, "created_at": to_rfc3339(self._clock.now())})
        found = find_campaign(self._store, campaign["campaign_id"])
        if not created and {k: v for k, v in found.items() if k not in ("created_at", "counts")} != campaign:
            raise IdempotencyMismatch(f"campaign {campaign['campaign_id']} exists with other content")
        # Also when the campaign existed: a request retried because the fan-out could not be queued queues it.
        self._start_fanout("campaign", campaign["campaign_id"], self._clock.now())
        return created, found

    def _start_fanout(self, kind: str, key: str, now: datetime) -> bool:
        """Queue the fan-out of a holiday or campaign to every shard, unless it was queued; marked after
        queueing, so a failure in between is tried again (members planned twice are sent once)."""
        assert self._fanout_queue is not None
        marker = _fanout_marker(kind, key)
        if self._store.fanout_started(marker):
            return False
        self._fanout_queue.send([{"type": kind, "id": key, "shard": shard}
                                 for shard in range(self._store.optin_shards)])
        self._store.mark_fanout(marker, now)
        return True

    def fan_out(self, message: dict[str, Any]) -> int:
        """One page of one shard of opted-in members: plan their reminder, queue it, queue the next page."""
        assert self._send_queue is not None and self._fanout_queue is not None
        now = self._clock.now()
        page, next_key = self._store.opted_in(message["shard"], message.get("start"), FANOUT_PAGE)
        if message["type"] == "holiday":
            holiday = next((h for h in self._store.holidays() if h.holiday_id == message["id"]), None)
            reminders = [plan_holiday(m["member_id"], holiday, now) for m in page] if holiday else []
            campaign_id = None
        else:
            campaign = find_campaign(self._store, message["id"])
            campaign_id = campaign["campaign_id"]
            reminders = [Reminder.new(m["member_id"], ReminderKind.CAMPAIGN, campaign_id, now,
                                      data={"campaign_id": campaign_id})
                         for m in self._matching(page, campaign.get("filter") or {}, now)]
        planned = [(r, self._store.plan(r, now, campaign_id)) for r in reminders]
        if campaign_id:
            for _ in (r for r, state in planned if state == "new"):
                self._store.count(campaign_id, "targeted")
        queued = [r for r, state in planned if state != "done"]
        if queued:
            self._send_queue.send([r.to_message() for r in queued])
        if next_key:
            self._fanout_queue.send([{**message, "start": next_key}])
        return len(queued)

    def _matching(self, page: list[dict[str, Any]], rules: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        # joined_at is stored as RFC 3339 UTC; the bounds may carry any offset: compare instants.
        after, before = (parse_rfc3339(rules[k]) if rules.get(k) else None for k in ("joined_after", "joined_before"))
        kept = [m for m in page
                if (not rules.get("locales") or m.get("locale") in rules["locales"])
                and (after is None or ("joined_at" in m and parse_rfc3339(m["joined_at"]) >= after))
                and (before is None or ("joined_at" in m and parse_rfc3339(m["joined_at"]) < before))]
        ids = [m["member_id"] for m in kept]
        if rules.get("purchased_categories") and ids:
            bought = self._store.categories(ids)
            wanted = set(rules["purchased_categories"])
            kept = [m for m in kept if bought.get(m["member_id"], set()) & wanted]
        if rules.get("min_lifetime_points") and kept:
            accounts = self._ledger.accounts([m["member_id"] for m in kept])
            kept = [m for m in kept
                    if accounts[m["member_id"]].balance(POINTS.name).earned >= rules["min_lifetime_points"]]
        return kept
