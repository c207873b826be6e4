"""One database session per request; the view decides nothing about transactions."""
from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from kiosk.db import make_engine, session_factory


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["kiosk.engine"] = engine
    app.extensions["kiosk.sessions"] = session_factory(engine)
    app.teardown_appcontext(_close)


def engine():
    return current_app.extensions["kiosk.engine"]


def session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["kiosk.sessions"]()
    return g.db_session


def _close(_exc) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        # Anything not committed by the request's own boundary is thrown away.
        db_session.rollback()
        db_session.close()
