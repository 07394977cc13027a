"""What the shop configures for outreach and reads back, and the member's consent (unsubscribe links,
SES bounces and complaints)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loyalty.members.store import MemberStore, NoSuchMember
from loyalty.outreach.plans import Holiday, ReplacementRule
from loyalty.outreach.policy import OutreachSettings
from loyalty.outreach.store import OutreachStore, find_campaign
from loyalty.outreach.unsubscribe import generation, read_token
from loyalty.shared.clock import Clock
from loyalty.shared.errors import NotFound


class OutreachAdmin:
    def __init__(self, store: OutreachStore, members: MemberStore, clock: Clock,
                 secret: Callable[[], bytes]) -> None:
        self._store = store
        self._members = members
        self._clock = clock
        self._secret = secret

    # --- what the admin configures ---------------------------------------------------------------

    def settings(self) -> OutreachSettings:
        return self._store.settings()

    def save_settings(self, settings: OutreachSettings) -> OutreachSettings:
        self._store.save_settings(settings)
        return self._store.settings()

    def replacement_rules(self) -> list[ReplacementRule]:
        return self._store.replacement_rules()

    def save_replacement_rules(self, rules: list[ReplacementRule]) -> list[ReplacementRule]:
        self._store.save_replacement_rules(rules)
        return self._store.replacement_rules()

    def holidays(self) -> list[Holiday]:
        return self._store.holidays()

    def save_holidays(self, holidays: list[Holiday]) -> list[Holiday]:
        self._store.save_holidays(holidays)
        return self._store.holidays()

    def campaign(self, campaign_id: str) -> dict[str, Any]:
        return find_campaign(self._store, campaign_id)

    def messages(self, member_id: str) -> list[dict[str, Any]]:
        """The member's send log, one item per (kind, occasion)."""
        if not self._members.members([member_id]):
            raise NotFound(f"No member {member_id}.")
        return self._store.logs(member_id)

    # --- consent ---------------------------------------------------------------------------------

    def link_is_current(self, token: str) -> bool:
        """Whether a link undoes the member's current opt-in (True), or one they have since renewed (False: it
        changes nothing). A link this service did not sign, or whose member is gone, is a ``NotFound``."""
        return self._linked(token)[1]

    def _linked(self, token: str) -> tuple[str, bool, str | None]:
        """The link's member, whether it is for their current opt-in, and that opt-in (``opted_in_at``)."""
        link = read_token(token, self._secret())
        member_id = self._members.member_id_for_unsubscribe(link.unsubscribe_id) if link else None
        member = self._members.members([member_id]).get(member_id) if member_id else None
        if link is None or member is None:
            raise NotFound("This unsubscribe link is not valid.")
        return member.member_id, link.generation == generation(member.opted_in_at), member.opted_in_at

    def unsubscribe(self, token: str) -> bool:
        """Stop all marketing to the token's member, at once (the sender reads consent at send time); False,
        changing nothing, for a link sent before the member opted in again."""
        member_id, current, opted_in_at = self._linked(token)
        if not current:
            return False
        try:  # conditional on the opt-in just checked: a new opt-in between the read and the write is kept
            return self._members.opt_out_if(member_id, opted_in_at)
        except NoSuchMember:
            raise NotFound("This unsubscribe link is not valid.") from None

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
