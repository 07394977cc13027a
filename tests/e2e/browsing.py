"""What the browser tests share: the local server's API as named people, the system's Chromium, the console opened
as someone, the accessibility and width check, screenshots (fixtures in conftest.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is missing: make test installs it (make tools)"
    return found


class Api:
    """Calls to the local server as named people, for seeding and for checking what the console did."""

    def __init__(self, base: str) -> None:
        self.base = base

    def token(self, sub: str, *groups: str) -> str:
        reply = requests.post(f"{self.base}/local/tokens", json={"sub": sub, "groups": list(groups)}, timeout=10)
        assert reply.status_code == 200, reply.text
        token: str = reply.json()["token"]
        return token

    def __call__(self, method: str, path: str, who: tuple[str, ...], body: Any = None,
                 headers: dict[str, str] | None = None) -> requests.Response:
        sent = {"Authorization": f"Bearer {self.token(*who)}", **(headers or {})}
        return requests.request(method, f"{self.base}{path}", json=body, headers=sent, timeout=30)

    def member(self, member_id: str) -> dict[str, Any]:
        reply = self("GET", f"/v1/members/{member_id}", ("till", "staff"))
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    def ledger(self, member_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self("GET", f"/v1/members/{member_id}/ledger?limit=100",
                                           ("till", "staff")).json()["items"]
        return items

    def sign_up(self, sub: str, name: str, **extra: Any) -> dict[str, Any]:
        reply = self("POST", "/v1/members", (sub,), {"email": f"{sub}@example.com", "display_name": name, **extra})
        assert reply.status_code == 201, reply.text
        body: dict[str, Any] = reply.json()
        return body


SERIOUS = """async () => (await axe.run(document, {resultTypes: ['violations']}))
    .violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id}: ${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')}`)"""


def accessible_and_fits(page: Any, label: str) -> None:
    """axe-core finds no serious or critical violation on the page, and it does not scroll sideways."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(SERIOUS)
    assert found == [], f"{label}: {found}"
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{label} scrolls sideways by {overflow} px"


def shoot(page: Any, name: str, part: str | None = None) -> None:
    """The whole page (or only the element `part` selects: one card of a long page) into $CONSOLE_SCREENSHOTS."""
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        if part:
            page.locator(part).screenshot(path=str(Path(folder) / f"{name}.png"))
        else:
            page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def open_console(browser: Any, base_url: str, person: str, *, viewport: dict[str, int] = TABLET,
                 lang: str = "en", bypass_csp: bool = False) -> Any:
    # bypass_csp: axe-core is added to the page as a script of the test's, which the console's policy refuses.
    context = browser.new_context(viewport=viewport, locale=lang, bypass_csp=bypass_csp)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    page.add_init_script(f"localStorage.setItem('loyalty-console-lang', '{lang}')")
    page.goto(f"{base_url}/console/")
    page.click(f"[data-person={person}]")
    page.wait_for_selector("nav a[aria-current=page]")
    return page


def serve(page: Any, phone: str) -> None:
    """At the counter, find a member by phone and serve them (the desk open)."""
    page.goto(page.url.split("#")[0] + "#/counter")
    page.select_option("[data-field=kind] select", "phone")
    page.fill("[data-field=q] input", phone)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#desk-title")
