"""Whose points a redemption spends: the caller's own, or at the counter the member staff name; never another
member's for a member, and the till (not a member) must name someone."""

from __future__ import annotations

import pytest

from loyalty.redemptions.domain import whose_points
from loyalty.shared.errors import Forbidden, ValidationProblem


def test_without_a_member_named_a_person_spends_their_own() -> None:
    assert whose_points("dan", caller_is_staff=False, caller_is_member=True, member_id=None) == "dan"
    assert whose_points("pos", caller_is_staff=True, caller_is_member=True, member_id=None) == "pos"


def test_staff_and_the_till_spend_the_named_members() -> None:
    assert whose_points("pos", caller_is_staff=True, caller_is_member=True, member_id="dan") == "dan"
    assert whose_points("till-1", caller_is_staff=True, caller_is_member=False, member_id="dan") == "dan"


def test_a_member_may_name_only_itself() -> None:
    assert whose_points("dan", caller_is_staff=False, caller_is_member=True, member_id="dan") == "dan"
    with pytest.raises(Forbidden):
        whose_points("bob", caller_is_staff=False, caller_is_member=True, member_id="dan")


def test_the_till_must_name_a_member() -> None:
    with pytest.raises(ValidationProblem) as refused:
        whose_points("till-1", caller_is_staff=True, caller_is_member=False, member_id=None)
    assert refused.value.errors == [{"loc": ["body", "member_id"], "msg": refused.value.detail}]
