"""Tiers and statuses: the admin's settings (a programme version), a member's standing as a member read shows it,
and what a purchase and a refund write to the standing in their own transaction (docs/earning-tiers.md)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.ledger.store import Record
from loyalty.program.domain import Applied, ProgramRules, StatusRule, TierRule
from loyalty.program.usecases import ProgramService
from loyalty.shared.clock import Clock
from loyalty.shared.once import RetryPolicy
from loyalty.tiers.domain import Standing, TierView, after_purchase, after_refund, check_rules, has_rules, view
from loyalty.tiers.dynamodb import referral_count, standing_write
from loyalty.tiers.store import StandingStore

STANDING_STATE = "standing"  # in a purchase record's state: the local month its amount counts in


class TierService:
    def __init__(self, program: ProgramService, standings: StandingStore, clock: Clock,
                 retry: RetryPolicy | None = None) -> None:
        self._program = program
        self._standings = standings
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def current(self) -> ProgramRules:
        return self._program.current()

    def publish(self, *, tiers: tuple[TierRule, ...], statuses: tuple[StatusRule, ...],
                expected_version: int | None = None) -> ProgramRules:
        """A new programme version with ``tiers`` and ``statuses`` replaced and everything else kept (``422`` for
        rules the programme cannot run, ``409 version-conflict`` if ``expected_version`` is not current)."""
        check_rules(tiers, statuses)
        return self._program.publish(expected_version=expected_version, tiers=tiers, statuses=statuses)

    def member(self, member_id: str) -> TierView | None:
        """The member's tier and statuses now; None (and no standing read) under a programme without either."""
        return standing_view(self._program.current(), self._standings, self._retry, member_id, self._clock.now())


def standing_view(rules: ProgramRules, standings: StandingStore, retry: RetryPolicy, member_id: str,
                  now: datetime) -> TierView | None:
    if not has_rules(rules):
        return None
    stored = retry.run(lambda: standings.standing(member_id))
    return view(rules, stored or Standing(member_id), now)


@dataclass(frozen=True)
class PurchaseStanding:
    """A purchase's part in tiers and statuses: the multiplier the buyer earns under, the records the purchase's
    transaction writes (the buyer's standing; the referrer's count when the buyer becomes a qualified referral) and
    what its operation record keeps for a refund."""

    multiplier: Applied | None
    records: list[Record]
    state: Mapping[str, Any]


class StandingWrites:
    """What purchases and refunds write to standings, in the Earning table (``table``)."""

    def __init__(self, table: str, standings: StandingStore,
                 program: Callable[[], ProgramRules] | None = None) -> None:
        self._table = table
        self._standings = standings
        self._program = program  # the current programme, which a refund needs to apply a review that fell due

    def purchase(self, rules: ProgramRules, stored: Standing | None, member_id: str, referrer_id: str | None,
                 amount_minor: int, now: datetime) -> PurchaseStanding | None:
        """None under a programme without tiers or statuses (the purchase is then exactly a plain one)."""
        if not has_rules(rules):
            return None
        before = stored or Standing(member_id)
        after = after_purchase(rules, before, now, amount_minor, referrer_id)
        records = [standing_write(self._table, before, after.standing)]
        if after.qualifies_referrer is not None:
            records.append(referral_count(self._table, after.qualifies_referrer, 1))
        return PurchaseStanding(rules.multiplier(now, after.tier, after.statuses), records,
                                {STANDING_STATE: after.month})

    def refund(self, state: Mapping[str, Any], member_id: str, refund_minor: int, fully_refunded: bool,
               now: datetime, read: Callable[[Callable[[], Standing | None]], Standing | None]) -> list[Record]:
        """The records a refund writes: none for a purchase that counted in no standing (no read either)."""
        month = state.get(STANDING_STATE)
        if not isinstance(month, str):
            return []
        before = read(lambda: self._standings.standing(member_id)) or Standing(member_id)
        # A review that fell due is applied before the refund takes its amount off a month: the review judges the
        # spend as it stood at review_at, never a refund made after it (which would downgrade early).
        rules = self._program() if self._program is not None else None
        after = after_refund(before, now, rules, month, refund_minor, fully_refunded)
        records = [standing_write(self._table, before, after.standing)]
        if after.uncounts_referrer is not None:
            records.append(referral_count(self._table, after.uncounts_referrer, -1))
        return records
