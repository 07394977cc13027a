"""What a reminder says: the email it becomes for a member, and previews of it without sending."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from loyalty.ledger.accounts import BalanceView
from loyalty.ledger.assets import POINTS, Bucket
from loyalty.ledger.store import LedgerStore
from loyalty.members.domain import Member
from loyalty.members.store import MemberStore
from loyalty.outreach import mime, templates
from loyalty.outreach.config import OutreachConfig
from loyalty.outreach.plans import guides_for, replacement_interval
from loyalty.outreach.policy import Category, Reminder, ReminderKind
from loyalty.outreach.store import OutreachStore, find_campaign, find_purchase
from loyalty.outreach.unsubscribe import token_for
from loyalty.shared.clock import Clock
from loyalty.shared.errors import NotFound, ValidationProblem
from loyalty.shared.money import format_amount

ORDER_KINDS = (ReminderKind.THANK_YOU, ReminderKind.GREETING, ReminderKind.CHECKIN, ReminderKind.REPLACEMENT)
ABOUT_THE_ORDER = ORDER_KINDS[:3]  # emails that show the order (its amount and items), read when they are written
# Emails that carry the usage guides of what the order contained, read from the rules when they are written: a guide
# the shop corrects before the check-in goes out is sent corrected (docs/reminders.md).
WITH_GUIDES = (ReminderKind.THANK_YOU, ReminderKind.CHECKIN)


def expiring_in(view: BalanceView, month: str) -> tuple[int, date | None]:
    """What of a member's points expires in a local month (``YYYY-MM``), and the first day some of it does."""
    found = [(amount, day) for amount, day in view.expiring_on() if day.strftime("%Y-%m") == month]
    return sum(amount for amount, _ in found), min((day for _, day in found), default=None)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    raw: bytes


