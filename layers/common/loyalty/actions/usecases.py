"""Recording actions and check-ins, each one business event committed in one transaction, exactly once.

The transaction holds the event's ``Operation``, the member's account and the action's entry (none for an action
worth 0 points), and the action's counters (``ActionStore.counter_records``): a counter past its cap fails the whole
transaction with ``409 action-capped``, so nothing of a refused action is written, and no read before the write
decides a cap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from loyalty.actions.domain import (
    CHECK_IN,
    DAY,
    LIFETIME,
    MONTH,
    ActionCapped,
    ActionCount,
    ActionRecorded,
    UnknownAction,
    action_key,
    check_in_id,
    check_in_key,
)
from loyalty.actions.store import ActionStore
from loyalty.ledger.assets import POINTS, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.members.store import MemberStore
from loyalty.program.domain import ProgramRules
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

RECORDED = ResultCodec(ActionRecorded)


class _CheckIns(ResultCodec[ActionRecorded]):
    """A check-in's record is the member's day: a second check-in that day is refused, never answered as a replay
    (the app sends no id of its own: a member tapping again is checking in again)."""

    def load_operation(self, recorded: Operation) -> ActionRecorded:
        raise ActionCapped(f"Already checked in on {recorded.key.rsplit('/', 1)[1]} (the programme's local date).")


CHECKED_IN = _CheckIns(ActionRecorded)


class ActionService:
    def __init__(self, store: ActionStore, members: MemberStore, ledger: LedgerStore, clock: Clock,
                 program: Callable[[], ProgramRules], retry: RetryPolicy | None = None) -> None:
        self._store, self._members, self._ledger, self._clock = store, members, ledger, clock
        self._program = program
        self._retry = retry or RetryPolicy()

    def record(self, *, action_id: str, member_id: str, action: str, ref: str | None = None,
               by: str | None = None) -> Outcome[ActionRecorded]:
        """Credit the member for an action the programme defines, exactly once by ``action_id``; past a cap →
        ``409 action-capped``, an action the programme does not define → ``422 unknown-action``."""
        key = action_key(action_id)
        request: dict[str, Any] = {"member_id": member_id, "action": action}
        if ref is not None:
            request["ref"] = ref

        def attempt() -> ActionRecorded:
            now = self._clock.now()
            rules = self._program()
            return self._commit(key, request, action_id, member_id, action, rules, now, RECORDED,
                                {"ref": ref, "by": by})

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, RECORDED)

    def check_in(self, member_id: str) -> Outcome[ActionRecorded]:
        """The member's check-in of today (the programme's local date): once a day, a second → ``409
        action-capped``; a programme without ``check_in`` → ``422 unknown-action``."""
        now = self._clock.now()
        rules = self._program()
        day = rules.local_date(now)
        key = check_in_key(member_id, day)
        request = {"member_id": member_id, "day": day.isoformat()}

        def attempt() -> ActionRecorded:
            return self._commit(key, request, check_in_id(day), member_id, CHECK_IN, rules, now, CHECKED_IN, {})

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, CHECKED_IN)

    def _commit(self, key: str, request: dict[str, Any], action_id: str, member_id: str, action: str,
                rules: ProgramRules, now: datetime, codec: ResultCodec[ActionRecorded],
                state: dict[str, Any]) -> ActionRecorded:
        rule = rules.action_rules.get(action)
        if rule is None:
            raise UnknownAction(f"The programme (version {rules.version}) has no action {action!r}.")
        members, accounts = self._members.members_with_accounts([member_id])
        if member_id not in members:
            raise NotFound(f"No member {member_id}.")
        day = rules.local_date(now)
        writes = []
        entry = None
        if rule.points > 0:
            line = Posting(member_id, POINTS.name, rule.points, Bucket.AVAILABLE, EntryKind.ACTION,
                           Source("action", action_id), rule_version=rules.version, rule=f"action:{action}")
            write = AccountWrite.posting(accounts[member_id], [line], now, rules.expiry_policy())
            writes.append(write)
            entry = write.entries[-1]
        result = ActionRecorded(action_id, member_id, action, rule.points, entry)
        kept = {"member_id": member_id, "action": action, "points": rule.points, "day": day.isoformat(),
                "rule_version": rules.version, **{k: v for k, v in state.items() if v is not None}}
        op = Operation(key, fingerprint(request), 201, codec.dump(result), to_rfc3339(now), kept)
        self._ledger.commit(LedgerWrite(op, writes, records=self._store.counter_records(member_id, action, rule, day)))
        return result

    def counts(self, member_id: str) -> list[ActionCount]:
        """Each action of the current programme as the member stands with it today (the programme's local date)."""
        rules = self._program()
        members = self._retry.run(lambda: self._members.members([member_id]))
        if member_id not in members:
            raise NotFound(f"No member {member_id}.")
        day: date = rules.local_date(self._clock.now())
        names = [name for name, _ in rules.actions]
        found = self._retry.run(lambda: self._store.counts(member_id, names, day)) if names else {}
        return [ActionCount(name, rule.points, found.get(name, {}).get(DAY, 0), found.get(name, {}).get(MONTH, 0),
                            found.get(name, {}).get(LIFETIME, 0), rule.per_day, rule.per_month, rule.lifetime)
                for name, rule in rules.actions]
