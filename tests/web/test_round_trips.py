"""The hot path's conversations with the database, counted: deposit, scan and release each take
3 to 5 round trips (issue 9), and a reader never takes SQLite's write lock.

Counted at the driver, below SQLAlchemy (the hot path sends its statements to the driver
itself, kiosk/direct.py): on SQLite every statement the library runs (its trace callback),
including the BEGIN and COMMIT that kiosk.db sends itself; on PostgreSQL every statement a
psycopg cursor sends on a connection checked out meanwhile, the BEGIN psycopg sends before a
transaction's first one, and each COMMIT and ROLLBACK. Behaviour, not timing.

SQLite is a library in the process: its "round trips" are calls, and a deposit makes one more
there, the ticket counter's UPDATE (PostgreSQL numbers the item inside its INSERT)."""
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import event

from tests.conftest import luggage


def _keyword(sql) -> str:
    sql = (sql.decode() if isinstance(sql, bytes) else str(sql)).strip().upper()
    return sql if sql.startswith("BEGIN") else sql.split(None, 1)[0]


@contextmanager
def round_trips(app):
    engine = app.extensions["kiosk.engine"]
    sent: list[str] = []
    if engine.dialect.name == "sqlite":
        def trace(sql: str) -> None:
            if not sql.lstrip().startswith("--"):   # a trigger's own steps are no round trip
                sent.append(_keyword(sql))

        def checkout(dbapi_connection, _record, _proxy):
            dbapi_connection.set_trace_callback(trace)

        def checkin(dbapi_connection, _record):
            dbapi_connection.set_trace_callback(None)

        hooks = {"checkout": checkout, "checkin": checkin}
        patched = {}
    else:
        connections: set = set()
        real = {name: getattr(owner, name) for owner, name in
                ((psycopg.Cursor, "execute"), (psycopg.Connection, "commit"), (psycopg.Connection, "rollback"))}

        def ours(connection) -> bool:
            return connection in connections and connection.info.transaction_status != pq.TransactionStatus.IDLE

        def execute(cursor, query, *args, **kwargs):
            if cursor.connection in connections:
                if cursor.connection.info.transaction_status == pq.TransactionStatus.IDLE:
                    sent.append("BEGIN")
                sent.append(_keyword(query))
            return real["execute"](cursor, query, *args, **kwargs)

        def commit(connection):
            if ours(connection):
                sent.append("COMMIT")
            return real["commit"](connection)

        def rollback(connection):
            if ours(connection):
                sent.append("ROLLBACK")
            return real["rollback"](connection)

        hooks = {"checkout": lambda dbapi_connection, _record, _proxy: connections.add(dbapi_connection)}
        patched = {(psycopg.Cursor, "execute"): execute, (psycopg.Connection, "commit"): commit,
                   (psycopg.Connection, "rollback"): rollback}
    for name, hook in hooks.items():
        event.listen(engine, name, hook)
    originals = {key: getattr(*key) for key in patched}
    for (owner, name), replacement in patched.items():
        setattr(owner, name, replacement)
    try:
        yield sent
    finally:
        for (owner, name), original in originals.items():
            setattr(owner, name, original)
        for name, hook in hooks.items():
            event.remove(engine, name, hook)


@pytest.fixture
def warm(api):
    """The desk's and the kiosk's tokens have been used once (the token cache holds them)."""
    body = api.post("/items", json=luggage()).get_json()
    assert api.post("/scans", role="kiosk", json={"code": body["stub_code"]}).status_code == 200


def test_deposit_scan_and_release_take_three_to_five_round_trips(app, api, warm):
    sqlite = app.extensions["kiosk.engine"].dialect.name == "sqlite"
    with round_trips(app) as sent:
        body = api.post("/items", json=luggage()).get_json()
    # BEGIN, the item (numbered), its audit row, its print job, COMMIT; no lock taken on the way.
    assert 3 <= len(sent) - sqlite <= 5, sent
    assert sent[-1] == "COMMIT" and sent.count("SELECT") == 0

    with round_trips(app) as sent:
        scan = api.post("/scans", role="kiosk", json={"code": body["stub_code"]})
    assert scan.status_code == 200
    assert 3 <= len(sent) <= 5, sent

    with round_trips(app) as sent:
        released = api.post(f"/items/{body['id']}/release",
                            json={"tag_code": body["tag_code"], "stub_code": body["stub_code"]})
    assert released.status_code == 200 and released.get_json()["status"] == "released"
    assert 3 <= len(sent) <= 5, sent
    # Both halves authentic and current: one conditional UPDATE, nothing read first.
    assert sent.count("SELECT") == 0 and sent.count("UPDATE") == 1, sent


def test_a_token_not_seen_for_a_second_costs_one_query(app, api):
    sqlite = app.extensions["kiosk.engine"].dialect.name == "sqlite"
    assert api.post("/items", role="supervisor", json=luggage()).status_code == 201   # the site's first ticket
    with round_trips(app) as sent:
        assert api.post("/items", json=luggage()).status_code == 201
    assert len(sent) - sqlite <= 6 and sent.count("SELECT") == 1, sent


def test_a_read_takes_no_write_lock_and_a_write_does(app, api, warm):
    body = api.post("/items", json=luggage()).get_json()
    with round_trips(app) as read:
        assert api.get(f"/items/{body['id']}").status_code == 200
    with round_trips(app) as write:
        assert api.post(f"/items/{body['id']}/move", json={"location": "storeroom"}).status_code == 200
    if app.extensions["kiosk.engine"].dialect.name == "sqlite":
        assert read[0] == "BEGIN" and "BEGIN IMMEDIATE" not in read
        assert write[0] == "BEGIN IMMEDIATE"
    assert read[-1] in ("COMMIT", "ROLLBACK")


def test_answers_built_from_what_was_written_are_what_the_ledger_holds(api):
    """The deposit's item is made from the values it wrote, the release's from its UPDATE … RETURNING,
    the scan's from a read of some columns: each answer equals a later plain read of the row."""
    designated = {"name": "李娜", "phone": "13900001111"}
    body = api.post("/items", json=luggage(expected_pickup_at="2099-01-01T17:00:00+08:00", size="small",
                                           designated_collector=designated, declared=["fragile"],
                                           disclaimer_acknowledged=True, location_detail="shelf 3")).get_json()
    stored = api.get(f"/items/{body['id']}").get_json()
    assert body["item"] == stored
    assert stored["expected_pickup_at"].startswith("2099-01-01T09:00:00")   # kept as UTC, whatever was sent

    scanned = api.post("/scans", json={"code": body["stub_code"]}).get_json()   # staff: the whole item
    assert scanned["item"] == stored

    released = api.post(f"/items/{body['id']}/release",
                        json={"tag_code": body["tag_code"], "stub_code": body["stub_code"]}).get_json()
    assert released == api.get(f"/items/{body['id']}").get_json()
    assert released["release"]["collector"]["name"] == "张伟" and released["release"]["method"] == "stub"


def test_what_a_request_left_uncommitted_is_thrown_away_when_it_ends(app):
    from sqlalchemy import select

    from kiosk import accounts
    from kiosk.models import User
    from web import db

    with app.test_request_context("/"):
        session = db.session()
        accounts.add_user(session, "left-open", "staff")
        session.flush()
        assert session.in_transaction()
    with db.sessions(app)() as session:
        assert session.scalar(select(User).where(User.name == "left-open")) is None
    assert db.engine(app).pool.checkedout() == 0
