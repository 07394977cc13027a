"""The local HTTP server: API Gateway (HTTP API, payload 2.0) in front of the real Lambda handlers.

Each request is matched to a route of ``infra/template.yaml``, turned into the event API Gateway
would send (the token's claims in ``requestContext.authorizer.jwt.claims``, array claims flattened
the way API Gateway flattens them) and handed to the function's ``handler``. Plus the local-only
routes under ``/local``: tokens, the clock, scheduled jobs and the outbox.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import jwt

from localdev import console, template
from loyalty.http.auth import MEMBER_ID_PATTERN
from loyalty.identity.domain import groups_kept
from loyalty.shared.clock import to_rfc3339

ISSUER = "loyalty-ledger-local"
KNOWN_GROUPS = frozenset({"staff", "admin", "partner"})
TOKEN_TTL_SECONDS = 12 * 3600
MAX_BODY = 1_000_000
MAX_ADVANCE_SECONDS = 20 * 366 * 86400
# What POST /local/tokens accepts besides sub and groups, each as Cognito would carry it.
EMAIL = re.compile(r"^[^@\s\x00-\x1f]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$")  # RFC 6749 scope-tokens
TOKEN_FIELDS = {
    "email": lambda v: isinstance(v, str) and len(v) <= 254 and EMAIL.match(v) is not None,
    "phone_number": lambda v: isinstance(v, str) and E164.match(v) is not None,
    "partner_id": lambda v: isinstance(v, str) and re.match(MEMBER_ID_PATTERN, v) is not None,
    "scope": lambda v: isinstance(v, str) and len(v) <= 2048 and SCOPE.match(v) is not None,
    "mfa": lambda v: isinstance(v, bool),
}
TOKEN_SCHEMA = ('Send {"sub": "<1-128 of [A-Za-z0-9._:@+-]>", "groups": ["staff"|"admin"|"partner", …]} and '
                'optionally "email", "phone_number" (E.164: +8613800138000), "partner_id" (like sub), '
                '"scope" (space-separated scope tokens; with no groups, email or phone: the till\'s '
                'client-credentials token) and "mfa" (true or false; default true).')
# The audience of a person's local ID token (on AWS: the app client's id).
LOCAL_APP_CLIENT = "local"


class MovableClock(Protocol):
    """The server's clock: every handler reads it; ``POST /local/clock`` moves it (only forward)."""

    def now(self) -> datetime: ...

    def advance(self, seconds: int) -> datetime: ...


@dataclass
class Target:
    route: template.Route
    pattern: re.Pattern[str]
    function: template.FunctionSpec
    handler: Callable[[dict[str, Any], Any], dict[str, Any]]


class LambdaContext:
    """Enough of the Lambda context object for Powertools."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + 10

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def api_gateway_claims(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as the HTTP API JWT authorizer passes them: strings, arrays as ``[a b]``, booleans as JSON writes
    them (``email_verified`` → ``"true"``)."""
    flat = {}
    for key, value in claims.items():
        if isinstance(value, list):
            flat[key] = "[" + " ".join(str(v) for v in value) + "]"
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        else:
            flat[key] = str(value)
    return flat


