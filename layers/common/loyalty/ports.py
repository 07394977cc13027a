"""What the use cases need from storage, in the domain's words. ``adapters.dynamodb`` implements it.

A business event is committed as one ``LedgerWrite``: the record that the event happened, an
optional guarded counter on an earlier record, and for each member touched the account before and
after with the entries to append. The adapter writes all of it in one transaction or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from loyalty.ledger import Account, Entry
from loyalty.members import Member, Referee
from loyalty.program import ProgramRules


@dataclass(frozen=True)
class Operation:
    """The durable record that a business event happened, and what the client was told.

    ``key`` is derived from the client's id (``purchase/<order_id>``, ``refund/<order_id>/<refund_id>``,
    ``redemption/<member_id>/<Idempotency-Key>``, ``adjustment/<adjustment_id>``). Written once with
    ``attribute_not_exists``, it is what makes every retry, replay or race exactly-once; it has no expiry.
    """

    key: str
    fingerprint: str
    status: int
    response: dict[str, Any]
    created_at: str
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CounterGuard:
    """Move a number on an existing operation record from ``expected`` to ``new`` (compare-and-set)."""

    key: str
    name: str
    expected: int
    new: int


@dataclass(frozen=True)
class AccountWrite:
    """One member's part of a write: the account as read, as it will be, and the entries between.

    The write only succeeds if the stored account is still at ``before.seq``; ``min_available``
    adds the redemption's no-overdraft condition (stored ``available`` at least this) to the same write.
    """

    before: Account
    after: Account
    entries: Sequence[Entry]
    min_available: int | None = None


@dataclass(frozen=True)
class LedgerWrite:
    operation: Operation
    accounts: Sequence[AccountWrite]
    counter: CounterGuard | None = None


@dataclass(frozen=True)
class Snapshot:
    """Several things read in one consistent round trip."""

    members: dict[str, Member]
    accounts: dict[str, Account]
    program: ProgramRules | None


class OperationRecorded(Exception):
    """The operation record already exists: this request is a replay (or lost a race to its twin)."""


# AWS error codes that mean "not now": the same request may succeed when read and written again.
TRANSIENT_CODES = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "TransactionInProgressException", "InternalServerError", "ServiceUnavailable", "Throttling",
})


class Contention(Exception):
    """Something the write was conditioned on changed since it was read; re-read and try again."""


class MemberTaken(Exception):
    """A member with this id already exists."""


class NoSuchMember(Exception):
    """The member to change does not exist."""


class CodeTaken(Exception):
    """The referral code drawn is already someone's (draw another)."""


class ProgramChanged(Exception):
    """Another version was published since the current one was read."""


class Store(Protocol):
    def snapshot(self, *, members: Sequence[str] = (), accounts: Sequence[str] = (),
                 program: bool = False) -> Snapshot: ...

    def commit(self, write: LedgerWrite) -> None: ...

    def operation(self, key: str) -> Operation | None: ...

    def entries_page(self, member_id: str, *, limit: int, before_seq: int | None) -> tuple[list[Entry], bool]: ...

    def entries(self, member_id: str) -> Iterator[Entry]: ...

    def create_member(self, member: Member) -> None: ...

    def member_id_for_code(self, code: str) -> str | None: ...

    def referees(self, member_id: str, *, level: int, limit: int) -> list[Referee]: ...

    def referee_counts(self, member_id: str) -> dict[int, int]: ...

    def program_version(self, version: int) -> ProgramRules | None: ...

    def update_member(self, member_id: str, fields: dict[str, Any]) -> None: ...

    def publish_program(self, rules: ProgramRules, *, previous: ProgramRules, previous_stored: bool) -> None: ...
