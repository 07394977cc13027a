"""What outreach needs from storage, queues and the mail service (``outreach.dynamodb`` and
``outreach.messaging`` implement it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from loyalty.outreach.plans import Holiday, ReplacementRule
from loyalty.outreach.policy import ContactHistory, OutreachSettings, Reminder
from loyalty.purchases.domain import PurchaseRecord, purchase_key
from loyalty.shared.errors import NotFound
from loyalty.shared.once import OperationLog

# Send-log statuses a message never leaves (the claim "sending" included: only its owner finishes it).
FINAL_STATUSES = ("sending", "sent", "failed", "suppressed", "dropped")
Planned = Literal["new", "planned", "done"]


class ClaimLost(Exception):
    """Another dispatcher got to this message first, or the member's contact history moved."""


class OutreachStore(Protocol):
    optin_shards: int  # how many partitions the opted-in members are spread over (one fan-out message each)

    # what the admin configures
    def settings(self) -> OutreachSettings: ...
    def save_settings(self, settings: OutreachSettings) -> None: ...
    def replacement_rules(self) -> list[ReplacementRule]: ...
    def save_replacement_rules(self, rules: list[ReplacementRule]) -> None: ...
    def holidays(self) -> list[Holiday]: ...
    def save_holidays(self, holidays: list[Holiday]) -> None: ...

    # the due index: reminders waiting for their time
    def schedule(self, reminders: Sequence[Reminder]) -> None: ...
    def due(self, now: datetime) -> Iterator[tuple[dict[str, str], Reminder | None]]:
        """Every reminder whose time has come, with its key; None for an item that cannot be read."""
        ...
    def next_due(self) -> datetime | None: ...
    def forget_due(self, keys: Sequence[dict[str, str]]) -> None: ...
    def quarantine_due(self, key: dict[str, str], reason: str, now: datetime) -> None:
        """Move a due item that cannot be sent out of the index, kept with why, for an operator to look at."""
        ...

    # the send log: one item per (member, kind, occasion), moving only forward
    def log(self, member_id: str, kind: str, occasion: str) -> dict[str, Any] | None: ...
    def logs(self, member_id: str, limit: int = 100) -> list[dict[str, Any]]: ...
    def plan(self, reminder: Reminder, now: datetime, campaign_id: str | None = None) -> Planned: ...
    def record(self, reminder: Reminder, status: str, reason: str, now: datetime, *,
               extra: dict[str, Any] | None = None, contact: tuple[ContactHistory, ContactHistory] | None = None,
               campaign_id: str | None = None) -> None: ...
    def finish(self, reminder: Reminder, status: str, reason: str, now: datetime,
               extra: dict[str, Any] | None = None) -> None: ...

    # each member's contact history, and suppressed addresses
    def contact(self, member_id: str) -> ContactHistory: ...
    def note_purchase(self, member_id: str, order_id: str, recorded_at: str, categories: list[str]) -> None: ...
    def categories(self, member_ids: Sequence[str]) -> dict[str, set[str]]: ...
    def suppression(self, email: str) -> str | None: ...
    def suppress(self, email: str, reason: str, now: datetime) -> None: ...

    # holidays' and campaigns' fan-outs
    def fanout_started(self, key: str) -> bool: ...
    def mark_fanout(self, key: str, now: datetime) -> None: ...
    def create_campaign(self, campaign: dict[str, Any]) -> bool: ...
    def campaign(self, campaign_id: str) -> dict[str, Any] | None: ...
    def count(self, campaign_id: str, counter: str) -> None: ...

    # members, as outreach finds them
    def birthdays(self, month_day: str) -> Iterator[dict[str, Any]]: ...
    def opted_in(self, shard: int, start: dict[str, Any] | None,
                 limit: int) -> tuple[list[dict[str, Any]], dict[str, Any] | None]: ...


class Mailer(Protocol):
    def pace(self) -> None:
        """Wait for this sender's next slot under the send rate."""
        ...

    def send(self, raw: bytes, to: str, tags: dict[str, str]) -> str:
        """Send a MIME message; its message id."""
        ...


@dataclass(frozen=True, order=True)
class Refused:
    """A message the queue did not take: its index in the offer, why, and whether to offer it again later
    (``retry``: SQS's fault, such as throttling or an internal error) or set it aside (the message's fault)."""

    index: int
    why: str
    retry: bool = False


class Queue(Protocol):
    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Send every message, or raise."""
        ...

    def offer(self, messages: Sequence[dict[str, Any]]) -> list[Refused]:
        """Send what the queue takes; the ones it did not, by index, with why and whether to offer them again."""
        ...


def find_campaign(store: OutreachStore, campaign_id: str) -> dict[str, Any]:
    found = store.campaign(campaign_id)
    if found is None:
        raise NotFound(f"No campaign {campaign_id}.")
    return found


def find_purchase(log: OperationLog, order_id: str) -> PurchaseRecord | None:
    """A recorded purchase as its operation record keeps it (what it credited, what was refunded since)."""
    found = log.operation(purchase_key(order_id))
    return PurchaseRecord.from_state(order_id, found.state, found.created_at) if found else None
