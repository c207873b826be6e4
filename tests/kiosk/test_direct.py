"""kiosk.direct: the hot path's statements sent to the driver itself read and write what
SQLAlchemy would, fail as SQLAlchemy would, and are seen by the engine's statement hooks."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError

from kiosk import ledger
from kiosk.direct import Direct
from kiosk.models import Item, PrintJob
from tests.conftest import luggage_form

NOW = datetime(2026, 11, 22, 10, 30, 15, 123456, tzinfo=UTC)
ITEM = Direct(select(*Item.__table__.c).where(Item.__table__.c.id == bindparam("item_id")))
JOB = Direct(insert(PrintJob.__table__).returning(PrintJob.__table__.c.id))


@pytest.fixture
def item_id(session, desk, users) -> int:
    deposit = ledger.deposit(session, desk, users["staff"], luggage_form(NOW, urgent=True, description="红色 箱子"),
                             now=NOW)
    session.commit()
    return deposit.item.id


def test_a_row_read_directly_equals_the_orm_s(session, item_id):
    row = ITEM.one(session, {"item_id": item_id})
    session.expunge_all()
    orm = session.get(Item, item_id)
    assert row == {column.key: getattr(orm, column.key) for column in Item.__table__.c}
    # Times come back aware and in UTC on SQLite too, flags as booleans, text as it was written.
    assert row["deposited_at"] == NOW and row["deposited_at"].tzinfo is not None
    assert row["expected_pickup_at"] == NOW + timedelta(hours=5)
    assert row["urgent"] is True and row["description"] == "红色 箱子"
    assert ITEM.first(session, {"item_id": item_id + 1000}) is None
    with pytest.raises(LookupError):
        ITEM.one(session, {"item_id": item_id + 1000})


def test_a_row_written_directly_reads_back_through_the_orm(session, item_id):
    later = NOW + timedelta(minutes=3)
    written = JOB.one(session, {"item_id": item_id, "printer": "desk", "printer_url": "preview://x", "reprint": False,
                                "status": "queued", "attempts": 0, "next_attempt_at": later, "requested_by": "lin",
                                "created_at": later})
    session.commit()
    stored = session.get(PrintJob, written["id"])
    assert (stored.item_id, stored.printer, stored.reprint, stored.next_attempt_at) == (item_id, "desk", False, later)


def test_a_driver_error_is_sqlalchemy_s_and_the_session_goes_on(session, item_id):
    values = {"item_id": item_id + 1000, "printer": "desk", "printer_url": "preview://x", "reprint": False,
              "status": "queued", "attempts": 0, "next_attempt_at": NOW, "requested_by": "lin", "created_at": NOW}
    with pytest.raises(IntegrityError):   # no such item: the foreign key refuses it
        JOB.one(session, values)
    session.rollback()
    assert JOB.one(session, {**values, "item_id": item_id})["id"] > 0
    session.commit()


def test_the_engine_s_statement_hooks_see_each_statement(engine, session, item_id):
    seen = []

    def hook(_connection, _cursor, statement, parameters, _context, _many):
        seen.append((statement.split(None, 1)[0].upper(), parameters))

    event.listen(engine, "before_cursor_execute", hook)
    try:
        ITEM.one(session, {"item_id": item_id})
    finally:
        event.remove(engine, "before_cursor_execute", hook)
    session.rollback()
    # (SQLite's BEGIN is a statement kiosk.db sends through SQLAlchemy when the transaction begins.)
    assert [verb for verb, _ in seen if verb != "BEGIN"] == ["SELECT"]
    parameters = seen[-1][1]
    assert item_id in (parameters.values() if isinstance(parameters, dict) else parameters)


def test_an_adopted_row_is_the_session_s_own_object(session, item_id):
    """kiosk.db.adopt: a row read with Core becomes a persistent object of the session, as if the
    ORM had loaded it. A partly read row reads the rest on first use; a change is flushed as an
    UPDATE of that row; the session finds it by id; a later row of it updates the same object."""
    from sqlalchemy import inspect

    from kiosk.db import adopt

    session.expunge_all()
    row = ITEM.one(session, {"item_id": item_id})
    partial = adopt(session, Item, {name: row[name] for name in ("id", "ticket_no", "status")}, whole=False)
    state = inspect(partial)
    assert state.persistent and state.session is session and session.get(Item, item_id) is partial
    assert not session.dirty and not session.new
    statements = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert partial.description == "红色 箱子" and partial.deposited_at == NOW   # read now, once
    assert partial.urgent is True and len(statements) == 1
    partial.location = "storeroom-b"
    session.commit()
    session.expunge_all()
    assert session.get(Item, item_id).location == "storeroom-b"

    session.expunge_all()
    whole = adopt(session, Item, ITEM.one(session, {"item_id": item_id}))
    statements.clear()
    assert whole.description == "红色 箱子" and statements == []   # a whole row reads nothing more
    again = adopt(session, Item, {**ITEM.one(session, {"item_id": item_id}), "status": "released"})
    assert again is whole and whole.status == "released" and not session.dirty
    session.rollback()
