"""Rate limits that hold across app servers: per device (its bearer token) and per client address.

The counters live in this process for a single server (``memory://``) and in Redis
(``KIOSK_REDIS_URL``) when several app servers share the load, so a limit is the same
whichever server a request reaches. They are counted with ``limits``, the engine of
Flask-Limiter, called directly from the operations that are limited: Flask-Limiter's
own request hooks cost ~0.3 ms on every request, deposits included (measured here).

The client's address is the connection's, never ``X-Forwarded-For`` unless the
connection comes from a proxy the operator named (``KIOSK_TRUSTED_PROXIES``).

Views declare their limit by name (``operation(…, limit="scan")``); pages use the
``rate_limit`` decorator (the sign-in page: ``@rate_limit("login", key=…, methods=("POST",))``).
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from functools import wraps

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from .errors import ApiError

log = logging.getLogger(__name__)

# name -> (per device or user, per client address). A kiosk reads a stub every few seconds at
# the busiest; a browser camera sends a few frames a second; staff read one item at a time.
DEFAULTS: dict[str, tuple[str, str]] = {
    "scan": ("5/second;60/minute", "20/second;600/minute"),
    "decode": ("8/second;300/minute", "16/second;600/minute"),
    "read_item": ("30/minute", "120/minute"),
    "lookup": ("30/minute", "120/minute"),
    "label": ("10/minute", "60/minute"),
    "login": ("5/minute;20/hour", "10/minute;100/hour"),
    # The kiosk's own pages: the complaint form, and its enrolment link (a secret worth guessing).
    "complaint": ("12/minute;100/hour", "30/minute;300/hour"),
    "enrol": ("", "10/minute;50/hour"),
    # Wrong or revoked tokens from one address: past this, 429 instead of 401.
    "auth_failure": ("", "60/minute;600/hour"),
}
# After the shared store (Redis) fails, count in this process for this long before trying it again.
FALLBACK_SECONDS = 30.0
_EXTENSION = "kiosk.limits"


class RateLimited(ApiError):
    def __init__(self, name: str, retry_after: int):
        super().__init__(429, "rate_limited", limit=name, retry_after=retry_after)


def parse_setting(text: str | None) -> dict[str, tuple[str, str]] | None:
    """``KIOSK_RATE_LIMITS``: unset for the defaults, ``off`` for none (benchmarks), or
    overrides ``name=per-device|per-address`` separated by spaces."""
    if not text:
        return dict(DEFAULTS)
    if text.strip() == "off":
        return {}
    limits = dict(DEFAULTS)
    for entry in text.split():
        name, _, value = entry.partition("=")
        device, _, address = value.partition("|")
        limits[name] = (device, address)
    return limits


def parse_proxies(text: str | None) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in (text or "").split(",") if part.strip())


@dataclass
class _Store:
    uri: str
    prefix: str
    limiter: FixedWindowRateLimiter
    fallback: FixedWindowRateLimiter
    failed_at: float = 0.0


class Limits:
    def __init__(self, app: Flask):
        uri = app.config["REDIS_URL"] or "memory://"
        options = {"key_prefix": app.config["RATE_LIMIT_PREFIX"]} if uri.startswith("redis") else {}
        self.store = _Store(uri=uri, prefix=app.config["RATE_LIMIT_PREFIX"],
                            limiter=FixedWindowRateLimiter(storage_from_string(uri, **options)),
                            fallback=FixedWindowRateLimiter(storage_from_string("memory://")))
        self._parsed: dict[str, list[RateLimitItem]] = {}

    def _items(self, text: str) -> list[RateLimitItem]:
        if text not in self._parsed:
            self._parsed[text] = parse_many(text) if text else []
        return self._parsed[text]

    def _limiter(self) -> FixedWindowRateLimiter:
        failed = self.store.failed_at and time.monotonic() - self.store.failed_at < FALLBACK_SECONDS
        return self.store.fallback if failed else self.store.limiter

    def hit(self, name: str, kind: str, key: str, text: str) -> int | None:
        """Count one request against each window of ``text``; seconds to wait if one is full."""
        for item in self._items(text):
            identifiers = (name, kind, key)
            try:
                limiter = self._limiter()
                allowed = limiter.hit(item, *identifiers)
            except Exception:  # the shared store is down: limits still hold, per process, meanwhile
                log.warning("rate limit store %s unreachable; counting in this process for %ss",
                            self.store.uri, FALLBACK_SECONDS, exc_info=True)
                self.store.failed_at = time.monotonic()
                limiter = self.store.fallback
                allowed = limiter.hit(item, *identifiers)
            if not allowed:
                reset = limiter.get_window_stats(item, *identifiers).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None


def init_app(app: Flask) -> None:
    app.extensions[_EXTENSION] = Limits(app)


def _trusted(address: str, proxies) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address() -> str:
    """The connection's address; behind a named proxy, the last address it was told that is
    not itself one of the named proxies."""
    remote = request.remote_addr or "unknown"
    proxies = current_app.config["TRUSTED_PROXIES"]
    if not proxies or not _trusted(remote, proxies):
        return remote
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop[:64]
    return hops[0][:64] if hops else remote


def credential_key() -> str | None:
    """Who asks, without a database lookup: a digest of the bearer token, else of the enrolled
    kiosk's device cookie (one per device or user), else the signed-in staff member."""
    from flask import session

    from .security import DEVICE_COOKIE

    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    token = token or request.cookies.get(DEVICE_COOKIE, "")
    if token:
        return hashlib.sha256(token.encode()).hexdigest()[:24]
    user = session.get("_user_id")
    return f"user:{user}" if user else None


def check(name: str, key: str | None = None) -> None:
    """Count this request against limit ``name`` for its credential (or ``key``; "" for none)
    and its client address; raise RateLimited (429, with Retry-After) when either is spent."""
    setting = current_app.config["RATE_LIMITS"].get(name)
    if not setting:
        return
    per_key, per_address = setting
    limits: Limits = current_app.extensions[_EXTENSION]
    who = key if key is not None else credential_key()
    waits = []
    if per_key and who:
        waits.append(limits.hit(name, "k", who, per_key))
    if per_address:
        waits.append(limits.hit(name, "a", client_address(), per_address))
    wait = max((w for w in waits if w), default=None)
    if wait:
        raise RateLimited(name, wait)


def rate_limit(name: str, key=None, methods: tuple[str, ...] | None = None):
    """Decorate a Flask view with limit ``name``, counted on ``methods`` (all by default); ``key``
    returns what to count per (a user name typed at sign-in, say), else the credential counts.
    A page answers 429 as a page (its blueprint's error page), the API as JSON."""

    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            if methods is None or request.method in methods:
                try:
                    check(name, key() if key else None)
                except RateLimited as refused:
                    if request.path.startswith("/api/"):
                        raise
                    raise TooManyRequests(retry_after=refused.params["retry_after"]) from None
            return view(*args, **kwargs)

        return limited

    return decorate
