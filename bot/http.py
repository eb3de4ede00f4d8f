"""HTTP plumbing every route shares, whichever part of guidebot mounts it.

JSON bodies that cannot hurt the server (`read_json_object`, `parse_json`),
JSON errors, per-client rate limits, the request log and metrics
(`observe`), bodies read within a time limit (`read_body`) and the security
headers. The core's routes and the adapters' routes (Slack, Teams, the web
console) all go through it; none of it knows any route but its own probes.

What one client can cost the others is bounded here: a request's body must
arrive within `body_timeout_seconds` (408), a route may be rate-limited per
client (429 with `Retry-After`), malformed input of any kind is a 4xx, and a
client that hangs up is logged as 499.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import re
import secrets
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Histogram

from bot.metrics import ERRORS, REGISTRY
from bot.settings import Settings

log = logging.getLogger("guidebot.server")
"""The server's log: one line per request, whatever part of guidebot answered it."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_JSON_BYTES = 64 * 1024
"""Largest JSON body `read_json_object` takes by default; larger gets 413."""
SERVER_HEADER = "guidebot"
"""What `Server:` says: no software name or version for a scanner to match against known flaws."""
CLIENT_GONE = 499
"""Logged (nginx's convention) for a client that hung up before its request was read."""
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_JSON_TYPES = ("application/json",)
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

SETTINGS_KEY = web.AppKey("settings", Settings)
THROTTLES_KEY = web.AppKey("throttles", dict)
"""`(method, path)` → a function giving the seconds a request must wait (0: let it through); see `rate_limit`."""
# aiohttp ≥ 3.12 has typed request keys; older versions take the plain string.
REQUEST_ID_KEY: Any = getattr(web, "RequestKey", lambda name, _type: name)("request_id", str)

HTTP_REQUESTS = Counter(
    "guidebot_http_requests",
    "HTTP requests, by method, route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "guidebot_http_request_seconds",
    "HTTP request latency, by method and route",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


# ---------------------------------------------------------------------------------------------
# JSON


def json_error(status: int, error: str, message: str, **extra: Any) -> web.Response:
    body = {"error": error, "message": message, **extra}
    return web.json_response(body, status=status, dumps=dumps)


def dumps(data: Any) -> str:
    """JSON with text as text: members' questions in other scripts stay readable, and shorter."""
    return json.dumps(data, ensure_ascii=False)


def parse_json(raw: bytes) -> Any:
    """A body as JSON, or `ValueError` for anything a client could send that is not usable JSON.

    Invalid UTF-8, malformed JSON, nesting deeper than the parser's recursion
    allows, and lone surrogates (`"\\ud800"`: valid JSON, but text no database
    or encoder takes) are all the client's mistake, never a 5xx.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("invalid_utf8") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("too_deep") from None
    except ValueError:
        raise ValueError("malformed_json") from None
    if "\\u" in text and has_lone_surrogate(data):
        raise ValueError("invalid_text")
    return data


def has_lone_surrogate(data: Any) -> bool:
    """Whether any string (key or value) in parsed JSON holds a surrogate code point (iteratively: no depth limit)."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_JSON_PROBLEMS = {
    "invalid_utf8": "The body must be UTF-8 encoded JSON.",
    "malformed_json": "The body is not valid JSON.",
    "too_deep": "The body's JSON is nested too deeply.",
    "invalid_text": "The body holds text that is not valid Unicode (a lone surrogate).",
}


