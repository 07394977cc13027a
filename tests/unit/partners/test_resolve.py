"""Resolving a code: a malformed, mistyped or forged one is refused before anything is looked up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from loyalty.partners.domain import Offer, Owner, Partner, grouped, new_link_code
from loyalty.partners.store import StoredLink
from loyalty.partners.usecases import PartnerService
from loyalty.shared.clock import FixedClock

KEY = b"k" * 64


class NoLookUps:
    """A store that fails the test if anything is asked of it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"looked up: {name}")


class OneLink:
    def __init__(self, link: StoredLink, partner: Partner) -> None:
        self.stored, self.partner_ = link, partner
        self.asked: list[str] = []

    def link(self, code: str) -> StoredLink | None:
        self.asked.append(code)
        return self.stored if code == self.stored.code else None

    def partner(self, partner_id: str) -> Partner | None:
        return self.partner_ if partner_id == self.partner_.partner_id else None


def service(store: Any, member_codes: dict[str, str] | None = None) -> PartnerService:
    def member_for_code(code: str) -> str | None:
        if member_codes is None:
            raise AssertionError("looked up a member code")
        return member_codes.get(code)

    return PartnerService(store, FixedClock(datetime(2026, 11, 23, 9, 30, tzinfo=UTC)), lambda: KEY,
                          link_base="https://shop.example", time_zone="Asia/Shanghai", default_locale="zh-CN",
                          member_exists=lambda _: True, member_for_code=member_for_code,
                          offer=lambda: Offer("Shop", 1, "CNY"))


def test_a_forged_or_mistyped_code_is_refused_without_a_look_up() -> None:
    partners = service(NoLookUps())
    real = new_link_code(KEY)
    typo = real[:3] + ("2" if real[3] != "2" else "3") + real[4:]
    for code in (new_link_code(b"another key" * 4), typo, real[:-1], "not a code", "", "Ö" * 15, real + "22"):
        assert partners.resolve(code) is None, code
        assert partners.land(code, cookie=None, source_ip="203.0.113.9", user_agent="UA", locale="en") is None
    assert partners.check_click_id("forged.20261123.AAAAAAAAAAAAAAAA.aaaaaaaaaaaaaaaaaaaaaa") is None


def test_a_partners_code_resolves_to_the_partner_and_its_terms_typed_any_way() -> None:
    code = new_link_code(KEY)
    partner = Partner("P-1", "Wang", "w@example.com", 500, 30, "2026-11-23T09:30:00Z")
    store = OneLink(StoredLink(code, "L-1", Owner("partner", "P-1"), "spring", "post-42", "2026-11-23T09:30:00Z"),
                    partner)
    resolved = service(store).resolve(grouped(code).lower())
    assert resolved is not None
    assert (resolved.code, resolved.owner_type, resolved.owner_id, resolved.campaign, resolved.sub_id,
            resolved.partner) == (code, "partner", "P-1", "spring", "post-42", partner)
    assert service(store).resolve(new_link_code(KEY)) is None  # issued by us, but nobody's: looked up, unknown
    assert len(store.asked) == 2


def test_a_members_referral_code_is_looked_up_as_before() -> None:
    partners = service(NoLookUps(), member_codes={"K7Q2M9XD": "li"})
    found = partners.resolve("k7q2-m9xd")
    assert found is not None and (found.owner_type, found.owner_id, found.partner) == ("member", "li", None)
    assert partners.resolve("K7Q2M9XE") is None
