"""One-click unsubscribe links that work without logging in, cannot be forged for another member, name nobody,
and only ever undo the opt-in they were sent under.

A token is ``<unsubscribe id><generation>.<mac>``: the member's unsubscribe id (16 random bytes drawn at sign-up,
looked up in the members table; not the Cognito ``sub``), the generation of the member's opt-in (a digest of
when they last opted in), and an HMAC-SHA256 over both under a secret only the service holds, bound to its
purpose. A link from before the member opted in again carries an older generation: it is recognised, and changes
nothing. Knowing your own token tells you nothing about anyone else's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

PURPOSE = b"loyalty-ledger/unsubscribe/v2\x00"
ID_CHARS = 22  # 16 bytes, base64url (``members.domain.new_unsubscribe_id``)
GENERATION_CHARS = 8  # 6 bytes, base64url


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(head: str, secret: bytes) -> bytes:
    return hmac.new(secret, PURPOSE + head.encode(), hashlib.sha256).digest()[:18]


def generation(opted_in_at: str | None) -> str:
    """The opt-in a link belongs to: a digest of when the member last opted in (not the time itself)."""
    return _b64(hashlib.sha256((opted_in_at or "").encode()).digest()[:6])


@dataclass(frozen=True)
class Link:
    unsubscribe_id: str
    generation: str


def token_for(unsubscribe_id: str, opted_in_at: str | None, secret: bytes) -> str:
    head = unsubscribe_id + generation(opted_in_at)
    return f"{head}.{_b64(_mac(head, secret))}"


def read_token(token: str, secret: bytes) -> Link | None:
    """The unsubscribe id and opt-in generation a token was issued for, or None if this service did not issue it."""
    head, _, tail = token.partition(".")
    try:
        given = _unb64(tail)
    except ValueError:
        return None
    if len(head) != ID_CHARS + GENERATION_CHARS or not hmac.compare_digest(given, _mac(head, secret)):
        return None
    return Link(head[:ID_CHARS], head[ID_CHARS:])
