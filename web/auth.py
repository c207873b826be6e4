"""Who is asking: bearer tokens (and, from the pages, sessions) to actors."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, request

from kiosk import accounts
from kiosk.values import Actor, Desk

from . import db
from .errors import ApiError


def desk(app=None) -> Desk:
    """The site's desk values, from the running app or the one given (worker processes, CLI)."""
    config = (app or current_app).config
    return Desk(site=config["SITE"], code_key=config["CODE_KEY"], site_name=config["SITE_NAME"],
                timezone=config["TIMEZONE"])


def site_zone(app=None) -> ZoneInfo:
    """The site's time zone (``KIOSK_TIMEZONE``): the desk's days, hours and "overnight"."""
    return ZoneInfo((app or current_app).config["TIMEZONE"])


def _tokens() -> accounts.TokenCache:
    """This app's token cache (kiosk.accounts.TokenCache: a revoked token stops within a second)."""
    extensions = current_app.extensions
    cache = extensions.get("kiosk.tokens")
    if cache is None:
        ttl = current_app.config.get("TOKEN_CACHE_SECONDS", 1.0)
        cache = extensions.setdefault("kiosk.tokens", accounts.TokenCache(ttl=ttl))
    return cache


def token_client(environ) -> bool:
    """Whether a request (its WSGI environ) is a token client of the API: a call under /api/ with an
    Authorization header. It acts as its token alone (``current_actor`` looks at no cookie once the
    header is there): no session, no CSRF check, no page's language (web/security, web/i18n)."""
    return bool(environ.get("HTTP_AUTHORIZATION")) and environ.get("PATH_INFO", "").startswith("/api/")


def current_actor() -> Actor:
    header = request.headers.get("Authorization", "")
    if not header:
        # A page's own calls: the enrolled kiosk's cookie or the staff session (with a CSRF token).
        from .security import cookie_actor

        actor = cookie_actor()
        if actor is not None:
            return actor
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized")
    actor = _tokens().authenticate(db.session(), token.strip())
    if actor is None:
        raise ApiError(401, "unauthorized")
    return actor
