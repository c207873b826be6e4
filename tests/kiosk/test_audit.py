from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DatabaseError

from kiosk import audit, claims, ledger
from kiosk.values import DepositForm, Person

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


@pytest.fixture
def trail(engine, session, desk, users):
    """A committed day at the desk: three deposits, a scan and a release."""
    deposits = [
        ledger.deposit(session, desk, users["staff"], DepositForm(
            kind="luggage", owner=Person("1-0101", "王芳", "13900000000"),
            expected_pickup_at=NOW + timedelta(hours=3)), now=NOW)
        for _ in range(3)
    ]
    claims.scan(session, desk, users["kiosk"], deposits[0].claim_code, now=NOW)
    ledger.release(session, desk, users["staff"], deposits[0].item.id, tag_code=deposits[0].tag_code,
                   stub_code=deposits[0].claim_code, now=NOW)
    session.commit()
    return engine


def tamper(engine, statement: str) -> None:
    """What someone with database rights could do: get past the append-only triggers."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        connection.exec_driver_sql(statement)


def test_intact_trail_verifies(trail, session):
    verdict = audit.verify(session)
    assert verdict.ok and verdict.rows == 5 and verdict.problems == ()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'nobody' WHERE seq = 2",
    "DELETE FROM audit_events WHERE seq = 2",
    "UPDATE audit_events SET details = replace(details, 'A-0001', 'A-0009') WHERE seq = 1",
])
def test_the_database_refuses_to_change_the_trail(trail, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with trail.begin() as connection:
            connection.exec_driver_sql(statement)


def test_an_edited_row_is_detected(trail, session):
    tamper(trail, "UPDATE audit_events SET actor = 'nobody' WHERE seq = 2")
    verdict = audit.verify(session)
    assert not verdict.ok
    assert "row 2 was altered after it was written" in verdict.problems


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(trail, session):
    row = session.get(audit.AuditEvent, 2)
    forged = audit._row_hash(row.prev_hash, 2, row.at, row.event, row.item_id, "nobody", row.actor_role,
                             row.device, row.details)
    session.rollback()
    tamper(trail, f"UPDATE audit_events SET actor = 'nobody', hash = '{forged}' WHERE seq = 2")
    verdict = audit.verify(session)
    assert "row 3 does not link to the row before it" in verdict.problems


def test_a_deleted_row_is_detected(trail, session):
    tamper(trail, "DELETE FROM audit_events WHERE seq = 3")
    verdict = audit.verify(session)
    assert not verdict.ok and "rows 3..3 are missing" in verdict.problems


def test_rows_cut_from_the_end_are_detected(trail, session):
    tamper(trail, "DELETE FROM audit_events WHERE seq >= 4")
    verdict = audit.verify(session)
    assert not verdict.ok and any("rows were removed" in p for p in verdict.problems)
