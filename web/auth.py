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
    return Desk(site=config["SITE"], code_key=config["CODE_KEY"], site_name=config["SITE_NAME"])


def site_zone(app=None) -> ZoneInfo:
    """The site's time zone (``KIOSK_TIMEZONE``): the desk's days, hours and "overnight"."""
    return ZoneInfo((app or current_app).config["TIMEZONE"])


def current_actor() -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized")
    actor = accounts.authenticate(db.session(), token.strip())
    if actor is None:
        raise ApiError(401, "unauthorized")
    return actor
