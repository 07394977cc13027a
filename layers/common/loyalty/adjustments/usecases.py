"""A correction by an admin: a new entry in ``available``, never an edit of an old one."""

from __future__ import annotations

from loyalty.ledger.assets import POINTS, Bucket, EntryKind
from loyalty.ledger.entries import Entry, Source
from loyalty.ledger.posting import Posting
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.members.store import MemberStore
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

ADJUSTMENTS = ResultCodec(Entry)


class AdjustmentService:
    def __init__(self, members: MemberStore, ledger: LedgerStore, clock: Clock,
                 retry: RetryPolicy | None = None) -> None:
        self._members = members
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def adjust(self, *, adjustment_id: str, member_id: str, points: int, reason: str,
               requested_by: str) -> Outcome[Entry]:
        """Add (or take, if negative) ``points`` to the member's available points, exactly once per id."""
        key = f"adjustment/{adjustment_id}"
        request = {"member_id": member_id, "points": points, "reason": reason}

        def attempt() -> Entry:
            now = self._clock.now()
            members, accounts = self._members.members_with_accounts([member_id])
            if member_id not in members:
                raise NotFound(f"No member {member_id}.")
            line = Posting(member_id, POINTS.name, points, Bucket.AVAILABLE, EntryKind.ADJUSTMENT,
                           Source("adjustment", adjustment_id))
            write = AccountWrite.posting(accounts[member_id], [line], now, self._ledger.expiry)
            entry = write.entries[-1]
            op = Operation(key, fingerprint(request), 201, ADJUSTMENTS.dump(entry), to_rfc3339(now),
                           {"member_id": member_id, "reason": reason, "requested_by": requested_by})
            self._ledger.commit(LedgerWrite(op, [write]))
            return entry

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, ADJUSTMENTS)
