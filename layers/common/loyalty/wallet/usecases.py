"""Stored value's use cases: the settings, top-ups and withdrawals, each write one ledger event, exactly once.

Paying with stored value and refunds giving it back are part of a purchase's and a refund's own write
(``purchases.usecases``, with the rules of ``wallet.domain``).
"""

from __future__ import annotations

from collections.abc import Callable

from loyalty.counter.domain import MemberCodeInvalid
from loyalty.ledger.assets import POINTS, STORED_VALUE, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.expiry import once
from loyalty.ledger.posting import post
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.members.domain import Member
from loyalty.program.domain import DEFAULT_PROGRAM
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound, ValidationProblem
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once
from loyalty.wallet.domain import (
    BONUS,
    DEFAULT_SETTINGS,
    PRINCIPAL,
    Parts,
    Quote,
    StoredValueCap,
    TopUpRecorded,
    WalletSettings,
    WithdrawalRecorded,
    held,
    postings,
    top_up_key,
    withdrawal_key,
)
from loyalty.wallet.store import WalletStore

TOP_UPS = ResultCodec(TopUpRecorded)
WITHDRAWALS = ResultCodec(WithdrawalRecorded)
# Raises unless the text is the member's current member code (``counter.usecases.CounterService.check_present``).
PresenceCheck = Callable[[Member, str], None]


class WalletService:
    def __init__(self, store: WalletStore, ledger: LedgerStore, clock: Clock, retry: RetryPolicy | None = None,
                 present: PresenceCheck | None = None) -> None:
        self._store = store
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._present = present

    # --- settings ---------------------------------------------------------------------------------

    def settings(self) -> WalletSettings:
        """The top-up tiers and the cap: as saved, or the defaults on a fresh install."""
        return self._retry.run(self._store.settings) or DEFAULT_SETTINGS

    def save_settings(self, settings: WalletSettings) -> WalletSettings:
        """Replace the settings (they were validated when made); the next top-up uses them."""
        self._retry.run(lambda: self._store.save_settings(settings))
        return settings

    # --- top-ups ----------------------------------------------------------------------------------

    def quote(self, *, member_id: str, amount_minor: int) -> Quote:
        """A top-up of ``amount_minor`` previewed for the member (one read, nothing written): the bonus it earns, the
        next tier up, and the room the cap leaves."""
        found = self._retry.run(lambda: self._store.checkout(member_id))
        if found.member is None:
            raise NotFound(f"No member {member_id}.")
        holding = held(found.account.view(STORED_VALUE.name, self._clock.now()))
        return (found.settings or DEFAULT_SETTINGS).quote(amount_minor, holding.principal_minor)

    def top_up(self, *, top_up_id: str, member_id: str, amount_minor: int, currency: str,
               requested_by: str) -> Outcome[TopUpRecorded]:
        """Add ``amount_minor`` to the member's principal and the bonus of the highest tier it reaches, exactly once by
        ``top_up_id``. The principal after it may not pass the cap (``StoredValueCap``), also against a racing
        top-up: the write's own condition caps the stored principal. A top-up earns no points."""
        key = top_up_key(top_up_id)
        request = {"member_id": member_id, "amount_minor": amount_minor, "currency": currency}

        def attempt() -> TopUpRecorded:
            now = self._clock.now()
            found = self._store.checkout(member_id)
            if found.member is None:
                raise NotFound(f"No member {member_id}.")
            program = found.program or DEFAULT_PROGRAM
            if currency != program.currency:
                raise ValidationProblem(f"The program runs in {program.currency}; this top-up is in {currency}.",
                                        loc=["body", "currency"])
            settings = found.settings or DEFAULT_SETTINGS
            holding = held(found.account.view(STORED_VALUE.name, now))
            cap = settings.max_principal_minor
            if holding.principal_minor + amount_minor > cap:
                raise StoredValueCap(f"The principal would be {holding.principal_minor + amount_minor}, past the cap "
                                     f"of {cap} ({holding.principal_minor} held now).")
            bonus = settings.bonus(amount_minor)
            lines = postings(member_id, Parts(amount_minor, bonus), 1, EntryKind.TOP_UP, Source("top_up", top_up_id))
            expiry = once(self._ledger.expiry)  # read at most once by this write and its answer
            result = post(found.account, lines, now, expiry)
            recorded = TopUpRecorded(top_up_id, member_id, amount_minor, bonus, currency, {
                POINTS.name: result.account.view(POINTS.name, now, expiry),
                STORED_VALUE.name: result.account.view(STORED_VALUE.name, now)})
            # The seq condition already refuses a write over a rival's; the cap is the write's own condition too.
            write = AccountWrite(found.account, result.account, result.entries,
                                 at_most={(STORED_VALUE.name, PRINCIPAL): cap - amount_minor})
            self._ledger.commit(LedgerWrite(
                Operation(key, fingerprint(request), 201, TOP_UPS.dump(recorded), to_rfc3339(now),
                          {"member_id": member_id, "requested_by": requested_by}), [write]))
            return recorded

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, TOP_UPS)

    # --- withdrawals ------------------------------------------------------------------------------

    def withdraw(self, *, member_id: str, withdrawal_id: str, member_code: str | None, code_required: bool,
                 requested_by: str) -> Outcome[WithdrawalRecorded]:
        """Pay back all the member's principal and forfeit all the bonus, exactly once by ``withdrawal_id``.

        ``member_code`` (staff at the counter, ``code_required``; an admin's, if sent): unless it is the member's
        current code, ``MemberCodeInvalid`` and nothing written. It is proof, not part of the request: a replay gets
        the first answer whatever code it carries. Nothing held: the withdrawal is recorded with zeros
        (no entry)."""
        key = withdrawal_key(member_id, withdrawal_id)
        request: dict[str, str] = {}

        def attempt() -> WithdrawalRecorded:
            now = self._clock.now()
            found = self._store.checkout(member_id)
            if found.member is None:
                raise NotFound(f"No member {member_id}.")
            if member_code is None and code_required:
                raise MemberCodeInvalid("Staff withdraw for a member who is there: send the member's current "
                                        "member_code (the code on their card today).")
            if member_code is not None:
                if self._present is None:
                    raise AssertionError("withdrawals at the counter need the member-code check (wiring)")
                self._present(found.member, member_code)
            holding = held(found.account.view(STORED_VALUE.name, now))
            lines = postings(member_id, holding, -1, EntryKind.WITHDRAWAL,
                             Source("withdrawal", f"{member_id}/{withdrawal_id}"))
            writes = []
            if lines:
                result = post(found.account, lines, now, self._ledger.expiry)
                least = {(STORED_VALUE.name, bucket): amount for bucket, amount in
                         ((PRINCIPAL, holding.principal_minor), (BONUS, holding.bonus_minor)) if amount}
                writes = [AccountWrite(found.account, result.account, result.entries, at_least=least)]
            recorded = WithdrawalRecorded(withdrawal_id, member_id, holding.principal_minor, holding.bonus_minor)
            self._ledger.commit(LedgerWrite(
                Operation(key, fingerprint(request), 201, WITHDRAWALS.dump(recorded), to_rfc3339(now),
                          {"member_id": member_id, "requested_by": requested_by}), writes))
            return recorded

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, WITHDRAWALS)
