"""The audit trail: keyed rows written without a lock, one sealer's chain, anchors outside the
database, and the attacks it must catch."""
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import DatabaseError

from kiosk import anchors, audit, claims, ledger
from kiosk.db import make_engine, migrate, session_factory
from kiosk.keys import derive_key
from kiosk.models import AuditEvent, AuditSeal
from kiosk.values import Actor, DepositForm, Person
from tests.conftest import AUDIT_KEY, POSTGRES_URL

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
CLERK = Actor(name="staff-1", role="staff", device="desk-1")


@pytest.fixture
def trail(engine, session, desk, users):
    """A committed day at the desk, sealed: three deposits, a scan and a release."""
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
    assert audit.seal(session, AUDIT_KEY) == 5
    session.commit()
    return engine


def verify(session, **kwargs):
    """The verdict, in a read that ends at once (on SQLite an open one holds the write lock)."""
    session.rollback()
    verdict = audit.verify(session, AUDIT_KEY, **{"now": NOW, **kwargs})
    session.rollback()
    return verdict


def tamper(engine, *statements: str) -> None:
    """What someone with superuser rights could do: get past the append-only triggers."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        else:
            for table in ("audit_events", "audit_seals"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_update")
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for statement in statements:
            connection.exec_driver_sql(statement)


def test_a_sealed_trail_verifies(trail, session):
    verdict = verify(session)
    assert verdict.ok and (verdict.rows, verdict.sealed, verdict.unsealed) == (5, 5, 0), verdict.problems
    assert audit.head(session) == (5, verdict.head_hash)


def test_rows_not_sealed_yet_are_counted_apart_and_still_checked(trail, session, users):
    audit.append(session, "move", users["staff"], item_id=1, now=NOW, details={"to": "storeroom"})
    session.commit()
    verdict = verify(session)
    assert verdict.ok and (verdict.rows, verdict.sealed, verdict.unsealed) == (6, 5, 1)
    tamper(trail, "UPDATE audit_events SET actor = 'nobody' WHERE seq = 6")
    assert "row 6 (not sealed yet) was altered after it was written" in verify(session).problems


def test_rows_left_unsealed_for_long_mean_no_sealer_runs(trail, session, users):
    audit.append(session, "move", users["staff"], item_id=1, now=NOW, details={})
    session.commit()
    verdict = verify(session, now=NOW + timedelta(hours=1))
    assert not verdict.ok and "is a sealer running" in verdict.problems[0]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET actor = 'nobody' WHERE seq = 2",
    "DELETE FROM audit_events WHERE seq = 2",
    "UPDATE audit_seals SET hash = 'x' WHERE position = 2",
    "DELETE FROM audit_seals WHERE position = 5",
])
def test_the_database_refuses_to_change_the_trail_or_its_seals(trail, statement):
    with pytest.raises(DatabaseError, match="append-only"):
        with trail.begin() as connection:
            connection.exec_driver_sql(statement)


def test_an_edited_row_is_detected(trail, session):
    tamper(trail, "UPDATE audit_events SET actor = 'nobody' WHERE seq = 2")
    verdict = verify(session)
    assert not verdict.ok and "row 2 was altered after it was written" in verdict.problems


def test_a_deleted_sealed_row_is_told_apart_from_a_rolled_back_one(trail, session, users):
    # A transaction that rolls back after taking a number leaves a gap no seal covers: fine.
    audit.append(session, "move", users["staff"], item_id=1, now=NOW, details={})
    session.rollback()
    audit.append(session, "move", users["staff"], item_id=1, now=NOW, details={})
    session.commit()
    audit.seal(session, AUDIT_KEY)
    session.commit()
    assert verify(session).ok
    # A sealed row that disappears leaves its seal behind.
    tamper(trail, "DELETE FROM audit_events WHERE seq = 3")
    assert "row 3 (seal 3) was deleted after it was sealed" in verify(session).problems


def test_a_row_that_commits_after_later_ones_is_sealed_when_it_arrives(session, users):
    """On PostgreSQL a transaction may take its number first and commit last."""
    def row(seq):
        digest = audit.row_hash(AUDIT_KEY, NOW, "move", None, "staff-1", "staff", None, "{}")
        session.execute(insert(AuditEvent).values(seq=seq, at=NOW, event="move", item_id=None, actor="staff-1",
                                                  actor_role="staff", device=None, details="{}", hash=digest))
        session.commit()

    state = audit.SealState()
    row(1), row(3)
    assert audit.seal(session, AUDIT_KEY, state) == 2 and set(state.waiting) == {2}
    session.commit()
    row(2)
    assert audit.seal(session, AUDIT_KEY, state) == 1 and state.waiting == {}
    session.commit()
    positions = session.execute(select(AuditSeal.position, AuditSeal.event_seq).order_by(AuditSeal.position)).all()
    assert [tuple(p) for p in positions] == [(1, 1), (2, 3), (3, 2)]
    assert verify(session).ok


@pytest.mark.skipif(not POSTGRES_URL, reason="two open write transactions at once need PostgreSQL")
def test_a_real_late_commit_on_postgres_is_sealed_in_turn(sessions, session, users):
    with sessions() as slow, sessions() as fast:
        slow_seq = audit.append(slow, "move", users["staff"], details={"who": "slow"}).seq
        fast_seq = audit.append(fast, "move", users["staff"], details={"who": "fast"}).seq
        fast.commit()
        state = audit.SealState()
        assert audit.seal(session, AUDIT_KEY, state) == 1 and slow_seq in state.waiting
        session.commit()
        slow.commit()
    assert audit.seal(session, AUDIT_KEY, state) == 1
    session.commit()
    assert [s.event_seq for s in session.scalars(select(AuditSeal).order_by(AuditSeal.position))] == [
        fast_seq, slow_seq]
    assert verify(session).ok


# --- the attacks of issue 8, each caught ------------------------------------------------------

def _anchor(session, tmp_path, reason="handover"):
    taken = anchors.anchor(session, AUDIT_KEY, tmp_path / "audit-anchors.log", reason, now=NOW)
    session.rollback()
    return taken


def test_attack_truncate_the_trail_while_items_are_held(trail, session, tmp_path):
    _anchor(session, tmp_path)
    tamper(trail, "DELETE FROM audit_seals", "DELETE FROM audit_events")
    verdict = verify(session, anchors=anchors.read(tmp_path / "audit-anchors.log", AUDIT_KEY))
    assert not verdict.ok and verdict.rows == 0
    assert "3 items have no deposit in the trail: rows were removed" in verdict.problems
    assert any("records seal 5 but the chain ends at seal 0" in p for p in verdict.problems)


def _recompute(engine, key: bytes | None, seq: int, actor: str) -> None:
    """Rewrite row ``seq`` and every seal from it on, as someone would who lacks the real key."""
    with engine.connect() as connection:
        rows = connection.execute(select(AuditEvent).order_by(AuditEvent.seq)).all()
        seals = connection.execute(select(AuditSeal).order_by(AuditSeal.position)).all()
    statements, prev = [], audit.GENESIS
    for row, seal in zip(rows, seals):
        digest = row.hash
        if row.seq == seq:
            body = audit.canonical({"at": row.at.isoformat(timespec="microseconds"), "event": row.event,
                                    "item_id": row.item_id, "actor": actor, "actor_role": row.actor_role,
                                    "device": row.device, "details": row.details})
            digest = (audit.row_hash(key, row.at, row.event, row.item_id, actor, row.actor_role, row.device,
                                     row.details) if key else hashlib.sha256(body.encode()).hexdigest())
            statements.append(f"UPDATE audit_events SET actor = '{actor}', hash = '{digest}' WHERE seq = {seq}")
        link = (audit.seal_hash(key, prev, seal.position, row.seq, digest) if key
                else hashlib.sha256(f"{prev}\n{seal.position}\n{row.seq}\n{digest}".encode()).hexdigest())
        if row.seq >= seq:
            statements.append(f"UPDATE audit_seals SET hash = '{link}' WHERE position = {seal.position}")
        prev = link
    tamper(engine, *statements)


@pytest.mark.parametrize("key", [None, derive_key("a guessed secret", "audit chain")], ids=["sha256", "wrong-key"])
def test_attack_edit_a_row_and_recompute_the_chain_without_the_key(trail, session, key):
    _recompute(trail, key, 2, "nobody")
    verdict = verify(session)
    assert not verdict.ok
    assert "row 2 was altered after it was written" in verdict.problems
    assert "seal 2 (row 2) does not match: the chain was rewritten" in verdict.problems


def test_a_rewrite_with_the_key_itself_is_caught_by_an_earlier_anchor(trail, session, tmp_path):
    # With the real key a rewrite passes the chain, which is why the key is never in the
    # database; the anchor taken before still tells.
    _anchor(session, tmp_path)
    _recompute(trail, AUDIT_KEY, 2, "nobody")
    assert verify(session).ok
    verdict = verify(session, anchors=anchors.read(tmp_path / "audit-anchors.log", AUDIT_KEY))
    assert [p[:35] for p in verdict.problems] == ["seal 5 differs from the anchor of 2"]


def test_attack_cut_the_tail(trail, session, tmp_path):
    _anchor(session, tmp_path)
    tamper(trail, "DELETE FROM audit_seals WHERE position >= 4", "DELETE FROM audit_events WHERE seq >= 4")
    alone = verify(session)
    assert alone.ok, "without an anchor a cut tail of scans and releases looks like a shorter day"
    verdict = verify(session, anchors=anchors.read(tmp_path / "audit-anchors.log", AUDIT_KEY))
    assert not verdict.ok
    assert any("records seal 5 but the chain ends at seal 3: rows were removed" in p for p in verdict.problems)


def test_attack_move_the_head_back_and_carry_on(trail, session, users, tmp_path):
    _anchor(session, tmp_path)
    tamper(trail, "DELETE FROM audit_seals WHERE position >= 4", "DELETE FROM audit_events WHERE seq >= 4")
    for _ in range(3):
        audit.append(session, "move", users["staff"], item_id=1, now=NOW, details={"to": "storeroom"})
    session.commit()
    audit.seal(session, AUDIT_KEY)
    session.commit()
    verdict = verify(session, anchors=anchors.read(tmp_path / "audit-anchors.log", AUDIT_KEY))
    assert not verdict.ok
    assert any(p.startswith("seal 5 differs from the anchor") for p in verdict.problems), verdict.problems


def test_anchor_lines_cannot_be_forged_or_edited_without_the_key(trail, session, tmp_path):
    path = tmp_path / "audit-anchors.log"
    taken = _anchor(session, tmp_path)
    assert taken.position == 5 and len(taken.short) == 18
    text = path.read_text()
    path.write_text(text + text.replace('"position":5', '"position":3'))
    found = anchors.read(path, AUDIT_KEY)
    assert [a.authentic for a in found] == [True, False]
    assert "anchor line 2 was not written with this site's key" in verify(session, anchors=found).problems
    assert verify(session, anchors=found[:1]).ok


def test_rows_from_before_the_keyed_chain_keep_their_link_and_get_sealed(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    migrate(engine, "0002")
    prev = audit.GENESIS
    with engine.begin() as connection:
        for seq in (1, 2):
            digest = audit.legacy_hash(prev, seq, NOW, "move", None, "lin", "staff", None, "{}")
            connection.exec_driver_sql(
                "INSERT INTO audit_events (seq, at, event, item_id, actor, actor_role, device, details, prev_hash, "
                f"hash) VALUES ({seq}, '2026-11-22 10:00:00.000000', 'move', NULL, 'lin', 'staff', NULL, '{{}}', "
                f"'{prev}', '{digest}')")
            prev = digest
        connection.exec_driver_sql(f"UPDATE audit_head SET seq = 2, hash = '{prev}'")
    migrate(engine)
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        audit.append(session, "move", CLERK, now=NOW)
        session.commit()
        assert audit.seal(session, AUDIT_KEY) == 3
        session.commit()
        assert verify(session).ok
        tamper(engine, "UPDATE audit_events SET actor = 'x' WHERE seq = 1")
        assert "row 1 was altered after it was written" in verify(session).problems
    engine.dispose()


def test_a_session_without_the_key_cannot_write_the_trail(engine):
    with session_factory(engine)() as session, pytest.raises(audit.AuditKeyMissing):
        audit.append(session, "move", CLERK)
