"""Bearer tokens to actors, and the one transaction boundary of each API call."""
from __future__ import annotations

from functools import wraps

from flask import current_app, request

from kiosk import accounts
from kiosk.errors import KioskError
from kiosk.values import Actor, Desk

from . import db
from .errors import ApiError


def desk(app=None) -> Desk:
    """The site's desk values, from the running app or the one given (worker threads, CLI)."""
    config = (app or current_app).config
    return Desk(site=config["SITE"], code_key=config["CODE_KEY"], site_name=config["SITE_NAME"])


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
        raise ApiError(401, "unauthorized", "send a bearer token: Authorization: Bearer <token>")
    actor = accounts.authenticate(db.session(), token.strip())
    if actor is None:
        raise ApiError(401, "unauthorized", "this token is unknown or revoked")
    return actor


def endpoint(action: str):
    """Authenticate, check the role may do ``action``, run the view, commit once.

    A view that returns has succeeded: commit. A domain error rolls back, unless
    it carries the audit record of the refusal it reports (``recorded``): then
    that record is committed, because a forged scan or refused release must
    leave a trace.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            session = db.session()
            actor = current_actor()
            if not accounts.may(actor.role, action):
                session.rollback()
                raise ApiError(403, "forbidden", f"a {actor.role} token may not {action.replace('_', ' ')}")
            try:
                response = view(actor, *args, **kwargs)
            except KioskError as error:
                if error.recorded:
                    session.commit()
                else:
                    session.rollback()
                raise
            except BaseException:
                session.rollback()
                raise
            session.commit()
            return response

        wrapper.permission = action
        return wrapper

    return decorate
