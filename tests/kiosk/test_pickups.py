"""Pending pickups and taking one in hand; the unit's known owners for the deposit form."""
import threading
from datetime import timedelta

import pytest

from kiosk import claims, ledger, owners, pickups, residents
from kiosk.db import session_factory, transaction
from kiosk.errors import Conflict
from kiosk.models import AuditEvent
from kiosk.values import Actor, Person, ResidentForm
from tests.conftest import AUDIT_KEY, POSTGRES_URL, luggage_form
from tests.kiosk.desk import NOW


def waiting(session, desk, users, *, unit="12-0301", at=NOW):
    result = ledger.deposit(session, desk, users["staff"], luggage_form(at - timedelta(minutes=5),
                                                                        owner=Person(unit, "张伟", "13812345678")),
                            now=at - timedelta(minutes=5))
    claims.scan(session, desk, users["kiosk"], result.claim_code, now=at)
    return result.item


def test_the_pending_list_is_oldest_first_with_who_fetches_each(session, desk, users):
    first = waiting(session, desk, users, at=NOW - timedelta(minutes=10))
    second = waiting(session, desk, users, unit="3-0101")
    held_only = ledger.deposit(session, desk, users["staff"], luggage_form(NOW), now=NOW).item
    listed = pickups.pending(session, NOW)
    assert [(p.item.id, p.in_hand_by) for p in listed] == [(first.id, None), (second.id, None)]
    pickups.take_in_hand(session, users["staff"], second.id, now=NOW)
    assert [(p.item.id, p.in_hand_by) for p in pickups.pending(session, NOW)] == [
        (first.id, None), (second.id, "staff-1")]
    # Older than the window: gone from the list.
    later = [(p.item.id, p.in_hand_by) for p in pickups.pending(session, NOW + pickups.WINDOW - timedelta(minutes=5))]
    assert later == [(second.id, "staff-1")]
    assert pickups.pending(session, NOW + pickups.WINDOW + timedelta(minutes=1)) == []
    assert held_only.id not in [p.item.id for p in listed]


def test_a_pickup_is_in_one_clerks_hands(session, desk, users):
    item = waiting(session, desk, users)
    first = pickups.take_in_hand(session, users["staff"], item.id, now=NOW)
    assert pickups.take_in_hand(session, users["staff"], item.id, now=NOW).seq == first.seq  # again: the same
    with pytest.raises(Conflict) as refused:
        pickups.take_in_hand(session, users["supervisor"], item.id, now=NOW)
    assert (refused.value.code, refused.value.params) == ("pickup_already_in_hand",
                                                          {"ticket_no": "A-0001", "by": "staff-1"})


def test_only_a_pickup_someone_waits_for_is_taken(session, desk, users):
    item = ledger.deposit(session, desk, users["staff"], luggage_form(NOW), now=NOW).item
    with pytest.raises(Conflict) as refused:
        pickups.take_in_hand(session, users["staff"], item.id, now=NOW)
    assert refused.value.code == "pickup_not_waiting"


@pytest.mark.skipif(POSTGRES_URL is None, reason="row locks between connections: PostgreSQL")
def test_two_clerks_taking_the_same_pickup_at_once_one_wins(engine, desk, users):
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    with transaction(sessions) as session:
        item_id = waiting(session, desk, users).id
    clerks = [Actor(name=f"clerk-{i}", role="staff", user_id=users["staff"].user_id) for i in range(6)]
    barrier = threading.Barrier(len(clerks))
    outcomes: list = [None] * len(clerks)

    def take(i):
        barrier.wait()
        try:
            with transaction(sessions) as session:
                pickups.take_in_hand(session, clerks[i], item_id, now=NOW)
            outcomes[i] = "took"
        except Conflict as error:
            outcomes[i] = error.code

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(clerks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["pickup_already_in_hand"] * (len(clerks) - 1) + ["took"]
    with sessions() as session:
        assert session.query(AuditEvent).filter_by(event="in_hand", item_id=item_id).count() == 1


def test_a_units_known_owners_come_from_the_register_and_earlier_deposits(session, desk, users):
    admin = users["admin"]
    residents.add(session, admin, ResidentForm("12-0301", "张伟", "13812345678"), now=NOW)
    moved = residents.add(session, admin, ResidentForm("12-0301", "李雷", "13500000000"), now=NOW)
    residents.move_out(session, admin, moved.id, now=NOW)
    for name, phone in (("王芳", "13900005678"), ("张伟", "138-1234-5678"), ("王芳", "13900005678")):
        ledger.deposit(session, desk, users["staff"], luggage_form(NOW, owner=Person("12-0301", name, phone)), now=NOW)
    found = owners.suggest(session, "12-0301")
    assert [(o.name, o.source) for o in found] == [("张伟", "register"), ("王芳", "deposit")]
    assert [o.name for o in owners.suggest(session, " 12-0301 ", "王")] == ["王芳"]
    assert owners.suggest(session, "12-03") == [] and owners.suggest(session, "") == []

    picked = found[1]
    assert owners.resolve(session, picked.ref, "12-0301", "王芳") == picked
    assert owners.resolve(session, picked.ref, "12-0301", "张伟") is None  # another name typed since
    assert owners.resolve(session, "r999", "12-0301", "张伟") is None
    assert owners.resolve(session, f"r{moved.id}", "12-0301", "李雷") is None  # moved out
    for junk in ("", "x1", "r", "r-1", "i" + "9" * 30):
        assert owners.resolve(session, junk, "12-0301", "王芳") is None
