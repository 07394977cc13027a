"""One-click unsubscribe links that work without logging in and cannot be forged for another member.

A token is the member id and an HMAC-SHA256 over it, under a secret only the service holds,
bound to its purpose. Knowing your own token tells you nothing about anyone else's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PURPOSE = b"loyalty-ledger/unsubscribe/v1\x00"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_for(member_id: str, secret: bytes) -> str:
    mac = hmac.new(secret, PURPOSE + member_id.encode(), hashlib.sha256).digest()[:18]
    return f"{_b64(member_id.encode())}.{_b64(mac)}"


def member_for(token: str, secret: bytes) -> str | None:
    """The member a token was issued for, or None if it was not issued by this service."""
    head, _, tail = token.partition(".")
    try:
        member_id = _unb64(head).decode()
        given = _unb64(tail)
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(secret, PURPOSE + member_id.encode(), hashlib.sha256).digest()[:18]
    return member_id if member_id and hmac.compare_digest(given, expected) else None
