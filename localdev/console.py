"""The merchant console on the local server, as CloudFront serves it on AWS: the built files of ``console/dist``
(``make run`` builds them) under ``/console/``, and the ``config.json`` that says how people sign in (here: the
local picker, which asks ``POST /local/tokens`` for a token) and where the API is (here: the same origin)."""

from __future__ import annotations

import json
import mimetypes
import re
from functools import cache
from pathlib import Path

from functions.console.app import TYPES
from localdev import template

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "console" / "dist"
PREFIX = "/console/"
LOCAL_CONFIG = {"api": "", "auth": "local"}


@cache
def headers() -> dict[str, str]:
    """The headers the template's CloudFront policy (ConsoleHeaders) sets, its policy's AWS addresses and the
    referral links' base left out (locally links are this server's own: 'self')."""
    config = template.load()["Resources"]["ConsoleHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    policy = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    policy = re.sub(r"\s+", " ", re.sub(r"\s*\S*\$\{[^}]+\}\S*", "", policy)).strip()
    return {"content-security-policy": policy, "x-content-type-options": "nosniff", "x-frame-options": "DENY",
            "referrer-policy": "strict-origin-when-cross-origin", "cache-control": "no-cache"}


Served = tuple[int, dict[str, str], bytes]


def serve(method: str, path: str) -> Served | None:
    """The console's answer to a request, or None when the path is not the console's."""
    if path == PREFIX.rstrip("/"):
        return 308, {"location": PREFIX}, b""
    if not path.startswith(PREFIX) or method not in ("GET", "HEAD"):
        return None
    name = path[len(PREFIX):] or "index.html"
    if name == "config.json":
        return 200, {**headers(), "content-type": TYPES[".json"]}, json.dumps(LOCAL_CONFIG).encode()
    if not DIST.is_dir():
        return _missing("The console is not built: `make run` builds it (npm run build in console/).")
    target = (DIST / name).resolve()
    if DIST.resolve() not in target.parents or not target.is_file():
        return _missing(f"No such console file: {name}")
    kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return 200, {**headers(), "content-type": kind}, target.read_bytes()


def _missing(detail: str) -> Served:
    from loyalty.http.problems import problem_body

    body = problem_body("not-found", 404, "Not found", detail)
    return 404, {"content-type": "application/problem+json"}, body.encode()
