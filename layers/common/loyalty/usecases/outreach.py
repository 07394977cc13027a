"""Outreach use cases: plan reminders from events, dispatch the due ones, send each at most once.

- ``plan_purchase``: a recorded purchase (from the Operations table's stream) plans its follow-ups.
- ``dispatch_due``: every few minutes, reminders whose time has come go to the send queue.
- ``plan_calendar``: every hour, birthdays that are today somewhere, and holidays that have begun.
- ``fan_out``: a holiday or a campaign, one page of opted-in members at a time.
- ``deliver``: decide (``policy.decide``), claim the send in the send log, send through SES, record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from loyalty.adapters.dynamodb import OPTIN_SHARDS, from_item
from loyalty.adapters.outreach_dynamodb import FINAL_STATUSES, ClaimLost, OutreachStore
from loyalty.clock import Clock, parse_rfc3339, to_rfc3339
from loyalty.errors import IdempotencyMismatch, NotFound, ValidationProblem
from loyalty.members import Member
from loyalty.outreach import mime, templates
from loyalty.outreach.plans import (
    Holiday,
    ReplacementRule,
    birthday_keys,
    plan_birthday,
    plan_holiday,
    plan_purchase,
    replacement_interval,
)
from loyalty.outreach.policy import (
    Category,
    ContactHistory,
    Decision,
    Kind,
    OutreachSettings,
    Recipient,
    Reminder,
    Verdict,
    decide,
    default_time_zone,
)
from loyalty.outreach.unsubscribe import member_for, token_for
from loyalty.ports import NoSuchMember, Store
from loyalty.program import minor_units
from loyalty.purchases import reversed_so_far

FANOUT_PAGE = 100
ORDER_KINDS = (Kind.THANK_YOU, Kind.GREETING, Kind.CHECKIN, Kind.REPLACEMENT)


class Mailer(Protocol):
    def pace(self) -> None: ...

    def send(self, raw: bytes, to: str, tags: dict[str, str]) -> str: ...


class Queue(Protocol):
    def send(self, messages: Sequence[dict[str, Any]]) -> None: ...


@dataclass(frozen=True)
class OutreachConfig:
    sender: str  # the From address, e.g. "Shop <no-reply@shop.example>"
    shop_name: str
    app_link: str
    public_base_url: str  # where this API answers: unsubscribe links are <base>/u/<token>


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    raw: bytes


class OutreachService:
    def __init__(self, store: OutreachStore, ledger: Store, clock: Clock, config: OutreachConfig,
                 secret: Callable[[], bytes], send_queue: Queue | None = None, fanout_queue: Queue | None = None,
                 mailer: Mailer | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._clock = clock
        self._config = config
        self._secret = secret
        self._send_queue = send_queue
        self._fanout_queue = fanout_queue
        self._mailer = mailer

    # --- what the admin configures ---------------------------------------------------------------

    def settings(self) -> OutreachSettings:
        return self._store.settings()

    def save_settings(self, settings: OutreachSettings) -> None:
        self._store.save_settings(settings)

    def replacement_rules(self) -> list[ReplacementRule]:
        return self._store.replacement_rules()

    def save_replacement_rules(self, rules: list[ReplacementRule]) -> None:
        self._store.save_replacement_rules(rules)

    def holidays(self) -> list[Holiday]:
        return self._store.holidays()

    def save_holidays(self, holidays: list[Holiday]) -> None:
        self._store.save_holidays(holidays)

    def messages(self, member_id: str) -> list[dict[str, Any]]:
        """The member's send log, one item per (kind, occasion)."""
        if not self._ledger.snapshot(members=[member_id]).members:
            raise NotFound(f"No member {member_id}.")
        return self._store.logs(member_id)

    # --- planning --------------------------------------------------------------------------------

    def plan_purchase(self, record: dict[str, Any]) -> list[Reminder]:
        """Plan the follow-ups of a purchase from its operation record (as the stream delivers it)."""
        order_id = record["pk"].removeprefix("purchase/")
        answer = json.loads(record["response"])
        purchase = {
            "order_id": order_id, "member_id": record["member_id"], "amount_minor": record["amount_minor"],
            "currency": answer["currency"], "recorded_at": record["created_at"], "items": record.get("items") or [],
            "credits": record.get("credits") or [],
        }
        reminders = plan_purchase(purchase, self._store.settings(), self._store.replacement_rules())
        categories = sorted({i["category"] for i in purchase["items"] if i.get("category")})
        self._store.note_purchase(record["member_id"], order_id, record["created_at"], categories)
        self._store.schedule(reminders)
        return reminders

    def dispatch_due(self) -> int:
        """Send every reminder whose time has come to the send queue; returns how many.

        A reminder leaves the due index only after the queue took it; if this run dies in between,
        the next run queues it again and the send log keeps the second copy from being sent.
        """
        assert self._send_queue is not None
        keys, messages, sent = [], [], 0
        for key, reminder in self._store.due(self._clock.now()):
            keys.append(key)
            messages.append(reminder.to_message())
            if len(messages) == 100:
                self._send_queue.send(messages)
                self._store.forget_due(keys)
                sent, keys, messages = sent + len(messages), [], []
        if messages:
            self._send_queue.send(messages)
            self._store.forget_due(keys)
        return sent + len(messages)

    def plan_calendar(self) -> dict[str, int]:
        """Birthdays that are today where the member lives; holidays that have begun somewhere."""
        assert self._send_queue is not None and self._fanout_queue is not None
        now, settings = self._clock.now(), self._store.settings()
        birthdays = []
        for month_day in birthday_keys(now):
            for item in self._store.birthdays(month_day):
                tz = item.get("time_zone") or default_time_zone(item.get("locale", ""), settings)
                reminder = plan_birthday(item["member_id"], item["birthday"], item.get("birthday_changed_at"), tz,
                                         now, settings)
                if reminder is not None and self._store.plan(reminder, now) != "done":
                    birthdays.append(reminder.to_message())
        if birthdays:
            self._send_queue.send(birthdays)
        holidays = 0
        for holiday in self._store.holidays():
            if holiday.may_have_started(now) and self._start_fanout("holiday", holiday.holiday_id, now):
                holidays += 1
        return {"birthdays": len(birthdays), "holidays": holidays}

    def start_campaign(self, campaign: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """Record a campaign and start its fan-out to every opted-in member (or those its filter keeps).

        Idempotent by ``campaign_id``: the same campaign again changes nothing (False, the campaign);
        the same id for a different campaign is an ``idempotency-mismatch``.
        """
        assert self._fanout_queue is not None
        created = self._store.create_campaign({**campaign, "created_at": to_rfc3339(self._clock.now())})
        found = self.campaign(campaign["campaign_id"])
        if not created and {k: v for k, v in found.items() if k not in ("created_at", "counts")} != campaign:
            raise IdempotencyMismatch(f"campaign {campaign['campaign_id']} exists with other content")
        # Also when the campaign existed: a request retried because the fan-out could not be queued queues it.
        self._start_fanout("campaign", campaign["campaign_id"], self._clock.now())
        if not created:
            return False, found
        return True, found

    def _start_fanout(self, kind: str, key: str, now: datetime) -> bool:
        """Queue the fan-out of a holiday or campaign to every shard, unless it was queued; marked after
        queueing, so a failure in between is tried again (members planned twice are sent once)."""
        assert self._fanout_queue is not None
        marker = f"{kind.upper()}#{key}"
        if self._store.fanout_started(marker):
            return False
        self._fanout_queue.send([{"type": kind, "id": key, "shard": shard} for shard in range(OPTIN_SHARDS)])
        self._store.mark_fanout(marker, now)
        return True

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        found = self._store.campaign(campaign_id)
        if found is None:
            raise NotFound(f"No campaign {campaign_id}.")
        return found

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
            campaign = self.campaign(message["id"])
            campaign_id = campaign["campaign_id"]
            reminders = [Reminder.new(m["member_id"], Kind.CAMPAIGN, campaign_id, now,
                                      data={"campaign_id": campaign_id})
                         for m in self._matching(page, campaign.get("filter") or {})]
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

    def _matching(self, page: list[dict[str, Any]], rules: dict[str, Any]) -> list[dict[str, Any]]:
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
            accounts = self._ledger.snapshot(accounts=[m["member_id"] for m in kept]).accounts
            kept = [m for m in kept if accounts[m["member_id"]].points.lifetime_earned >= rules["min_lifetime_points"]]
        return kept

    # --- sending ---------------------------------------------------------------------------------

    def deliver(self, reminder: Reminder) -> Decision:
        """Decide what happens to a due reminder now, and make it so, at most once per (member, kind, occasion)."""
        for _ in range(5):
            now = self._clock.now()
            logged = self._store.log(reminder.member_id, reminder.kind, reminder.occasion)
            if logged and logged["status"] in FINAL_STATUSES:
                return Decision(Verdict.DROP, f"already {logged['status']}")
            member = self._ledger.snapshot(members=[reminder.member_id]).members.get(reminder.member_id)
            settings = self._store.settings()
            history = self._store.contact(reminder.member_id)
            recipient = self._recipient(member, settings) if member else None
            decision = decide(reminder, recipient, history, now, settings, self._cancelled(reminder, history))
            campaign_id = reminder.data.get("campaign_id")
            try:
                self._act(reminder, member, history, decision, now, campaign_id)
            except ClaimLost:
                continue  # another dispatcher moved first, or the member's history changed: decide again
            return decision
        raise ClaimLost(f"{reminder.member_id}/{reminder.kind}/{reminder.occasion} kept changing")

    def _act(self, reminder: Reminder, member: Member | None, history: ContactHistory, decision: Decision,
             now: datetime, campaign_id: str | None) -> None:
        store = self._store
        if decision.verdict is Verdict.DEFER:
            assert decision.until is not None
            store.record(reminder, "deferred", decision.reason, now, extra={"until": to_rfc3339(decision.until)})
            store.schedule([replace(reminder, due_at=decision.until)])
            return
        if decision.verdict is not Verdict.SEND or member is None:
            store.record(reminder, decision.verdict.value, decision.reason, now, campaign_id=campaign_id)
            if campaign_id:
                store.count(campaign_id, decision.verdict.value)
            return
        assert self._mailer is not None
        composed = self.compose(reminder, member, now)
        contact = None
        if reminder.category is Category.MARKETING:
            recent = tuple(t for t in history.marketing_sent if t > now - timedelta(days=30))
            contact = (history, replace(history, marketing_sent=(*recent, now), version=history.version + 1))
        # Wait for the send rate before claiming, not between the claim and the send: a function timing
        # out while it waits must not leave the reminder claimed ("sending") and never sent.
        self._mailer.pace()
        store.record(reminder, "sending", decision.reason, now, extra={"subject": composed.subject},
                     contact=contact, campaign_id=campaign_id)
        try:
            message_id = self._mailer.send(composed.raw, member.email,
                                           {"kind": reminder.kind.value, "category": reminder.category.value})
        except Exception as error:
            store.finish(reminder, "failed", f"SES refused the message: {error}", now)
            if campaign_id:
                store.count(campaign_id, "failed")
            return
        store.finish(reminder, "sent", decision.reason, now, extra={"message_id": message_id,
                                                                    "sent_at": to_rfc3339(now)})
        if campaign_id:
            store.count(campaign_id, "sent")

    def _recipient(self, member: Member, settings: Any) -> Recipient:
        return Recipient(
            member_id=member.member_id, email=member.email, display_name=member.display_name, locale=member.locale,
            time_zone=member.time_zone or default_time_zone(member.locale, settings),
            marketing_opt_in=member.marketing_opt_in, notices=member.notices,
            suppressed=self._store.suppression(member.email),
        )

    def _cancelled(self, reminder: Reminder, history: ContactHistory) -> str | None:
        """Why the occasion no longer holds (refunded, reversed, superseded), or None."""
        order_id = reminder.data.get("order_id")
        if reminder.kind is Kind.WINBACK:
            return "a later purchase was made" if history.last_order_id not in (None, order_id) else None
        if not order_id or (reminder.kind not in ORDER_KINDS and reminder.kind is not Kind.POINTS_AVAILABLE):
            return None
        purchase = self._ledger.operation(f"purchase/{order_id}")
        if purchase is None:
            return "the order is unknown"
        total, refunded = int(purchase.state["amount_minor"]), int(purchase.state["refunded_minor"])
        if reminder.kind is Kind.POINTS_AVAILABLE:
            return "the points were reversed by a refund" if self._remaining_points(reminder, total, refunded) <= 0 \
                else None
        return "the order was fully refunded" if refunded >= total else None

    @staticmethod
    def _remaining_points(reminder: Reminder, total: int, refunded: int) -> int:
        points = int(reminder.data["points"])
        return points - reversed_so_far(points, total, refunded)

    # --- content ---------------------------------------------------------------------------------

    def compose(self, reminder: Reminder, member: Member, now: datetime, *,
                public_base_url: str | None = None) -> Composed:
        """The email a reminder becomes for this member, exactly as it would be sent (with links to
        ``public_base_url`` when given, else to the configured base)."""
        category = reminder.category
        unsubscribe = None
        if category is Category.MARKETING:
            unsubscribe = self.unsubscribe_link(member.member_id, public_base_url or self._config.public_base_url)
        context = {"display_name": member.display_name, "shop_name": self._config.shop_name,
                   "app_link": self._config.app_link, "unsubscribe_link": unsubscribe or "",
                   **self._kind_context(reminder, member, now)}
        email = templates.render(reminder.kind, member.locale, context, category)
        headers = {"X-Loyalty-Kind": reminder.kind.value, "X-Loyalty-Occasion": reminder.occasion}
        raw = mime.build(sender=self._config.sender, to=member.email, email=email, sent_at=now,
                         unsubscribe_url=unsubscribe, headers=headers)
        shown = dict(headers)
        if unsubscribe:
            shown.update({"List-Unsubscribe": f"<{unsubscribe}>",
                          "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
        return Composed(email.subject, email.text, email.html, shown, raw)

    def _kind_context(self, reminder: Reminder, member: Member, now: datetime) -> dict[str, Any]:
        data, locale = reminder.data, member.locale
        context: dict[str, Any] = {"order_id": data.get("order_id", "")}
        if "amount_minor" in data:
            units = minor_units(data["currency"])
            whole, part = divmod(int(data["amount_minor"]), 10**units)
            number = f"{whole}.{part:0{units}d}" if units else str(whole)
            context["amount"] = f"{number} {data['currency']}"
        names = [i.get("name") or i["sku"] for i in data.get("items") or []]
        context["items"] = ", ".join(names) if names else templates.phrase("your_purchase", locale)
        context["feedback_link"] = f"{self._config.app_link}/feedback?order={data.get('order_id', '')}"
        if reminder.kind in (Kind.POINTS_AVAILABLE, Kind.WINBACK):
            context["available"] = self._ledger.snapshot(accounts=[member.member_id]).accounts[
                member.member_id].view(now).available
        if reminder.kind is Kind.POINTS_AVAILABLE:
            purchase = self._ledger.operation(f"purchase/{data['order_id']}")
            refunded = int(purchase.state["refunded_minor"]) if purchase else 0
            total = int(purchase.state["amount_minor"]) if purchase else 1
            context["points"] = self._remaining_points(reminder, total, refunded)
        if reminder.kind is Kind.REPLACEMENT:
            context.update(item_name=data["name"], interval_days=data["interval_days"])
        if reminder.kind is Kind.WINBACK:
            context["days"] = data.get("days", "")
        if reminder.kind is Kind.HOLIDAY:
            holiday_names = data.get("names") or {}
            context["holiday_name"] = templates.pick(holiday_names, locale) or data.get("holiday_id", "")
        if reminder.kind is Kind.CAMPAIGN:
            campaign = self.campaign(data["campaign_id"])
            context["headline"] = templates.pick(campaign["headline"], locale)
            context["message"] = templates.pick(campaign["message"], locale)
        return context

    def preview(self, member_id: str, kind: Kind, occasion: str | None, *,
                public_base_url: str | None = None) -> Composed:
        """Render what a reminder would send this member now, without sending or recording anything.

        The occasion names what the email is about (an order, ``order:sku``, a holiday, a campaign);
        its data is read from where the real reminder would take it.
        """
        member = self._ledger.snapshot(members=[member_id]).members.get(member_id)
        if member is None:
            raise NotFound(f"No member {member_id}.")
        data = self._preview_data(member_id, kind, occasion)
        now = self._clock.now()
        return self.compose(Reminder.new(member_id, kind, occasion or "preview", now, data=data), member, now,
                            public_base_url=public_base_url)

    def _preview_data(self, member_id: str, kind: Kind, occasion: str | None) -> dict[str, Any]:
        def needed(what: str) -> str:
            if not occasion:
                raise ValidationProblem(f"A {kind.value} email is about {what}: give it as the occasion.",
                                        loc=["body", "occasion"])
            return occasion

        if kind in ORDER_KINDS or kind is Kind.POINTS_AVAILABLE:
            order_id, _, sku = needed("an order").partition(":")
            purchase = self._ledger.operation(f"purchase/{order_id}")
            if purchase is None:
                raise NotFound(f"No purchase with order_id {order_id}.")
            answer, items = purchase.response, list(purchase.state.get("items") or [])
            data: dict[str, Any] = {"order_id": order_id, "amount_minor": answer["amount_minor"],
                                    "currency": answer["currency"], "items": items}
            if kind is Kind.POINTS_AVAILABLE:
                own = [c for c in answer.get("credits", []) if c["member_id"] == member_id]
                if not own:
                    raise ValidationProblem(f"Order {order_id} credited no points to {member_id}.",
                                            loc=["body", "occasion"])
                data.update(points=own[0]["points"], level=own[0]["level"])
            if kind is Kind.REPLACEMENT:
                item = next((i for i in items if not sku or i.get("sku") == sku), None)
                if item is None:
                    raise ValidationProblem(f"Order {order_id} has no item {sku or ''}.", loc=["body", "occasion"])
                rule = replacement_interval(item, self._store.replacement_rules())
                data.update(sku=item["sku"], name=item.get("name") or (rule.name if rule else None) or item["sku"],
                            interval_days=rule.interval_days if rule else 0)
            return data
        if kind is Kind.HOLIDAY:
            holiday = next((h for h in self._store.holidays() if h.holiday_id == needed("a holiday")), None)
            if holiday is None:
                raise NotFound(f"No holiday {occasion} in the calendar.")
            return {"holiday_id": holiday.holiday_id, "names": holiday.names}
        if kind is Kind.CAMPAIGN:
            return {"campaign_id": self.campaign(needed("a campaign"))["campaign_id"]}
        if kind is Kind.WINBACK:
            return {"days": self._store.settings().winback_after_days}
        return {}

    # --- consent ---------------------------------------------------------------------------------

    def unsubscribe_link(self, member_id: str, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/u/{token_for(member_id, self._secret())}"

    def member_for_token(self, token: str) -> str:
        member_id = member_for(token, self._secret())
        if member_id is None:
            raise NotFound("This unsubscribe link is not valid.")
        return member_id

    def unsubscribe(self, token: str) -> str:
        """Stop all marketing to the token's member, at once (the sender reads consent at send time)."""
        member_id = self.member_for_token(token)
        try:
            self._ledger.update_member(member_id, {"marketing_opt_in": False})
        except NoSuchMember:
            raise NotFound("This unsubscribe link is not valid.") from None
        return member_id

    def record_ses_event(self, detail: dict[str, Any]) -> list[str]:
        """Suppress the addresses a permanent bounce or a complaint names; returns them."""
        now = self._clock.now()
        event = detail.get("eventType") or detail.get("notificationType")
        addresses: list[str] = []
        if event == "Bounce" and detail.get("bounce", {}).get("bounceType") == "Permanent":
            addresses = [r["emailAddress"] for r in detail["bounce"].get("bouncedRecipients", [])]
            reason = f"bounce: {detail['bounce'].get('bounceSubType', 'permanent')}"
        elif event == "Complaint":
            addresses = [r["emailAddress"] for r in detail["complaint"].get("complainedRecipients", [])]
            reason = "complaint"
        for address in addresses:
            self._store.suppress(address, reason, now)
        return addresses


def operation_image(record: dict[str, Any]) -> dict[str, Any] | None:
    """The new image of a DynamoDB stream record of the Operations table, if it is a new purchase."""
    image = record.get("dynamodb", {}).get("NewImage")
    if record.get("eventName") != "INSERT" or not image:
        return None
    item = from_item(image)
    return item if str(item.get("pk", "")).startswith("purchase/") else None

