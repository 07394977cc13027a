"""What coupons need from storage (``coupons.dynamodb`` implements it). Writes that must stand or fall with an
event go through the ledger's commit as ``Record``s, which ``records`` builds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loyalty.coupons.domain import Coupon, Template
from loyalty.ledger.store import Record


class CouponStore(Protocol):
    def put_template(self, template: Template) -> None:
        """Write the template (and its place in the automatic templates' index) whole."""
        ...

    def template(self, template_id: str) -> Template | None: ...

    def templates(self) -> list[Template]: ...

    def automatic(self) -> list[Template]:
        """The templates with an ``issue_on`` (one Query of a small index; none on a fresh install)."""
        ...

    def coupons(self, member_id: str) -> list[Coupon]: ...

    def coupon(self, member_id: str, coupon_id: str) -> Coupon | None: ...

    def coupon_by_code(self, code: str) -> Coupon | None: ...

    def born_on(self, month_day: str) -> list[str]:
        """The ids of the members whose birthday is ``MM-DD`` (a sparse index of the members' profiles)."""
        ...

    def issue_records(self, coupon: Coupon, template: Template) -> list[Record]:
        """A new coupon, its code, and the member's counter of the template moved by one under its limit."""
        ...

    def sweep_records(self, expired: Sequence[Coupon]) -> list[Record]:
        """Expired coupons (of one member and template, still stored active) marked expired where they are still
        active, their slots given back in the member's counter of the template."""
        ...

    def use_records(self, used: Coupon) -> list[Record]:
        """The coupon marked used where it is still active (else ``coupon-used``), its slot given back."""
        ...

    def void_records(self, restored: Coupon, redemption_id: str) -> list[Record]:
        """The coupon active again where that redemption used it, its slot taken again."""
        ...