class Composer:
    def __init__(self, store: OutreachStore, members: MemberStore, ledger: LedgerStore, clock: Clock,
                 config: OutreachConfig, secret: Callable[[], bytes]) -> None:
        self._store = store
        self._members = members
        self._ledger = ledger
        self._clock = clock
        self._config = config
        self._secret = secret

    def unsubscribe_link(self, member: Member, base_url: str) -> str:
        """The member's one-click link for their current opt-in (it names their unsubscribe id, not them)."""
        if member.unsubscribe_id is None:
            raise ValueError(f"member {member.member_id} has no unsubscribe id")
        return f"{base_url.rstrip('/')}/u/{token_for(member.unsubscribe_id, member.opted_in_at, self._secret())}"

    def compose(self, reminder: Reminder, member: Member, now: datetime, *,
                public_base_url: str | None = None) -> Composed:
        """The email a reminder becomes for this member, exactly as it would be sent (with links to
        ``public_base_url`` when given, else to the configured base)."""
        category = reminder.category
        unsubscribe = None
        if category is Category.MARKETING:
            unsubscribe = self.unsubscribe_link(member, public_base_url or self._config.public_base_url)
        context = {"display_name": templates.unlinkable(member.display_name), "shop_name": self._config.shop_name,
                   "app_link": self._config.app_link, "unsubscribe_link": unsubscribe or "",
                   **self._kind_context(reminder, member, now)}
        email = templates.render(reminder.kind, member.locale, context, category)
        headers = {"X-Loyalty-Kind": reminder.kind.value, "X-Loyalty-Occasion": reminder.occasion}
        raw = mime.build(sender=self._config.sender, to=member.email, email=email, sent_at=now,
                         unsubscribe_url=unsubscribe, headers=headers)
        shown = dict(headers)
        if unsubscribe:
            shown.update(mime.unsubscribe_headers(unsubscribe))
        return Composed(email.subject, email.text, email.html, shown, raw)

    def _kind_context(self, reminder: Reminder, member: Member, now: datetime) -> dict[str, Any]:
        data, locale = reminder.data, member.locale
        if reminder.kind in ABOUT_THE_ORDER and "order_id" in data and "amount_minor" not in data:
            data = {**self._order_data(member.member_id, reminder.kind, data["order_id"], or_none=True), **data}
        context: dict[str, Any] = {"order_id": data.get("order_id", "")}
        if "amount_minor" in data:
            context["amount"] = format_amount(int(data["amount_minor"]), data["currency"])
        names = [i.get("name") or i["sku"] for i in data.get("items") or []]
        context["items"] = ", ".join(names) if names else templates.phrase("your_purchase", locale)
        context["feedback_link"] = f"{self._config.app_link}/feedback?order={data.get('order_id', '')}"
        if reminder.kind in WITH_GUIDES:
            guides = guides_for(list(data.get("items") or []), self._store.replacement_rules())
            context["guides"] = templates.guide_section(guides, locale)
        if reminder.kind in (ReminderKind.POINTS_AVAILABLE, ReminderKind.WINBACK):
            account = self._ledger.accounts([member.member_id])[member.member_id]
            context["available"] = account.available(POINTS.name, now, expiry=self._ledger.expiry)
        if reminder.kind is ReminderKind.POINTS_EXPIRING:
            view = self._ledger.accounts([member.member_id])[member.member_id].view(POINTS.name, now,
                                                                                    self._ledger.expiry)
            points, first = expiring_in(view, data["month"])
            context.update(points=points, on=first.isoformat() if first else data["month"],
                           available=view[Bucket.AVAILABLE])
        if reminder.kind is ReminderKind.POINTS_AVAILABLE:
            purchase = find_purchase(self._ledger, data["order_id"])
            points = int(data["points"])
            context["points"] = purchase.remaining(points) if purchase else points
        if reminder.kind is ReminderKind.REPLACEMENT:
            context.update(item_name=data["name"], interval_days=data["interval_days"])
        if reminder.kind is ReminderKind.WINBACK:
            context["days"] = data.get("days", "")
        if reminder.kind is ReminderKind.HOLIDAY:
            holiday_names = data.get("names") or next(
                (h.names for h in self._store.holidays() if h.holiday_id == data.get("holiday_id")), {})
            context["holiday_name"] = templates.pick(holiday_names, locale) or data.get("holiday_id", "")
        if reminder.kind in (ReminderKind.FEEDBACK_REPLY, ReminderKind.FEEDBACK_ALERT):
            context.update(_feedback_context(data, locale))
        if reminder.kind is ReminderKind.CAMPAIGN:
            campaign = find_campaign(self._store, data["campaign_id"])
            context["headline"] = templates.pick(campaign["headline"], locale)
            context["message"] = templates.pick(campaign["message"], locale)
        return context

    def preview(self, member_id: str, kind: ReminderKind, occasion: str | None, *,
                public_base_url: str | None = None) -> Composed:
        """Render what a reminder would send this member now, without sending or recording anything.

        The occasion names what the email is about (an order, ``order:sku``, a holiday, a campaign);
        its data is read from where the real reminder would take it.
        """
        member = self._members.members([member_id]).get(member_id)
        if member is None:
            raise NotFound(f"No member {member_id}.")
        data = self._preview_data(member_id, kind, occasion)
        now = self._clock.now()
        return self.compose(Reminder.new(member_id, kind, occasion or "preview", now, data=data), member, now,
                            public_base_url=public_base_url)

    def _preview_data(self, member_id: str, kind: ReminderKind, occasion: str | None) -> dict[str, Any]:
        def needed(what: str) -> str:
            if not occasion:
                raise ValidationProblem(f"A {kind.value} email is about {what}: give it as the occasion.",
                                        loc=["body", "occasion"])
            return occasion

        if kind in ORDER_KINDS or kind is ReminderKind.POINTS_AVAILABLE:
            return self._order_data(member_id, kind, needed("an order"))
        if kind is ReminderKind.HOLIDAY:
            holiday = next((h for h in self._store.holidays() if h.holiday_id == needed("a holiday")), None)
            if holiday is None:
                raise NotFound(f"No holiday {occasion} in the calendar.")
            return {"holiday_id": holiday.holiday_id, "names": holiday.names}
        if kind is ReminderKind.CAMPAIGN:
            return {"campaign_id": find_campaign(self._store, needed("a campaign"))["campaign_id"]}
        if kind is ReminderKind.WINBACK:
            return {"days": self._store.settings().winback_after_days}
        if kind in (ReminderKind.FEEDBACK_REPLY, ReminderKind.FEEDBACK_ALERT):
            raise ValidationProblem(f"A {kind.value} email is written from a feedback and its reply: it is sent when "
                                    "staff reply or the complaint is overdue, not previewed.", loc=["body", "kind"])
        if kind is ReminderKind.POINTS_EXPIRING:
            month = needed("a month (YYYY-MM)")
            if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
                raise ValidationProblem("A points_expiring email's occasion is a month: YYYY-MM.",
                                        loc=["body", "occasion"])
            return {"month": month}
        return {}

    def _order_data(self, member_id: str, kind: ReminderKind, occasion: str, *, or_none: bool = False
                    ) -> dict[str, Any]:
        """What an email about an order says about it, read from the purchase's record (``or_none``: nothing
        if there is no such purchase, rather than a 404)."""
        order_id, _, sku = occasion.partition(":")
        purchase = find_purchase(self._ledger, order_id)
        if purchase is None:
            if or_none:
                return {}
            raise NotFound(f"No purchase with order_id {order_id}.")
        if or_none and kind is not ReminderKind.POINTS_AVAILABLE:
            return {"order_id": order_id, "amount_minor": purchase.amount_minor, "currency": purchase.currency,
                    "items": list(purchase.items)}
        items = list(purchase.items)
        data: dict[str, Any] = {"order_id": order_id, "amount_minor": purchase.amount_minor,
                                "currency": purchase.currency, "items": items}
        if kind is ReminderKind.POINTS_AVAILABLE:
            own = [c for c in purchase.credits if c.member_id == member_id and not c.is_commission]
            if not own:
                raise ValidationProblem(f"Order {order_id} credited no points to {member_id}.",
                                        loc=["body", "occasion"])
            data.update(points=own[0].points, level=own[0].level)
        if kind is ReminderKind.REPLACEMENT:
            item = next((i for i in items if not sku or i.get("sku") == sku), None)
            if item is None:
                raise ValidationProblem(f"Order {order_id} has no item {sku or ''}.", loc=["body", "occasion"])
            rule = replacement_interval(item, self._store.replacement_rules())
            data.update(sku=item["sku"], name=item.get("name") or (rule.name if rule else None) or item["sku"],
                        interval_days=rule.interval_days if rule else 0)
        return data


def _feedback_context(data: dict[str, Any], locale: str) -> dict[str, Any]:
    """What a feedback's emails say: the member's words (an excerpt), the reply, the rating, when it was sent."""
    rating = data.get("rating")
    return {"feedback_id": data.get("feedback_id", ""), "feedback_text": data.get("excerpt", ""),
            "reply_text": data.get("reply", ""), "sent_at": data.get("created_at", ""),
            "rating": f"{rating}/5" if rating else templates.phrase("no_rating", locale),
            "order_id": data.get("order_id") or templates.phrase("no_order", locale)}
