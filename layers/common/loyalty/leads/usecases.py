"""Leads' use cases (docs/leads.md): a member submits friends, staff work them, a sign-up converts one, the
submitter earns ``lead_converted`` at the new member's first purchase, a schedule erases what did not convert.

Each write is one conditional write or transaction, so every retry, replay or race settles by its condition: a
form and its leads by the form's id; a contact by its claim item (the first lead to list it owns it); a conversion
by the claim's ``converted_by`` and the lead's status, in the new member's own sign-up transaction; an award by the
member's ``lead_awards`` in their first purchase's transaction; an erasure by the lead's version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any

from loyalty.actions.store import ActionStore
from loyalty.leads.domain import (
    EMAIL,
    ERASE_AFTER,
    NEW,
    PHONE,
    STATUSES,
    Friend,
    Lead,
    Submitted,
    as_duplicate,
    as_member,
    check_form,
    contact_key,
    erased,
    first_claim,
    new_form,
    same_submission,
    worked,
)
from loyalty.leads.store import ContactsTaken, FormTaken, LeadStore
from loyalty.ledger.assets import POINTS, Bucket, EntryKind
from loyalty.ledger.deferred import Deferred
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.ledger.store import Record
from loyalty.members.domain import Member
from loyalty.members.store import LeadMatch
from loyalty.program.domain import ProgramRules
from loyalty.shared.clock import Clock
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Contention, RetryPolicy

ERASE_BATCH = 100  # leads erased per run at most (the next run takes the rest)
LEAD_CONVERTED = "lead_converted"  # the earning rules' action a converted lead earns its submitter


class LeadService:
    def __init__(self, store: LeadStore, clock: Clock, member_exists: Callable[[str], bool],
                 is_member_contact: Callable[[str, str], bool], retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._member_exists = member_exists
        self._is_member_contact = is_member_contact  # (kind, value): whether a member has it
        self._retry = retry or RetryPolicy()

    def submit(self, form_id: str, submitter: str, friends: list[Friend], agreed: bool) -> tuple[bool, Submitted]:
        """Keep a member's friends as leads: ``(True, the form)``; the same body again: ``(False, it as it is
        now)``; another body under the id → ``409 idempotency-mismatch``. A friend whose contact a member has is
        kept as ``already_member`` (no contact details); one whose contact an earlier lead owns, as ``duplicate``.
        Refused submissions write nothing. The service never writes to a lead."""
        check_form(friends, agreed)
        asked, leads = new_form(form_id, submitter, friends, self._clock.now())
        found = self._retry.run(lambda: self._store.form(form_id))
        if found is not None:
            return False, self._answer(same_submission(found, asked))
        if not self._retry.run(lambda: self._member_exists(submitter)):
            raise NotFound("Sign up first: the caller is not a member.")
        leads = [self._known(lead, friend) for lead, friend in zip(leads, friends, strict=True)]
        for _ in range(len(leads) + 1):  # each round makes at least one more friend a duplicate
            try:
                self._retry.run(partial(self._store.submit, asked, leads))
                return True, Submitted(asked, tuple(leads))
            except FormTaken:  # a twin got there first (or the id is someone else's)
                return False, self._answer(same_submission(self._form(form_id), asked))
            except ContactsTaken as taken:
                owners = {c.contact: c.lead_id
                          for c in self._retry.run(partial(self._store.claims, taken.contacts))}
                leads = [as_duplicate(lead, next(owners[c] for c in lead.contacts() if c in owners))
                         if lead.status == NEW and any(c in owners for c in lead.contacts()) else lead
                         for lead in leads]
        raise Contention(f"form {form_id}")

    def _known(self, lead: Lead, friend: Friend) -> Lead:
        """``already_member`` where a member has the friend's email or phone (an index read: a sign-up in the same
        instant may be missed; its lead then stays in the inbox until staff close it or it is erased)."""
        for kind, value in ((EMAIL, friend.email), (PHONE, friend.phone)):
            if value is not None and self._retry.run(partial(self._is_member_contact, kind, value)):
                return as_member(lead)
        return lead

    def _form(self, form_id: str) -> Any:
        found = self._retry.run(lambda: self._store.form(form_id))
        if found is None:
            raise Contention(form_id)
        return found

    def _answer(self, form: Any) -> Submitted:
        return Submitted(form, tuple(self._retry.run(lambda: self._store.leads(form.lead_ids))))

    def lead(self, lead_id: str) -> Lead:
        found = self._retry.run(lambda: self._store.lead(lead_id))
        if found is None:
            raise NotFound(f"No lead {lead_id}.")
        return found

    def listed(self, status: str, *, limit: int, cursor: str | None) -> tuple[list[Lead], str | None]:
        if status not in STATUSES:
            raise ValueError(status)
        return self._retry.run(lambda: self._store.listed(status, limit=limit, after=cursor))

    def work(self, lead_id: str, status: str, note: str | None, by: str) -> Lead:
        """Staff mark a lead contacted or not interested, with a note (the same again changes nothing); a closed
        lead → ``409 lead-closed``."""

        def attempt() -> Lead:
            before = self.lead(lead_id)
            after, changed = worked(before, status, note, by, self._clock.now())
            if changed:
                self._store.save(before, after)
            return after

        return self._retry.run(attempt)

    def erase_expired(self, limit: int = ERASE_BATCH) -> list[Lead]:
        """Erase the contact details of each lead that did not convert within 180 days of being sent (its status
        becomes ``erased``, its dates stay), and free its contacts' claims. Idempotent: an erased lead leaves the
        index; a lead converted meanwhile fails the version condition and, read again, is left alone."""
        now, done = self._clock.now(), []
        for waiting in self._retry.run(lambda: self._store.erasable_before(now - ERASE_AFTER, limit)):
            found = self._retry.run(partial(self._erase, waiting.lead_id, now))
            if found is not None:
                done.append(found)
        return done

    def _erase(self, lead_id: str, now: datetime) -> Lead | None:
        before = self._store.lead(lead_id)
        if before is None or not before.erasable or before.erase_due_at() > now:
            return None
        after = erased(before, now)
        self._store.erase(before, after)
        return after

    def next_erasure(self) -> datetime | None:
        """When the oldest lead still holding contact details is due to be erased; None when none is."""
        oldest = self._retry.run(lambda: self._store.erasable_before(self._clock.now() + ERASE_AFTER * 2, 1))
        return oldest[0].erase_due_at() if oldest else None


class LeadMatcher:
    """Sign-up's side (``members.store.LeadMatcher``): the lead a new member's verified contacts match, in one read
    of their claims, and the items that convert it in the sign-up's own transaction."""

    def __init__(self, store: LeadStore) -> None:
        self._store = store

    def match(self, email: str | None, phone: str | None) -> LeadMatch | None:
        from loyalty.leads.domain import normalize_email

        contacts = ([contact_key(EMAIL, normalize_email(email))] if email else []) + \
                   ([contact_key(PHONE, phone)] if phone else [])
        claim = first_claim(self._store.claims(contacts))
        return LeadMatch(claim.lead_id, claim.submitter, claim) if claim is not None else None

    def converting(self, match: LeadMatch, member_id: str, now: datetime) -> list[dict[str, Any]]:
        return self._store.converting(match.claim, member_id, now)


