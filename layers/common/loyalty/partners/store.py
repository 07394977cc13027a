"""The port partners and links own: partners, links by code and by owner, the settings, click counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from loyalty.partners.domain import LinkSettings, Owner, Partner
from loyalty.shared.once import Operation


class CodeTaken(Exception):
    """A fresh link code was drawn twice (1 in 30^10): draw again."""


@dataclass(frozen=True)
class StoredLink:
    """A link as the table keeps it."""

    code: str
    link_id: str
    owner: Owner
    campaign: str | None
    sub_id: str | None
    created_at: str


@dataclass(frozen=True)
class Click:
    """One click to count: on which link, which local day, by which visitor (a keyed hash or the cookie's id)."""

    link: StoredLink
    day: date
    visitor: str
    forget_after: int  # epoch seconds: the visitor's mark of the day is deleted (TTL) after this


class PartnerStore(Protocol):
    def operation(self, key: str) -> Operation | None: ...

    def partner(self, partner_id: str) -> Partner | None: ...

    def partners(self) -> list[Partner]: ...

    def create_partner(self, op: Operation, partner: Partner) -> None:
        """Write the partner and the operation record, or neither (``OperationRecorded`` if the record exists)."""
        ...

    def link(self, code: str) -> StoredLink | None: ...

    def links(self, owner: Owner) -> list[StoredLink]: ...

    def create_link(self, op: Operation, link: StoredLink) -> None:
        """Write the link (by code and under its owner) and the operation record, or nothing
        (``OperationRecorded`` if the record exists, ``CodeTaken`` if the code is)."""
        ...

    def settings(self) -> LinkSettings | None: ...

    def save_settings(self, settings: LinkSettings) -> None: ...

    def mark_visitor(self, click: Click) -> bool:
        """Mark the visitor seen on the link that day; True if nobody had marked them (exactly one caller wins)."""
        ...

    def add_click(self, click: Click, *, unique: bool) -> None:
        """Count one click of the link that day (atomically), and one unique click if ``unique``."""
        ...