class LocalGateway:
    """Routes, tokens and the clock of one local server."""

    def __init__(self, clock: MovableClock, *, names: dict[str, str] | None = None) -> None:
        self.clock = clock
        self.secret = os.environ.get("LOCAL_JWT_SECRET") or secrets.token_urlsafe(32)
        # Invocations run one at a time, like one Lambda execution environment: Powertools keeps the event
        # being handled in state shared by every resolver (BaseRouter.current_event), so two handled at once
        # in one process would read each other's claims; and moto does not lock items across threads.
        # Parallel requests need several processes (tests/concurrency runs them so on DynamoDB Local).
        self._lock = threading.RLock()
        self.targets: list[Target] = []
        self.fallback: Target | None = None
        for spec in template.functions():
            handler = spec.load()
            for route in spec.routes:
                target = Target(route, route.pattern(), spec, handler)
                if route.path == "$default":
                    self.fallback = target
                else:
                    self.targets.append(target)
        self.targets.sort(key=lambda t: t.route.specificity())
        self.jobs = None
        if names is not None:
            from localdev.jobs import Jobs

            self.jobs = Jobs(clock, lambda handler, event, function: self.run(handler, event, function), names)

    def run(self, handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], function: str) -> Any:
        """Invoke a handler as Lambda would: one event at a time per environment."""
        context = LambdaContext(function)
        with self._lock:
            return handler(event, context)

    # --- tokens ----------------------------------------------------------------------------------

    def mint(self, sub: str, groups: list[str], *, email: str | None = None, phone_number: str | None = None,
             partner_id: str | None = None, scope: str | None = None, mfa: bool = True) -> dict[str, Any]:
        """A token as Cognito would issue it, valid for 12 hours by the server's clock.

        With a ``scope`` and no groups, email or phone number: the till's client-credentials access token
        (``client_id`` its ``sub``, no groups, no email). Else a person's ID token: ``email`` (by default
        ``<sub>@example.com``, as if Cognito had verified it) and ``phone_number`` come verified; the groups are
        those the pre-token trigger would leave (``staff`` and ``admin`` only with ``mfa``, which defaults to
        set up); a partner carries ``partner_id``; ``scope`` is space-separated.
        """
        now = int(self.clock.now().timestamp())
        claims: dict[str, Any] = {"sub": sub, "iss": ISSUER, "iat": now, "exp": now + TOKEN_TTL_SECONDS,
                                  "jti": str(uuid.uuid4())}
        if scope is not None and not groups and email is None and phone_number is None and partner_id is None:
            claims |= {"token_use": "access", "client_id": sub, "scope": scope}
            return self._signed(claims)
        claims |= {"token_use": "id", "aud": LOCAL_APP_CLIENT,
                   "cognito:groups": groups_kept(groups, mfa_set_up=mfa)}
        email = email if email is not None else _default_email(sub)
        if email is not None:
            claims |= {"email": email, "email_verified": True}
        if phone_number is not None:
            claims |= {"phone_number": phone_number, "phone_number_verified": True}
        if partner_id is not None:
            claims["partner_id"] = partner_id
        if scope is not None:
            claims["scope"] = scope
        return self._signed(claims)

    def _signed(self, claims: dict[str, Any]) -> dict[str, Any]:
        return {"token": jwt.encode(claims, self.secret, algorithm="HS256"),
                "expires_at": to_rfc3339(datetime.fromtimestamp(claims["exp"], UTC))}

    def claims(self, authorization: str | None) -> dict[str, Any] | None:
        """The verified claims of a bearer token, or None (as the JWT authorizer would reject it).

        Times are the server's clock's, not the machine's: a token is valid from ``iat`` until ``exp``
        as ``POST /local/clock`` moves time; one that ends before it begins is never valid.
        """
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                authorization[7:].strip(), self.secret, algorithms=["HS256"], issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "iss"], "verify_exp": False, "verify_iat": False,
                         "verify_nbf": False, "verify_aud": False})
        except jwt.PyJWTError:
            return None
        issued, expires, now = claims["iat"], claims["exp"], self.clock.now().timestamp()
        if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in (issued, expires)) \
                or not issued <= now < expires:
            return None
        return claims

    # --- routing ---------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[Target | None, dict[str, str]]:
        for target in self.targets:
            if target.route.method not in (method, "ANY"):
                continue
            found = target.pattern.match(path)
            if found:
                return target, found.groupdict()
        return self.fallback, {}

    def invoke(self, method: str, raw_path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = split.path or "/"
        target, params = self.match(method, path)
        if target is None:
            return _problem(404, "not-found", "Not found", "No such route.")
        claims = None
        if target.route.authorized:
            claims = self.claims(headers.get("authorization"))
            if claims is None:
                return _problem(401, "unauthorized", "Missing or invalid token",
                                "Send Authorization: Bearer <token> (POST /local/tokens mints one).")
        event = self._event(method, path, split.query, headers, body, target, params, claims)
        # What the request caused (stream records, queue messages) reaches its consumers before the next
        # request is served, as on AWS a second later. Cheap when it caused nothing: the emulator is asked
        # without a call whether a stream or queue holds anything (jobs.Jobs.deliver).
        with self._lock:
            try:
                return _from_lambda(self.run(target.handler, event, target.function.logical_id))
            finally:
                if self.jobs is not None:
                    self.jobs.deliver()

    def _event(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, target: Target,
               params: dict[str, str], claims: dict[str, Any] | None) -> dict[str, Any]:
        query_params: dict[str, str] = {}
        for key, value in parse_qsl(query, keep_blank_values=True):
            query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
        try:
            text, encoded = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode(), True
        now = datetime.now(UTC)
        context: dict[str, Any] = {
            "accountId": "000000000000", "apiId": "local", "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": headers.get("x-forwarded-for", "127.0.0.1"),
                     "userAgent": headers.get("user-agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": target.route.route_key, "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"), "timeEpoch": int(now.timestamp() * 1000),
        }
        if claims is not None:
            context["authorizer"] = {"jwt": {"claims": api_gateway_claims(claims), "scopes": None}}
        event: dict[str, Any] = {
            "version": "2.0", "routeKey": target.route.route_key, "rawPath": path, "rawQueryString": query,
            "headers": headers, "requestContext": context, "isBase64Encoded": encoded,
        }
        if query_params:
            event["queryStringParameters"] = query_params
        if params:
            event["pathParameters"] = params
        if body:
            event["body"] = text
        if "cookie" in headers:
            event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
        return event

    def advance(self, seconds: int) -> datetime:
        """Move the clock forward, doing on the way, in order, what AWS would have done in the time skipped
        (every schedule slot where something is due, and what it caused through streams and queues)."""
        with self._lock:
            if self.jobs is None:
                return self.clock.advance(seconds)
            self.jobs.advance(seconds)
            return self.clock.now()

    def handle(self, method: str, raw_path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request: a local-only route, or the API's."""
        path = urlsplit(raw_path).path
        local = self.local(method, path, body)
        if local is None:
            local = console.serve(method, path)
        return local if local is not None else self.invoke(method, raw_path, headers, body)

    # --- the local-only routes -------------------------------------------------------------------

    def local(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        if path == "/local/tokens" and method == "POST":
            request = _json(body)
            sub, groups = request.get("sub") if request else None, request.get("groups", []) if request else None
            if request is None or not isinstance(sub, str) or not re.match(MEMBER_ID_PATTERN, sub) \
                    or not isinstance(groups, list) or not all(isinstance(g, str) for g in groups) \
                    or not set(groups) <= KNOWN_GROUPS \
                    or not all(valid(request[k]) for k, valid in TOKEN_FIELDS.items() if k in request):
                return _problem(422, "validation-error", "Request does not fit the schema", TOKEN_SCHEMA)
            extra = {k: request[k] for k in TOKEN_FIELDS if k in request}
            return _json_response(200, self.mint(sub, list(dict.fromkeys(groups)), **extra))
        if path == "/local/clock" and method == "GET":
            return _json_response(200, {"now": to_rfc3339(self.clock.now())})
        if path == "/local/clock" and method == "POST":
            request = _json(body)
            seconds = request.get("advance_seconds") if request else None
            if type(seconds) is not int or not 0 <= seconds <= MAX_ADVANCE_SECONDS:
                return _problem(422, "validation-error", "Request does not fit the schema",
                                'Send {"advance_seconds": <integer, 0 or more>}; the clock only moves forward.')
            return _json_response(200, {"now": to_rfc3339(self.advance(seconds))})
        if path == "/local/tick" and method == "POST":
            with self._lock:
                ran = self.jobs.tick() if self.jobs is not None else []
            return _json_response(200, {"now": to_rfc3339(self.clock.now()), "ran": ran})
        if path == "/local/outbox" and method == "GET":
            items = self.jobs.outbox() if self.jobs is not None else []
            return _json_response(200, {"items": items})
        if path.startswith("/local/"):
            return _problem(404, "not-found", "Not found", "No such local route.")
        return None


def _default_email(sub: str) -> str | None:
    """The address a local person signed in with when the request names none: ``<sub>@example.com``."""
    email = f"{sub}@example.com"
    return email if EMAIL.match(email) else None


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _json_response(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"content-type": "application/json"}, json.dumps(body).encode()


def _problem(status: int, slug: str, title: str, detail: str) -> tuple[int, dict[str, str], bytes]:
    from loyalty.http.problems import problem_body  # the functions' own problem+json (Powertools is imported)

    return status, {"content-type": "application/problem+json"}, problem_body(slug, status, title, detail).encode()


def _from_lambda(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    body = result.get("body") or ""
    raw = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    if result.get("cookies"):  # payload 2.0: API Gateway sends each as its own Set-Cookie header
        headers["set-cookie"] = "\n".join(result["cookies"])
    return int(result.get("statusCode", 200)), headers, raw


def _folded(headers: Any) -> dict[str, str]:
    """Request headers by lower-case name, repeated ones joined with commas (as API Gateway passes them)."""
    folded: dict[str, str] = {}
    for key, value in headers.items():
        key = key.lower()
        folded[key] = f"{folded[key]},{value}" if key in folded else value
    return folded


def _send_headers(handler: BaseHTTPRequestHandler, headers: dict[str, str], payload: bytes) -> None:
    """A response's headers; its length (and whether the connection stays open) are the server's to say."""
    for key, value in headers.items():
        if key not in ("content-length", "connection"):
            for line in value.split("\n") if key == "set-cookie" else [value]:
                handler.send_header(key, line)
    handler.send_header("content-length", str(len(payload)))


def make_handler(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "loyalty-ledger-local"
        protocol_version = "HTTP/1.1"
        # Headers and body leave as one segment: no 40 ms Nagle/delayed-ACK stall on kept-alive connections.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                status, headers, payload = _problem(413, "payload-too-large", "Payload too large",
                                                    f"Bodies are limited to {MAX_BODY} bytes.")
                self.close_connection = True
            else:
                body = self.rfile.read(length) if length else b""
                status, headers, payload = gateway.handle(self.command, self.path, _folded(self.headers), body)
            self.send_response(status)
            _send_headers(self, headers, payload)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, …) is routed like the rest: no route has it, so a problem 404,
            # where http.server would answer an HTML 501 of its own.
            if name.startswith("do_") and name[3:].isalpha() and name[3:].isupper():
                return self._serve
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """Errors http.server answers itself (a malformed request line, headers too long) as problems too."""
            _, headers, payload = _problem(code, "bad-request" if code < 500 else "internal-error",
                                                message or "Bad request", explain or message or "Bad request")
            self.send_response(code)
            _send_headers(self, headers, payload)
            self.send_header("connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            if os.environ.get("LOCAL_ACCESS_LOG", "1") != "0":
                super().log_message(format, *args)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # listen()'s backlog: socketserver's default of 5 makes a burst of a few dozen clients time out or be reset
    # while the accept loop catches up (an API Gateway endpoint takes hundreds at once). Linux caps it at
    # net.core.somaxconn.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up before reading its answer is not the server's error: no traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


def serve(gateway: LocalGateway, host: str, port: int) -> ThreadingHTTPServer:
    return _Server((host, port), make_handler(gateway))
