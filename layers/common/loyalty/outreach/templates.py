"""Email content from the templates in ``templates/<kind>.toml``, one table per locale.

Each locale has ``subject``, ``text`` and ``html`` (the body; the layout and footer are added
here). Placeholders are ``$name``; values are HTML-escaped in the HTML part. A template that
names a value the context does not have is an error, not a silent blank.
"""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any

from loyalty.outreach.policy import Category, ReminderKind

TEMPLATES = Path(__file__).with_name("templates")
# Zero-width non-joiner: invisible, but it breaks the patterns mail clients turn into links.
_NO_LINK = "\u200c"
LOCALES = ("en", "zh-CN")
FALLBACK_LOCALE = "en"


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


@cache
def _load(kind: ReminderKind) -> dict[str, dict[str, str]]:
    with (TEMPLATES / f"{kind.value}.toml").open("rb") as handle:
        return tomllib.load(handle)


def locale_for(locale: str) -> str:
    """The template locale for a member's locale: exact, then by language, then the fallback."""
    if locale in LOCALES:
        return locale
    language = locale.split("-")[0]
    return next((known for known in LOCALES if known.split("-")[0] == language), FALLBACK_LOCALE)


def render(kind: ReminderKind, locale: str, context: dict[str, Any], category: Category) -> Email:
    chosen = locale_for(locale)
    parts = _load(kind)[chosen]
    layout = _load_layout()[chosen]
    text_values = {k: str(v) for k, v in context.items()}
    html_values = {k: html.escape(str(v)) for k, v in context.items()}
    footer = "footer_marketing" if category is Category.MARKETING else "footer_service"
    subject = Template(parts["subject"]).substitute(text_values)
    text = Template(parts["text"].strip() + "\n\n" + layout[f"{footer}_text"]).substitute(text_values)
    body = Template(parts["html"]).substitute(html_values)
    page = Template(layout["html"]).substitute(
        html_values, body=body, footer=Template(layout[f"{footer}_html"]).substitute(html_values))
    return Email(subject, text + "\n", page)


def unlinkable(name: str) -> str:
    """A name as it may appear in an email: looking the same, but never made a link by a mail client.

    Gmail, Outlook and Apple Mail turn text that looks like an address (``www.evil.example``,
    ``http://x``, ``evil.example``, ``a@b.example``) into a link even in plain text. A member chooses
    their display name, so a name like that would put the member's link into the shop's email. A
    zero-width non-joiner before every ``.``, ``:``, ``/`` and ``@`` leaves the name looking the same
    and breaks every such pattern; the HTML part also escapes it, as every value.
    """
    return "".join(_NO_LINK + c if c in ".:/@" else c for c in name)


def pick(texts: dict[str, str], locale: str) -> str:
    """The text for a locale out of ``{locale: text}``: exact, then by language, then English, then any."""
    if not texts:
        return ""
    language = locale.split("-")[0]
    for candidate in (locale, *[k for k in texts if k.split("-")[0] == language], FALLBACK_LOCALE):
        if candidate in texts:
            return texts[candidate]
    return next(iter(texts.values()))


def phrase(name: str, locale: str) -> str:
    """A small phrase the templates share (``[<locale>.phrases]`` in ``_layout.toml``)."""
    phrases: dict[str, str] = _load_layout()[locale_for(locale)]["phrases"]
    return phrases[name]


@cache
def _load_layout() -> dict[str, dict[str, Any]]:
    with (TEMPLATES / "_layout.toml").open("rb") as handle:
        return tomllib.load(handle)
