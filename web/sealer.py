"""The audit sealer: a thread of `kiosk serve` and `kiosk print-worker`, or `kiosk audit seal`.

Every process may run one; exactly one seals at a time. On PostgreSQL that is whoever
holds the advisory lock (kiosk.audit.lead_sealing) on a connection kept for it, so a
sealer that dies hands over to another process by itself; on SQLite, whoever holds the
lock file beside the database (SQLite has one writer anyway). The holder chains the rows
committed since its last pass every ``INTERVAL`` and anchors the chain's head daily. On
PostgreSQL it also announces them to the live pages of every app server (web/events.py), in
the transaction that seals them.
"""
from __future__ import annotations

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from kiosk import anchors, audit

from .db import engine
from .events import announcer

log = logging.getLogger(__name__)

INTERVAL = 0.1      # seconds between passes: a row is chained within about this long
BATCH = 1000        # rows a pass seals at most; a full pass is followed by the next at once
TAKE_OVER = 2.0     # seconds between attempts to become the sealer
ANCHOR_EVERY = timedelta(days=1)


def anchor_path(app: Flask) -> str:
    return app.config["AUDIT_ANCHORS"]


@contextmanager
def _leadership(app: Flask):
    """Yield a connection to seal on if this process is the sealer now, else None."""
    bound = engine(app)
    if bound.dialect.name == "postgresql":
        connection = bound.connect()
        try:
            leading = audit.lead_sealing(connection)
            connection.commit()
            yield connection if leading else None
        finally:
            # Closed for good, not returned to the pool: the advisory lock goes with it.
            connection.invalidate()
            connection.close()
        return
    path = make_url(bound.url).database
    fd = os.open(f"{path}.sealer-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        with bound.connect() as connection:
            yield connection
    finally:
        os.close(fd)  # releases the lock


class Sealer:
    def __init__(self, app: Flask, interval: float = INTERVAL):
        self.app, self.interval = app, interval
        self.key = app.config["AUDIT_KEY"]
        self.announce = announcer(app)
        self.last_anchor: datetime | None = None

    def run(self, stop: threading.Event) -> None:
        last = anchors.last_taken(anchor_path(self.app), self.key)
        self.last_anchor = last.at if last else None
        while not stop.is_set():
            try:
                with _leadership(self.app) as connection:
                    if connection is None:
                        stop.wait(TAKE_OVER)
                        continue
                    self._seal(connection, stop)
            except Exception:  # a database outage must not end the sealer: try again shortly
                log.exception("audit sealer pass failed")
                stop.wait(TAKE_OVER)

    def _seal(self, connection, stop: threading.Event) -> None:
        state = audit.SealState()
        with Session(bind=connection, info={"audit_key": self.key}) as session:
            while not stop.is_set():
                sealed = audit.seal(session, self.key, state, batch=BATCH, announce=self.announce)
                session.commit()
                _anchor_handovers(self.app, session, state)
                self._anchor_daily(session, state)
                if sealed < BATCH:
                    # Caught up: wait for the next rows. Also when busy: a pass costs the sealer
                    # and the database five statements however few rows it seals, so on a busy
                    # ledger it seals what an interval brought, not each row as it comes.
                    stop.wait(self.interval)

    def _anchor_daily(self, session: Session, state: audit.SealState) -> None:
        """Anchor only what is committed, and end the read at once: a transaction left open
        while the sealer waits would hold SQLite's write lock."""
        now = datetime.now(UTC)
        if state.position == 0 or (self.last_anchor is not None and now - self.last_anchor < ANCHOR_EVERY):
            return
        try:
            self.last_anchor = anchors.anchor(session, self.key, anchor_path(self.app), "daily", now=now).at
        finally:
            session.rollback()


def _anchor_handovers(app: Flask, session: Session, state: audit.SealState) -> None:
    """A pass sealed a signed handover: anchor the head now, so the sheet can print it."""
    if not state.anchor_due:
        return
    try:
        anchors.anchor(session, app.config["AUDIT_KEY"], anchor_path(app), "handover")
        state.anchor_due = False
    finally:
        session.rollback()


def start_thread(app: Flask) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=Sealer(app).run, args=(stop,), name="audit-sealer", daemon=True).start()
    return stop


def seal_now(app: Flask) -> int | None:
    """One pass, for `kiosk audit seal --once` and tests: chain what has committed so far;
    None if another process is the sealer."""
    with _leadership(app) as connection:
        if connection is None:
            return None
        with Session(bind=connection, info={"audit_key": app.config["AUDIT_KEY"]}) as session:
            state = audit.SealState()
            sealed = audit.seal(session, app.config["AUDIT_KEY"], state, announce=announcer(app))
            session.commit()
            _anchor_handovers(app, session, state)
    return sealed
