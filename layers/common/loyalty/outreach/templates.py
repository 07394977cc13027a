"""Email content from the templates in ``templates/<kind>.toml``, one table per locale.

Each locale has ``subject``, ``text`` and ``html`` (the body; the layout and footer are added
here). Placeholders are ``$name``; values are HTML-escaped in the HTML part, except a ``Section``,
which brings a text and an HTML of its own, built here from escaped pieces (``guide_section``). A
template that names a value the context does not have is an error, not a silent blank.
"""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, TypeVar

from loyalty.outreach.plans import Guide
from loyalty.outreach.policy import Category, ReminderKind

T = TypeVar("T")

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


@dataclass(frozen=True)
class Section:
    """A part of an email with a text and an HTML of its own (its HTML is not escaped again: build it only from
    escaped pieces, as ``guide_section`` does)."""

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
    text_values = {k: v.text if isinstance(v, Section) else str(v) for k, v in context.items()}
    html_values = {k: v.html if isinstance(v, Section) else html.escape(str(v)) for k, v in context.items()}
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
    return choose(texts, locale) or ""


def choose(options: dict[str, T], locale: str) -> T | None:
    """The version for a locale out of ``{locale: version}``: exact, then by language, then English, then any
    (None only if there is none)."""
    if not options:
        return None
    language = locale.split("-")[0]
    for candidate in (locale, *[k for k in options if k.split("-")[0] == language], FALLBACK_LOCALE):
        if candidate in options:
            return options[candidate]
    return next(iter(options.values()))


def guide_section(guides: list[dict[str, Guide]], locale: str) -> Section:
    """The usage guides of an order's email, each in the member's language, else in the other one (``choose``):
    a heading, then each guide's title, text and link; empty (no heading either) when there is none.

    The shop's text is plain text: escaped in the HTML part, its line breaks kept, its link an ``https`` one only
    (the API refuses any other)."""
    chosen = [g for g in (choose(versions, locale_for(locale)) for versions in guides) if g is not None]
    if not chosen:
        return Section("", "")
    heading = phrase("guides_heading", locale)
    texts, pages = [], []
    for guide in chosen:
        texts.append("\n".join([guide.title, guide.text, *([guide.link] if guide.link else [])]))
        body = "<br>".join(html.escape(line) for line in guide.text.splitlines())
        link = (f'<br><a href="{html.escape(guide.link, quote=True)}">{html.escape(phrase("guide_more", locale))}</a>'
                if guide.link else "")
        pages.append(f"<p><b>{html.escape(guide.title)}</b><br>{body}{link}</p>")
    return Section(f"{heading}\n\n" + "\n\n".join(texts) + "\n\n",
                   f'<h3 style="font-size: 16px;">{html.escape(heading)}</h3>\n' + "\n".join(pages) + "\n")


def phrase(name: str, locale: str) -> str:
    """A small phrase the templates share (``[<locale>.phrases]`` in ``_layout.toml``)."""
    phrases: dict[str, str] = _load_layout()[locale_for(locale)]["phrases"]
    return phrases[name]


@cache
def _load_layout() -> dict[str, dict[str, Any]]:
    with (TEMPLATES / "_layout.toml").open("rb") as handle:
        return tomllib.load(handle)
