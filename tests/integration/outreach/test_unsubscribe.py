"""Unsubscribe links name no member, and undo only the opt-in they were sent under."""

from __future__ import annotations

import base64

import pytest

from loyalty.outreach.admin import OutreachAdmin
from loyalty.shared.clock import FixedClock
from tests.support import Api, dump_tables

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _link(api: Api, member_id: str) -> str:
    """The token of the member's check-in email's one-click link, as an admin's preview shows it."""
    reply = api.admin("POST", "/v1/outreach/preview", {"member_id": member_id, "kind": "checkin", "occasion": "O-1"})
    assert reply.status == 200, reply.body
    return str(reply.body["headers"]["List-Unsubscribe"].strip("<>").rsplit("/u/", 1)[1])


def _opted_in(api: Api, sub: str) -> bool:
    return bool(api.call("GET", "/v1/members/me/preferences", as_=sub).body["marketing_opt_in"])


def _prefer(api: Api, sub: str, opt_in: bool) -> None:
    assert api.call("PATCH", "/v1/members/me/preferences", {"marketing_opt_in": opt_in}, as_=sub).status == 200


def test_a_link_carries_an_opaque_id_not_the_member_id(api: Api, clock: FixedClock) -> None:
    member_id = "4f2c1e8a-9b3d-4c7e-a1f0-6d5b2e9c8a41"
    api.sign_up(member_id, marketing_opt_in=True, locale="en")
    api.purchase("O-1", member_id, 5000)
    token = _link(api, member_id)
    encoded = base64.urlsafe_b64encode(member_id.encode()).decode().rstrip("=")
    assert member_id not in token and encoded[:16] not in token  # was: base64 of the sub, readable by anyone
    assert api.call("POST", f"/u/{token}", raw=b"List-Unsubscribe=One-Click", headers=FORM).status == 200
    assert not _opted_in(api, member_id)


def test_a_link_from_before_the_member_opted_in_again_changes_nothing(api: Api, clock: FixedClock) -> None:
    api.sign_up("dan", marketing_opt_in=True, locale="en")
    api.purchase("O-1", "dan", 5000)
    old = _link(api, "dan")
    assert api.call("POST", f"/u/{old}", raw=b"List-Unsubscribe=One-Click", headers=FORM).status == 200
    assert not _opted_in(api, "dan")
    clock.advance(60)
    _prefer(api, "dan", True)  # Dan changes his mind in the app
    before = dump_tables()
    for method in ("GET", "POST"):  # was: the old email's link opted him out again
        reply = api.call(method, f"/u/{old}", raw=b"List-Unsubscribe=One-Click", headers=FORM)
        assert reply.status == 200 and "out of date" in reply.body and "<form" not in reply.body, method
    assert _opted_in(api, "dan") and dump_tables() == before
    new = _link(api, "dan")
    assert new != old
    page = api.call("GET", f"/u/{new}")
    assert page.status == 200 and "<form" in page.body
    assert api.call("POST", f"/u/{new}", raw=b"List-Unsubscribe=One-Click", headers=FORM).status == 200
    assert not _opted_in(api, "dan")


def test_opting_out_and_in_in_the_app_retires_the_links_already_sent(api: Api, clock: FixedClock) -> None:
    api.sign_up("dan", marketing_opt_in=True, locale="en")
    api.purchase("O-1", "dan", 5000)
    old = _link(api, "dan")
    _prefer(api, "dan", True)  # already in: not a new opt-in, the link still works
    assert "<form" in api.call("GET", f"/u/{old}").body
    _prefer(api, "dan", False)
    clock.advance(60)
    _prefer(api, "dan", True)
    assert api.call("POST", f"/u/{old}", raw=b"List-Unsubscribe=One-Click", headers=FORM).status == 200
    assert _opted_in(api, "dan")


def test_a_member_who_opts_in_after_signing_up_gets_a_working_link(api: Api, clock: FixedClock) -> None:
    api.sign_up("dan", locale="en")
    api.purchase("O-1", "dan", 5000)
    _prefer(api, "dan", True)
    token = _link(api, "dan")
    assert api.call("POST", f"/u/{token}", raw=b"List-Unsubscribe=One-Click", headers=FORM).status == 200
    assert not _opted_in(api, "dan")



def test_a_link_posted_while_the_member_opts_in_again_keeps_the_new_opt_in(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    api.sign_up("dan", marketing_opt_in=True, locale="en")
    api.purchase("O-1", "dan", 5000)
    link = _link(api, "dan")
    checked = OutreachAdmin._linked

    def dan_opts_in_again_right_after_the_check(self: OutreachAdmin, token: str) -> tuple[str, bool, str | None]:
        answer = checked(self, token)  # the link is current when checked ...
        clock.advance(60)
        _prefer(api, "dan", False)
        _prefer(api, "dan", True)  # ... and before the write, Dan opts out and in again in the app
        return answer

    monkeypatch.setattr(OutreachAdmin, "_linked", dan_opts_in_again_right_after_the_check)
    reply = api.call("POST", f"/u/{link}", raw=b"List-Unsubscribe=One-Click", headers=FORM)
    monkeypatch.undo()
    assert reply.status == 200 and "out of date" in reply.body, reply.body
    assert _opted_in(api, "dan")  # was: the old link's write undid the new opt-in
