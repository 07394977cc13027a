"""The merchant console: what it transfers (gzip, as CloudFront's `Compress` sends it) and how long its pages take
to load against `make run`'s server in Debian's Chromium (Playwright), median of several loads per page.

Sizes are of the built files (``console/dist``, built first if missing). A page's load time runs from the
navigation to its data on screen (the dashboard's charts drawn, the member page's tree drawn and its whole chain
checked in the browser), signed in as the owner, on a small shop the bench seeds.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "console" / "dist"
# What each page waits for before it counts as loaded.
PAGES = {
    "signin": ("[data-person=owner]",),
    "counter": ("form[role=search]",),
    "member/bench-a": ("svg.tree", "[data-chain=verified]"),
    "dashboard": ("[data-chart=new_members] canvas",),
    "program": ("[data-versions]",),
    "reminders": ("[data-form=preview]",),
    "verify": ("[data-anchor]",),
    "partners": ("[data-partners]",),
    "partner/bench-partner": ("[data-link] img.qr", "[data-chart=report] canvas", "[data-ledger]"),
}
FIRST_LOAD = ("index.html", "app.js", "styles.css", "icon.svg")


def first_load(files: dict[str, Any]) -> list[str]:
    """The files the first page fetches: FIRST_LOAD and the chunks app.js imports statically (the modules it shares
    with pages loaded later), not those it imports when a page asks (``import("…")``)."""
    wanted, seen = [name for name in FIRST_LOAD if name in files], set()
    queue = ["app.js"] if "app.js" in files else []
    while queue:
        name = queue.pop()
        text = (DIST / name).read_text(errors="replace")
        for found in re.findall(r'(?:\bfrom|\bimport)\s*"(\.{1,2}/[^"]+\.js)"', text):
            target = str((Path(name).parent / found).as_posix())
            target = os.path.normpath(target)
            if target in files and target not in seen:
                seen.add(target)
                wanted.append(target)
                queue.append(target)
    return wanted


def sizes() -> dict[str, Any]:
    if not (DIST / "index.html").is_file():
        subprocess.run(["make", "console"], cwd=ROOT, check=True)
    files = {str(p.relative_to(DIST)): (p.stat().st_size, len(gzip.compress(p.read_bytes(), 9)))
             for p in sorted(DIST.rglob("*")) if p.is_file() and not p.name.endswith(".txt") and p.name != ".built"}
    first = sum(files[name][1] for name in first_load(files))
    return {"files": files, "first_load_gzip": first, "total_gzip": sum(g for _, g in files.values())}


@contextmanager
def server() -> Iterator[str]:
    from localdev.dynamodb_local import free_port

    port = free_port()
    env = {**os.environ, "PORT": str(port), "LOCAL_ACCESS_LOG": "0"}
    process = subprocess.Popen([sys.executable, "-m", "localdev"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    import requests

    try:
        for _ in range(300):
            try:
                requests.get(f"{url}/local/clock", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def seed(url: str) -> None:
    import requests

    def token(sub: str, *groups: str) -> dict[str, str]:
        got = requests.post(f"{url}/local/tokens", json={"sub": sub, "groups": list(groups)}, timeout=10).json()
        return {"Authorization": f"Bearer {got['token']}"}

    code = None
    for n in range(12):
        sub = f"bench-{chr(97 + n)}"
        body = {"email": f"{sub}@example.com", "display_name": f"Member {n}"}
        if code:
            body["referral_code"] = code
        reply = requests.post(f"{url}/v1/members", json=body, headers=token(sub), timeout=30).json()
        code = code or reply["referral_code"]
        requests.post(f"{url}/v1/purchases", headers=token("till", "staff"), timeout=30, json={
            "order_id": f"BENCH-{n}", "member_id": sub, "amount_minor": 1000 * (n + 1), "currency": "CNY"})
    # A partner with a link that brought a member and a sale: its page has a QR code, a report and a ledger.
    admin = token("owner", "admin")
    requests.post(f"{url}/v1/partners", headers=admin, timeout=30, json={
        "partner_id": "bench-partner", "name": "Bench partner", "email": "partner@example.com",
        "commission_bps": 500, "attribution_days": 30})
    link = requests.post(f"{url}/v1/links", headers=admin, timeout=30, json={
        "link_id": "BENCH-L", "campaign": "bench", "partner_id": "bench-partner"}).json()
    requests.post(f"{url}/v1/members", headers=token("bench-p"), timeout=30, json={
        "email": "bench-p@example.com", "display_name": "Partner's member", "referral_code": link["code"]})
    requests.post(f"{url}/v1/purchases", headers=token("till", "staff"), timeout=30, json={
        "order_id": "BENCH-P", "member_id": "bench-p", "amount_minor": 20000, "currency": "CNY"})
    requests.post(f"{url}/local/tick", timeout=30)


def load_times(url: str, rounds: int = 5) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    times: dict[str, list[float]] = {name: [] for name in PAGES}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1024, "height": 768})
        page = context.new_page()
        page.goto(f"{url}/console/")
        page.click("[data-person=owner]")
        page.wait_for_selector("nav")
        for _ in range(rounds):
            for name, ready in PAGES.items():
                page.goto("about:blank")
                started = time.perf_counter()
                page.goto(f"{url}/console/#/{name}")
                for selector in ready:
                    page.wait_for_selector(selector)
                times[name].append((time.perf_counter() - started) * 1000)
        browser.close()
    return times


def run(rounds: int = 5) -> dict[str, Any]:
    measured = sizes()
    with server() as url:
        seed(url)
        measured["load_ms"] = {name: statistics.median(t) for name, t in load_times(url, rounds).items()}
    return measured


def report(measured: dict[str, Any]) -> list[str]:
    lines = [f"  {'file':<36} {'bytes':>9} {'gzip':>8}"]
    for name, (raw, packed) in measured["files"].items():
        lines.append(f"  {name:<36} {raw:>9,} {packed:>8,}")
    lines.append(f"First load (page, app, styles, icon, the chunks app.js imports): {measured['first_load_gzip']:,} B "
                 f"gzip; everything (with the chunks pages load: charts, the QR reader, the partners' pages): "
                 f"{measured['total_gzip']:,} B gzip")
    loads = measured["load_ms"]
    lines.append("Page load against make run (median of 5, navigation to data on screen): " +
                 ", ".join(f"{name} {ms:.0f} ms" for name, ms in loads.items()))
    largest = max(loads, key=loads.get)
    lines.append(f"Slowest page: {largest}, {loads[largest]:.0f} ms")
    return lines