@dataclass(frozen=True)
class Award:
    """What a converted member's first purchase adds to its transaction: with the points (``paid``), and without
    them when the action's caps refuse (``unpaid``). Both decide the award, once."""

    paid: Any  # purchases.usecases.Ride
    unpaid: Any


class LeadAwards:
    """The submitter's ``lead_converted`` action at the new member's first purchase, in that purchase's own
    transaction: the member's award marker (0 → 1), the submitter's action counters under their caps and the
    action's points queued for the submitter (the poster posts them, as it posts referral credits), so the purchase
    reads nothing more and never waits for the submitter's account."""

    def __init__(self, marker: Callable[[str], Record], actions: ActionStore) -> None:
        self._marker = marker
        self._actions = actions

    def award(self, rules: ProgramRules, buyer: Member, lane: int, recorded: str, now: datetime) -> Award | None:
        from loyalty.purchases.usecases import Ride

        if buyer.lead_id is None or buyer.lead_awards > 0 or buyer.referrer_id is None:
            return None
        submitter = buyer.referrer_id  # a converted lead's submitter is the member's referrer, fixed at sign-up
        marker = self._marker(buyer.member_id)
        kept = {"lead_id": buyer.lead_id, "submitter": submitter}
        rule = rules.action_rules.get(LEAD_CONVERTED)
        if rule is None:  # the programme has no such action at the first purchase: nothing is earned, ever
            nothing = Ride(records=[marker], state={LEAD_CONVERTED: {**kept, "points": 0}})
            return Award(nothing, nothing)
        counters = self._actions.counter_records(submitter, LEAD_CONVERTED, rule, rules.local_date(now))
        queued = [Deferred(lane, recorded, Posting(
            submitter, POINTS.name, rule.points, Bucket.AVAILABLE, EntryKind.ACTION,
            Source("action", f"{LEAD_CONVERTED}/{buyer.lead_id}"), rule_version=rules.version,
            rule=f"action:{LEAD_CONVERTED}"))] if rule.points > 0 else []
        paid = Ride(records=[marker, *counters], deferred=queued,
                    state={LEAD_CONVERTED: {**kept, "points": rule.points}})
        unpaid = Ride(records=[marker], state={LEAD_CONVERTED: {**kept, "points": 0, "capped": True}})
        return Award(paid, unpaid)


def joined(ride: Any, extra: Any) -> Any:
    """Two rides as one (a purchase's and its award's)."""
    return replace(ride, postings=[*ride.postings, *extra.postings], records=[*ride.records, *extra.records],
                   state={**ride.state, **extra.state}, deferred=[*ride.deferred, *extra.deferred])

