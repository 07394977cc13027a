"""Spending available points. The write itself carries the condition that they are there."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from loyalty.ledger.assets import POINTS, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.expiry import once
from loyalty.ledger.posting import Posting, post
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.members.domain import Member
from loyalty.members.store import MemberStore
from loyalty.redemptions.domain import InsufficientPoints, Redeemed, redemption_id, redemption_key
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

if TYPE_CHECKING:
    from loyalty.rewards.usecases import RewardService

class _Redemptions(ResultCodec[Redeemed]):
    """A redemption's answer as its record keeps it: one by points keeps exactly the fields it always had."""

    def dump(self, result: Redeemed) -> dict[str, Any]:
        dumped = super().dump(result)
        return {k: v for k, v in dumped.items() if v is not None or k not in ("reward_id", "coupon")}


REDEMPTIONS = _Redemptions(Redeemed)
# Raises unless the text is the member's current member code (``counter.usecases.CounterService.check_present``).
PresenceCheck = Callable[[Member, str], None]


class RedemptionService:
    def __init__(self, members: MemberStore, ledger: LedgerStore, clock: Clock,
                 retry: RetryPolicy | None = None, present: PresenceCheck | None = None,
                 catalogue: Callable[[], RewardService] | None = None) -> None:
        self._present = present
        self._catalogue = catalogue  # the rewards catalogue (by reward_id), built on first use
        self._members = members
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def redeem(self, *, member_id: str, idempotency_key: str, points: int | None, reward: str | None,
               member_code: str | None = None, by: str | None = None,
               reward_id: str | None = None) -> Outcome[Redeemed]:
        """Spend ``points`` of the member's available points on ``reward``, exactly once per key.

        At the counter, staff (``by``) send the member's ``member_code``: unless it is the member's current one,
        ``MemberCodeInvalid`` and nothing is written. The code is proof, not part of the request: a retry with
        the same key and body gets the first answer whatever code it carries.

        With ``reward_id`` instead of ``points``: the catalogue's price is spent, one unit of its stock taken and
        its coupon issued, all in the same write (docs/wallet.md, "Rewards catalogue")."""
        key = redemption_key(member_id, idempotency_key)
        if reward_id is None:
            request = {"points": points, "reward": reward}
        else:
            request = {"reward_id": reward_id, **({"reward": reward} if reward is not None else {})}
        spent_as = redemption_id(key)

        def attempt(points: int | None = points, reward: str | None = reward) -> Redeemed:
            now = self._clock.now()
            members, accounts = self._members.members_with_accounts([member_id])
            if member_id not in members:
                raise NotFound("Sign up before redeeming points." if by is None else f"No member {member_id}.")
            if member_code is not None:
                self._check_present(members[member_id], member_code)
            account = accounts[member_id]
            taken = None
            if reward_id is not None:
                if self._catalogue is None:
                    raise NotFound(f"No reward {reward_id} in the catalogue.")
                catalogue = self._catalogue()
                found = catalogue.reward(reward_id)
                points, reward = found.points, reward if reward is not None else found.name
                taken = catalogue.take(found, member_id, key, now)
            if points is None or reward is None:  # pragma: no cover - the HTTP model sends one or the other
                raise AssertionError("a redemption names points and a reward, or a reward_id")
            expiry = once(self._ledger.expiry)  # the rule, read at most once by this attempt (only if it dates)
            available = account.available(POINTS.name, now, expiry=expiry)
            if available < points:
                raise InsufficientPoints(f"{points} points requested, {available} available.")
            spend = Posting(member_id, POINTS.name, -points, Bucket.AVAILABLE, EntryKind.REDEMPTION,
                            Source("redemption", spent_as))
            result = post(account, [spend], now, expiry)
            redeemed = Redeemed(spent_as, points, reward, {POINTS.name: result.account.view(POINTS.name, now, expiry)},
                                reward_id=reward_id, coupon=taken.coupon if taken is not None else None)
            # Stored available, before this write's own release and expiry, must still cover the spend.
            least = points - result.freed(POINTS.name)
            write = AccountWrite(account, result.account, result.entries,
                                 at_least={(POINTS.name, Bucket.AVAILABLE): least})
            op = Operation(key, fingerprint(request), 201, REDEMPTIONS.dump(redeemed), to_rfc3339(now),
                           {"member_id": member_id, **({"by": by} if by is not None else {})})
            self._ledger.commit(LedgerWrite(op, [write], records=taken.records if taken is not None else ()))
            return redeemed

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, REDEMPTIONS)

    def _check_present(self, member: Member, member_code: str) -> None:
        if self._present is None:
            raise AssertionError("redemptions at the counter need the member-code check (wiring)")
        self._present(member, member_code)
