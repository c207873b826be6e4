"""Who is asking: bearer tokens (and, from the pages, sessions) to actors."""
from __future__ import annotations

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
    actor = accounts.authenticate(db.session(), token.strip())
    if actor is None:
        raise ApiError(401, "unauthorized")
    return actor
