"""Engines, sessions and migrations, for SQLite (embedded) and PostgreSQL (shared)."""
from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import instance_state, manager_of_class, set_committed_value

from . import refusals
from .errors import KioskError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the usual ``postgresql://`` spellings and use psycopg 3 for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Execution option of a connection whose transaction only reads (``unit_of_work(read_only=True)``).
READ_ONLY = "kiosk_read_only"


def make_engine(url: str, *, pool_size: int | None = None, **kwargs) -> Engine:
    """An engine for ``url``; ``pool_size`` connections kept open (one per request thread, and a few
    for the background threads), so that a busy server never opens and closes overflow connections.

    No pre-ping: it would cost every request a round trip. A connection the server dropped fails
    the one statement that meets it (web/errors.py answers 503 ``unavailable``), and SQLAlchemy then
    invalidates the whole pool (every connection older than the failure), so the next request
    reconnects; tests/e2e/test_outage.py drops every connection mid-burst."""
    url = normalise_url(url)
    if pool_size:
        kwargs.setdefault("pool_size", pool_size)
        kwargs.setdefault("max_overflow", pool_size)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, **kwargs)


# One lock per SQLite database file in this process, taken before BEGIN IMMEDIATE: the threads of
# a process queue for the write lock here and get it the moment it is free. Without it they queue
# in SQLite's busy handler, which sleeps (up to 100 ms at a time) and retries, so a writer often
# sleeps through the moment the lock came free: that was most of SQLite's tail latency. Writers
# in other processes still meet in SQLite's own lock.
_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()
_HOLDS_WRITE_LOCK = "kiosk.write_lock"
WRITE_LOCK_TIMEOUT = 30.0


def _write_lock(database: str) -> threading.Lock:
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(os.path.abspath(database), threading.Lock())


def _configure_sqlite(engine: Engine) -> None:
    database = engine.url.database or ""
    write_lock = _write_lock(database) if database and database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take BEGIN out of pysqlite's hands so that every transaction that may write starts
        # with BEGIN IMMEDIATE below; a deferred transaction that reads and then writes fails
        # outright under concurrency instead of waiting its turn. Only readers begin deferred.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _reader_writes(connection, _cursor, statement, *_args):
        # A reader that writes would work alone and fail under load: make it fail always.
        if connection.get_execution_options().get(READ_ONLY) and statement.lstrip()[:6].upper() in (
                "INSERT", "UPDATE", "DELETE"):
            raise RuntimeError(f"a read-only unit of work writes: {statement[:60]}")

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Writers queue for the one write lock at BEGIN; a reader (WAL) takes no lock at all and
        # reads the last committed state while a writer works.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
            return
        if write_lock is not None:
            if not write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
                raise sqlite3.OperationalError("database is locked")
            connection.info[_HOLDS_WRITE_LOCK] = write_lock
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    def _release(info) -> None:
        held = info.pop(_HOLDS_WRITE_LOCK, None)
        if held is not None:
            held.release()

    def _end(connection, statement: str) -> None:
        # SQLAlchemy calls these hooks just before the driver's commit() or rollback(); end the
        # transaction here, so that the lock is let go after it, not before (the driver's own
        # call then finds no transaction and does nothing).
        try:
            driver = connection.connection.dbapi_connection
            if connection.info.get(_HOLDS_WRITE_LOCK) is not None and driver.in_transaction:
                driver.execute(statement)
        finally:
            _release(connection.info)

    event.listen(engine, "commit", lambda connection: _end(connection, "COMMIT"))
    event.listen(engine, "rollback", lambda connection: _end(connection, "ROLLBACK"))
    # A connection given back with its transaction still open (the pool rolls it back): let go too.
    event.listen(engine, "checkin", lambda _dbapi, record: _release(record.info))
    event.listen(engine, "invalidate", lambda _dbapi, record, _exc: _release(record.info))


