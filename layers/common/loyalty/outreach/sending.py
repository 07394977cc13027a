"""Sending a due reminder: decide (``policy.decide``), claim the send in the send log, send, record.

Every email goes out at most once per (member, kind, occasion): the claim is a conditional move of its
send-log item to ``sending``, which only one sender can make.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from loyalty.ledger.assets import POINTS
from loyalty.ledger.store import LedgerStore
from loyalty.members.domain import Member
from loyalty.members.store import MemberStore
from loyalty.outreach.content import ORDER_KINDS, Composer, expiring_in
from loyalty.outreach.policy import (
    TO_STAFF,
    Category,
    ContactHistory,
    Decision,
    OutreachSettings,
    Recipient,
    Reminder,
    ReminderKind,
    Verdict,
    decide,
    default_time_zone,
)
from loyalty.outreach.store import FINAL_STATUSES, ClaimLost, Mailer, OutreachStore, find_purchase
from loyalty.shared.clock import Clock, to_rfc3339

CLAIM_TRIES = 5


class OutreachSender:
    def __init__(self, store: OutreachStore, members: MemberStore, ledger: LedgerStore, clock: Clock,
                 composer: Composer, mailer: Mailer | None) -> None:
        self._store = store
        self._members = members
        self._ledger = ledger
        self._clock = clock
        self._composer = composer
        self._mailer = mailer

    def deliver(self, reminder: Reminder) -> Decision:
        """Decide what happens to a due reminder now, and make it so, at most once per (member, kind, occasion)."""
        for _ in range(CLAIM_TRIES):
            now = self._clock.now()
            logged = self._store.log(reminder.member_id, reminder.kind, reminder.occasion)
            if logged and logged["status"] in FINAL_STATUSES:
                return Decision(Verdict.DROP, f"already {logged['status']}")
            member = self._members.members([reminder.member_id]).get(reminder.member_id)
            settings = self._store.settings()
            history = self._store.contact(reminder.member_id)
            if member is not None and reminder.kind in TO_STAFF:
                member = to_staff(member, settings)
            recipient = self._recipient(member, settings) if member else None
            decision = decide(reminder, recipient, history, now, settings, self._cancelled(reminder, history, now))
            try:
                self._act(reminder, member, history, decision, now)
            except ClaimLost:
                continue  # another dispatcher moved first, or the member's history changed: decide again
            return decision
        raise ClaimLost(f"{reminder.member_id}/{reminder.kind}/{reminder.occasion} kept changing")

    def _act(self, reminder: Reminder, member: Member | None, history: ContactHistory, decision: Decision,
             now: datetime) -> None:
        store, campaign_id = self._store, reminder.data.get("campaign_id")
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
        composed = self._composer.compose(reminder, member, now)
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

    def _recipient(self, member: Member, settings: OutreachSettings) -> Recipient:
        return Recipient(
            member_id=member.member_id, email=member.email, display_name=member.display_name, locale=member.locale,
            time_zone=member.time_zone or default_time_zone(member.locale, settings),
            marketing_opt_in=member.marketing_opt_in, notices=member.notices,
            suppressed=self._store.suppression(member.email),
        )

    def _cancelled(self, reminder: Reminder, history: ContactHistory, now: datetime) -> str | None:
        """Why the occasion no longer holds (refunded, reversed, superseded, nothing to spend), or None."""
        order_id = reminder.data.get("order_id")
        if reminder.kind in TO_STAFF and not self._store.settings().staff_email:
            return "no staff address in the outreach settings"
        if reminder.kind is ReminderKind.POINTS_EXPIRING:
            view = self._ledger.accounts([reminder.member_id])[reminder.member_id].view(POINTS.name, now,
                                                                                        self._ledger.expiry)
            return None if expiring_in(view, str(reminder.data.get("month")))[0] > 0 \
                else "nothing left that expires that month: spent, or gone already"
        if reminder.kind is ReminderKind.WINBACK:
            return "a later purchase was made" if history.last_order_id not in (None, order_id) else None
        if not order_id or (reminder.kind not in ORDER_KINDS and reminder.kind is not ReminderKind.POINTS_AVAILABLE):
            return None
        purchase = find_purchase(self._ledger, order_id)
        if purchase is None:
            return "the order is unknown"
        if reminder.kind is ReminderKind.POINTS_AVAILABLE:
            if purchase.remaining(int(reminder.data["points"])) <= 0:
                return "the points were reversed by a refund"
            account = self._ledger.accounts([reminder.member_id])[reminder.member_id]
            if account.available(POINTS.name, now, expiry=self._ledger.expiry) <= 0:
                return "nothing to spend: the points went to make up for points refunded after they were spent"
            return None
        return "the order was fully refunded" if purchase.fully_refunded else None


def to_staff(member: Member, settings: OutreachSettings) -> Member:
    """The member an email about them is sent as when it goes to the shop's staff address (``TO_STAFF``): the staff
    address and language, everything else the member's (the email names them); consent is not theirs to give."""
    return replace(member, email=settings.staff_email or "", locale=settings.staff_locale, marketing_opt_in=True,
                   notices=True)