class BadRequest(Exception):
    """What is wrong with a request, as the JSON error its client gets."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(error)
        self.status, self.error, self.message = status, error, message

    def response(self) -> web.Response:
        return json_error(self.status, self.error, self.message)


async def read_json_object(request: web.Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The body as a JSON object, or `BadRequest` (415 / 413 / 400) saying what is wrong."""
    if request.content_type not in _JSON_TYPES:
        raise BadRequest(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.")
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest(413, "body_too_large", f"The body must be at most {limit} bytes.")
    body = await request.read()  # already read, within its time limit, by `read_body`
    if len(body) > limit:
        raise BadRequest(413, "body_too_large", f"The body must be at most {limit} bytes.")
    try:
        data = parse_json(body)
    except ValueError as problem:
        raise BadRequest(400, str(problem), _JSON_PROBLEMS[str(problem)]) from None
    if not isinstance(data, dict):
        raise BadRequest(400, "not_an_object", "The body must be a JSON object.")
    return data


# ---------------------------------------------------------------------------------------------
# Rate limits


class RateLimiter:
    """Token buckets, one per client key: `per_minute` requests a minute, in bursts of up to that many.

    In memory, per replica (a limit of N a minute on each of R replicas lets a
    client through R × N at most); the Ingress limit in `deploy/k8s` holds
    the whole. At most `max_keys` clients are remembered: the least recently
    seen are forgotten first, so made-up client keys cannot grow it without end.
    """

    def __init__(self, per_minute: int, *, max_keys: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one request for `key`: 0 when allowed, else the seconds until one would be."""
        if self.capacity <= 0:
            return 0.0
        now = self.clock()
        tokens, then = self.buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - then) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self.buckets[key] = (tokens, now)
        while len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return wait


def client_address(request: web.Request, trusted: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """The client's address: the TCP peer, or, from a trusted proxy, the last `X-Forwarded-For` hop it did not add."""
    peer = request.remote or "unknown"
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", []) for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # not an address: the proxy did not write it, so it proves nothing
    return peer


def _within(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def throttle(app: web.Application, method: str, path: str, wait: Callable[[web.Request], float]) -> None:
    """Rate-limit one route: `wait(request)` spends the client's budget and says how long it must wait.

    Only an application with `rate_limit` among its middlewares (`plumbed_app`) enforces it.
    """
    throttles = app.get(THROTTLES_KEY)
    if throttles is None:
        throttles = app[THROTTLES_KEY] = {}
    throttles[(method, path)] = wait


def _too_many(wait: float) -> web.Response:
    response = json_error(429, "too_many_requests", "Too many requests from this browser or address. Wait a moment and try again.")
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


@web.middleware
async def rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Routes given a budget with `throttle`: 429 past it, before the body is read."""
    wait_for = request.app.get(THROTTLES_KEY, {}).get((request.method, request.path))
    wait = wait_for(request) if wait_for is not None else 0.0
    if wait:
        log.info("rate limited", extra={"request_id": request.get(REQUEST_ID_KEY), "route": request.path, "retry_after": round(wait, 1)})
        return _too_many(wait)
    return await handler(request)


# ---------------------------------------------------------------------------------------------
# Request bodies: read within a time limit


class ClientGone(Exception):
    """The client hung up before its request's body was read."""


@web.middleware
async def read_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read every request body before its handler runs, within `body_timeout_seconds` (else 408).

    A client sending a byte every few seconds would otherwise hold its
    connection and handler for as long as it liked. The body is kept by
    aiohttp, so handlers' `request.read()` returns it at once; a multipart form
    (a file upload) is parsed here instead, since aiohttp reads one from the
    stream, which can be read only once, and keeps the parsed `request.post()`.
    """
    if request.method not in _BODY_METHODS or not request.body_exists:
        return await handler(request)
    try:
        async with asyncio.timeout(request.app[SETTINGS_KEY].body_timeout_seconds):
            if request.content_type == "multipart/form-data":
                await request.post()
            else:
                await request.read()
    except ValueError:
        return json_error(400, "bad_body", "The multipart form could not be read.")
    except TimeoutError:
        log.info("request body too slow", extra={"request_id": request.get(REQUEST_ID_KEY), "route": route_name(request)})
        response = json_error(408, "body_timeout", "The request body took too long to arrive.")
        response.force_close()
        return response
    except web.HTTPRequestEntityTooLarge:
        return json_error(413, "body_too_large", f"The body must be at most {request.client_max_size} bytes.")
    except ConnectionResetError:
        raise ClientGone() from None
    return await handler(request)


# ---------------------------------------------------------------------------------------------
# Request log, metrics, errors, headers


def route_name(request: web.Request) -> str:
    """The route's pattern (`/docs/{document_id}`), never the raw path: bounded label values, no ids."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    if resource is None:
        return "unmatched"
    return resource.canonical


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id, log and count it, and turn any failure into a JSON error."""
    started = time.perf_counter()
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
    request[REQUEST_ID_KEY] = request_id
    route = route_name(request)
    status = 500
    try:
        response = await handler(request)
        status = response.status
    except web.HTTPException as exc:
        status = exc.status
        if request.path.startswith("/api/") and status >= 400:
            response = json_error(status, _slug(exc.reason), exc.reason)
            for header in ("Allow",):
                if header in exc.headers:
                    response.headers[header] = exc.headers[header]
        else:
            raise
    except asyncio.CancelledError:
        status = CLIENT_GONE
        raise
    except ClientGone:
        status = CLIENT_GONE
        response = web.Response(status=CLIENT_GONE)  # nobody is there to read it
    except Exception as exc:  # noqa: BLE001 - the last line of defence: a 500, logged with where (never what was sent)
        status = 500
        ERRORS.labels("http").inc()
        log.error(
            "unhandled error",
            extra={"request_id": request_id, "route": route, "error": type(exc).__name__,
                   "trace": "".join(traceback.format_tb(exc.__traceback__))},
        )
        response = json_error(500, "internal_error", "Something went wrong on our side.", request_id=request_id)
    finally:
        elapsed = time.perf_counter() - started
        HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
        HTTP_SECONDS.labels(request.method, route).observe(elapsed)
        if route in _QUIET_ROUTES:  # probes and scrapes every few seconds: not worth a line each
            level = logging.DEBUG
        else:
            level = logging.WARNING if status >= 500 else logging.INFO
        log.log(
            level,
            "request",
            extra={"request_id": request_id, "method": request.method, "route": route, "status": status,
                   "ms": round(elapsed * 1000, 1)},
        )
    response.headers["X-Request-ID"] = request_id
    return response


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_") or "error"


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """No sniffing, no framing, and pages that load nothing but their own files."""
    response.headers["Server"] = SERVER_HEADER
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html" or request.path == "/" or request.path.startswith("/docs"):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Frame-Options", "DENY")


def plumbed_app(settings: Settings) -> web.Application:
    """An application with the shared middlewares (log, rate limits, bodies) and headers in place."""
    app = web.Application(middlewares=[observe, rate_limit, read_body])
    app[SETTINGS_KEY] = settings
    app[THROTTLES_KEY] = {}
    app.on_response_prepare.append(security_headers)
    return app