def session_factory(engine: Engine, audit_key: bytes | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``. Sessions that write audit rows need the audit key
    (``kiosk.keys.derive_key(secret, "audit chain")``): it rides in ``session.info``, so the
    domain's operations need not pass it along."""
    return sessionmaker(engine, expire_on_commit=False, info={"audit_key": audit_key} if audit_key else None)


def adopt(session: Session, model, row: Mapping, *, whole: bool = True):
    """A row read or written with Core (``SELECT``, ``INSERT … RETURNING``, ``UPDATE … RETURNING``)
    as a persistent ORM object of ``session``, with no further statement: on the hot path the
    ORM's query and unit-of-work machinery cost more than the row itself (issue 9).

    ``whole``: ``row`` is the whole row, the columns it leaves out being NULL (an INSERT that set
    every column but the ids need only return those). Otherwise it is part of the row, and the
    columns it leaves out are read when first used."""
    values = {**_nulls(model), **row} if whole else dict(row)
    for name in _times(model):
        value = values.get(name)
        if value is not None:
            values[name] = value.astimezone(UTC)
    key = model.__mapper__.identity_key_from_primary_key((values["id"],))
    present = session.identity_map.get(key)
    if present is not None:   # read earlier in this session: it takes the row as written
        for name, value in values.items():
            set_committed_value(present, name, value)
        return present
    # As the ORM's own loading makes an object (sqlalchemy.orm.loading): no __init__ (its
    # per-attribute change tracking), the values straight into its dict, its identity set, in
    # the session's identity map; columns not read are expired, so first use reads them.
    # make_transient_to_detached() and Session.add() came to the same through the unit of
    # work's cascade and expiry bookkeeping, ~6 % of a scan and release (issue 9).
    obj = manager_of_class(model).new_instance()
    obj.__dict__.update(values)
    state = instance_state(obj)
    state.key, state.session_id = key, session.hash_key
    if not whole:
        state.expired_attributes.update(name for name in _nulls(model) if name not in values)
    session.identity_map.add(state)
    return obj


@lru_cache(maxsize=None)
def _nulls(model) -> dict:
    return {column.key: None for column in model.__table__.columns}


@lru_cache(maxsize=None)
def _times(model) -> tuple[str, ...]:
    """The model's date-and-time columns: what ``adopt`` makes aware UTC times of."""
    return tuple(column.key for column in model.__table__.columns
                 if isinstance(getattr(column.type, "impl", column.type), DateTime))


def begin_reading(session: Session) -> None:
    """Begin ``session``'s transaction as a reader. On SQLite that is a deferred ``BEGIN``, which
    takes no lock (every other transaction is ``BEGIN IMMEDIATE``: it waits for the write lock
    at once rather than fail when it first writes). A reader must not write: under a concurrent
    writer its write would fail with "database is locked" instead of waiting. Elsewhere nothing
    changes, and nothing is sent before the first statement."""
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={READ_ONLY: True})


@contextmanager
def unit_of_work(session: Session, *, read_only: bool = False) -> Iterator[Session]:
    """The one transaction boundary: commit once on success, roll back on any error.

    A refusal that must leave a trace (``KioskError.record``) is written after the
    rollback, alone in a transaction of its own, never beside the failed work. The
    API, the CLI, the print worker and `kiosk scan` all go through here. ``read_only``
    work (``begin_reading``) takes no write lock on SQLite.
    """
    if read_only:
        begin_reading(session)
    try:
        yield session
    except KioskError as error:
        session.rollback()
        if error.record is not None:
            refusals.write(session, error)
            session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A fresh session inside ``unit_of_work``, closed afterwards."""
    with sessions() as session, unit_of_work(session):
        yield session


def _alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


# What the app's own database role may do, table by table (PostgreSQL; `kiosk init` grants it
# when it runs with the schema owner's connection, KIOSK_ADMIN_DATABASE_URL). The trail and
# its seals take INSERT and SELECT only: no UPDATE, DELETE or TRUNCATE, and since the app
# does not own the tables, no ALTER and no switching their triggers off. Nothing is deleted
# anywhere. A new table needs its line here (a test checks).
APP_GRANTS: dict[str, tuple[str, ...]] = {
    "audit_events": ("SELECT", "INSERT"),
    "audit_seals": ("SELECT", "INSERT"),
    "alembic_version": ("SELECT",),
    "users": ("SELECT", "INSERT", "UPDATE"),
    "api_tokens": ("SELECT", "INSERT", "UPDATE"),
    "ticket_counters": ("SELECT", "INSERT", "UPDATE"),
    "items": ("SELECT", "INSERT", "UPDATE"),
    "alerts": ("SELECT", "INSERT", "UPDATE"),
    "print_jobs": ("SELECT", "INSERT", "UPDATE"),
    "scan_misses": ("SELECT", "INSERT", "UPDATE"),
    "residents": ("SELECT", "INSERT", "UPDATE"),
    "key_loans": ("SELECT", "INSERT", "UPDATE"),
    "notifications": ("SELECT", "INSERT", "UPDATE"),
    "kiosk_enrolments": ("SELECT", "INSERT", "UPDATE"),
    "complaints": ("SELECT", "INSERT", "UPDATE"),
    # A complaint's steps and an item's contact attempts are history: written once.
    "complaint_steps": ("SELECT", "INSERT"),
    "item_contacts": ("SELECT", "INSERT"),
    "work_orders": ("SELECT", "INSERT", "UPDATE"),
    "calendar_weekdays": ("SELECT", "INSERT", "UPDATE"),
    # A holiday entered by mistake is taken out again (DELETE /calendar/days/{day}).
    "calendar_days": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    "disposal_requests": ("SELECT", "INSERT", "UPDATE"),
    "handovers": ("SELECT", "INSERT", "UPDATE"),
    "handover_lines": ("SELECT", "INSERT", "UPDATE"),
}


def grant_app_role(engine: Engine, role: str) -> None:
    """Give the app's role exactly ``APP_GRANTS`` on the schema ``engine`` (its owner) migrated."""
    with engine.begin() as connection:
        quote = connection.dialect.identifier_preparer.quote
        schema, app = quote(connection.scalar(text("SELECT current_schema()"))), quote(role)
        connection.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {app}")
        connection.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {app}")
        for table, privileges in APP_GRANTS.items():
            connection.exec_driver_sql(f"GRANT {', '.join(privileges)} ON {quote(table)} TO {app}")
        connection.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {app}")


def head_revision() -> str:
    """The newest migration: what a current schema is at."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
