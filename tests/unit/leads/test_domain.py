"""Leads' rules without I/O (docs/leads.md): normalised contacts, the form's checks, staff's changes, which claim a
sign-up converts, the erasure's tombstone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loyalty.leads.domain import (
    Claim,
    LeadClosed,
    check_form,
    converted,
    erased,
    first_claim,
    friend_of,
    new_form,
    same_submission,
    worked,
)
from loyalty.shared.errors import IdempotencyMismatch, ValidationProblem

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_contacts_are_normalised_as_members_phones_are() -> None:
    friend = friend_of(" Zhang ", "  Zhang.Min@Example.COM ", "139 0013 9000", " ", 0)
    assert (friend.name, friend.email, friend.phone, friend.note) == (
        "Zhang", "zhang.min@example.com", "+8613900139000", None)
    assert friend.contacts() == ["email:zhang.min@example.com", "phone:+8613900139000"]
    with pytest.raises(ValidationProblem):
        friend_of("X", None, None, None, 0)
    with pytest.raises(ValidationProblem):
        friend_of("X", None, "12", None, 0)


def test_a_form_needs_agreement_one_to_five_friends_each_once() -> None:
    one = friend_of("A", "a@x.cn", None, None, 0)
    check_form([one], True)
    for friends, agreed in (([one], False), ([], True), ([one] * 2, True),
                            ([friend_of(str(n), f"{n}@x.cn", None, None, n) for n in range(6)], True)):
        with pytest.raises(ValidationProblem):
            check_form(friends, agreed)


def test_a_replay_is_the_same_body_and_lead_ids_follow_the_form() -> None:
    friends = [friend_of("A", "a@x.cn", None, None, 0), friend_of("B", None, "13900139000", None, 1)]
    form, leads = new_form("LF-1", "li", friends, NOW)
    assert [x.lead_id for x in leads] == ["LF-1.1", "LF-1.2"]
    assert same_submission(form, new_form("LF-1", "li", friends, NOW)[0]) == form
    with pytest.raises(IdempotencyMismatch):
        same_submission(form, new_form("LF-1", "tom", friends, NOW)[0])


def test_staff_work_open_leads_only_and_erasure_keeps_a_tombstone() -> None:
    _, [lead] = new_form("LF-1", "li", [friend_of("A", "a@x.cn", None, "red", 0)], NOW)
    contacted, changed = worked(lead, "contacted", " Called. ", "pos", NOW)
    assert changed and (contacted.status, contacted.staff_note, contacted.version) == ("contacted", "Called.", 1)
    assert worked(contacted, "contacted", "Called.", "pos", NOW) == (contacted, False)
    with pytest.raises(LeadClosed):
        worked(converted(lead, "zhang", NOW), "contacted", None, "pos", NOW)
    tomb = erased(contacted, NOW)
    assert (tomb.status, tomb.name, tomb.email, tomb.note, tomb.staff_note, tomb.submitter) == (
        "erased", None, None, None, None, "li")
    assert not tomb.erasable and lead.erase_due_at() == datetime(2027, 5, 22, 9, 30, tzinfo=UTC)


def test_a_sign_up_converts_the_earliest_unconverted_claim() -> None:
    early = Claim("phone:+8613900139000", "LF-1.1", "li", "2026-11-01T00:00:00Z", ())
    late = Claim("email:a@x.cn", "LF-2.1", "tom", "2026-11-02T00:00:00Z", ())
    assert first_claim([late, early]) == early
    done = Claim("phone:+8613900139000", "LF-1.1", "li", "2026-11-01T00:00:00Z", (), converted_by="zhang")
    assert first_claim([done, late]) == late and first_claim([done]) is None
