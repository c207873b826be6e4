"""The app's engine and sessions: one session per request, and units of work for the rest.

Requests get their session from ``session()``; the API's ``operation`` wraps each
call in ``kiosk.db.unit_of_work``. Work outside a request (the CLI, the print
worker, `kiosk scan`) uses ``transaction(app)``: the same boundary.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kiosk import db as kiosk_db

_ENGINE, _SESSIONS = "kiosk.engine", "kiosk.sessions"


def init_app(app: Flask) -> None:
    engine = kiosk_db.make_engine(app.config["DATABASE_URL"], pool_size=app.config.get("DB_POOL_SIZE"))
    app.extensions[_ENGINE] = engine
    app.extensions[_SESSIONS] = kiosk_db.session_factory(engine, audit_key=app.config["AUDIT_KEY"])
    app.teardown_appcontext(_close)


def engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions[_ENGINE]


def sessions(app: Flask | None = None) -> sessionmaker[Session]:
    return (app or current_app).extensions[_SESSIONS]


@contextmanager
def transaction(app: Flask | None = None) -> Iterator[Session]:
    """One unit of work outside a request: commit on success, roll back on any error,
    and write a refusal's record after the rollback."""
    with kiosk_db.transaction(sessions(app)) as session:
        yield session


def session() -> Session:
    request_globals = g._get_current_object()   # one lookup through the proxy, not three
    made = request_globals.get("db_session")
    if made is None:
        made = request_globals.db_session = sessions()()
    return made


def _close(_exc) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        # Anything not committed by the request's own boundary is thrown away: closing ends the
        # transaction, if one is open, with a rollback.
        db_session.close()
