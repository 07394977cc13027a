"""The MIME message SES sends: text and HTML alternatives, and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from loyalty.outreach.templates import Email


def build(*, sender: str, to: str, email: Email, sent_at: datetime, unsubscribe_url: str | None,
          headers: dict[str, str]) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(sent_at)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or None)
    if unsubscribe_url:
        headers = {**unsubscribe_headers(unsubscribe_url), **headers}
    for name, value in headers.items():
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    # Lines up to RFC 5322's 998: a long List-Unsubscribe URL stays on its header's line rather than being moved
    # to a folded one, which some receivers do not unfold before they look for the link.
    return message.as_bytes(policy=message.policy.clone(max_line_length=998))


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe: the link, and that a POST to it is enough."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
