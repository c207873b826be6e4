from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from kiosk import audit, claims, codes, ledger
from kiosk.db import unit_of_work
from kiosk.errors import (
    AcknowledgementRequired, AlreadyReleased, DepositRefused, IdentityRequired, InvalidInput, MalformedCode,
    StubMismatch, StubRequired, StubRevoked, TagMismatch, UnknownCode,
)
from kiosk.models import Alert, AuditEvent, Item
from kiosk.values import Collector, DepositForm, Desk, Person
from tests.conftest import luggage_form, sealed_verdict

NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)


def form(**overrides) -> DepositForm:
    return luggage_form(NOW, **overrides)


def events(session, item_id=None) -> list[str]:
    query = select(AuditEvent.event).order_by(AuditEvent.seq)
    if item_id is not None:
        query = query.where(AuditEvent.item_id == item_id)
    return list(session.scalars(query))


def test_deposit_registers_numbers_and_codes_the_item(session, desk, users):
    first = ledger.deposit(session, desk, users["staff"], form(), now=NOW)
    second = ledger.deposit(session, desk, users["staff"], form(kind="key", expected_pickup_at=None), now=NOW)
    assert (first.item.ticket_no, second.item.ticket_no) == ("A-0001", "A-0002")
    assert first.item.status == "held" and first.item.staff_name == "staff-1"
    assert first.tag_code != first.claim_code
    assert codes.parse(first.tag_code).role == "T" and codes.parse(first.claim_code).role == "S"
    assert first.claim_role == "stub"
    assert events(session, first.item.id) == ["deposit"]


def test_parcels_and_mail_get_a_pickup_code_instead_of_a_stub(session, desk, users):
    parcel = ledger.deposit(session, desk, users["staff"], form(kind="parcel", expected_pickup_at=None,
                                                                 carrier="EMS", urgent=True), now=NOW)
    assert parcel.claim_role == "pickup" and codes.parse(parcel.claim_code).role == "P"
    assert parcel.item.location == "mail_shelf"


def test_long_stays_are_suggested_to_the_storeroom(session, desk, users):
    result = ledger.deposit(session, desk, users["staff"], form(expected_pickup_at=NOW + timedelta(days=2)), now=NOW)
    assert result.item.suggested_location == "storeroom" == result.item.location
    kept = ledger.deposit(session, desk, users["staff"],
                          form(expected_pickup_at=NOW + timedelta(days=2), location="management_office"), now=NOW)
    assert (kept.item.location, kept.item.suggested_location) == ("management_office", "storeroom")


def test_refusal_is_recorded_and_nothing_is_registered(session, desk, users):
    with pytest.raises(DepositRefused) as error, unit_of_work(session):
        ledger.deposit(session, desk, users["staff"], form(declared=("cash",)), now=NOW)
    assert error.value.code == "refused_valuables" and error.value.params["declared"] == "cash"
    assert session.scalar(select(func.count()).select_from(Item)) == 0
    assert events(session) == ["refusal"]


def test_perishables_need_the_customer_told(session, desk, users):
    with pytest.raises(AcknowledgementRequired):
        ledger.deposit(session, desk, users["staff"], form(declared=("food",)), now=NOW)
    result = ledger.deposit(session, desk, users["staff"], form(declared=("food",), disclaimer_acknowledged=True),
                            now=NOW)
    assert result.item.disclaimer_acknowledged and result.item.declared == "food"


@pytest.fixture
def held(session, desk, users):
    result = ledger.deposit(session, desk, users["staff"], form(), now=NOW)
    session.commit()
    return result


def test_release_needs_both_halves_of_the_same_item(session, desk, users, held):
    with unit_of_work(session):
        other = ledger.deposit(session, desk, users["staff"], form(), now=NOW)
    with pytest.raises(TagMismatch) as error, unit_of_work(session):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=other.tag_code, stub_code=held.claim_code)
    assert error.value.record is not None
    with pytest.raises(StubMismatch), unit_of_work(session):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=other.claim_code)
    with pytest.raises(TagMismatch), unit_of_work(session):
        # the stub offered as the tag: the two halves are not interchangeable
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.claim_code, stub_code=held.claim_code)
    with pytest.raises(StubRequired):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code)
    item = ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code,
                          stub_code=held.claim_code, now=NOW + timedelta(hours=1))
    assert item.status == "released" and item.release_method == "stub"
    assert item.collector_name == "张伟" and item.collector_id_last4 is None
    assert events(session, held.item.id) == ["deposit", "release_refused", "release_refused", "release_refused",
                                             "release"]


def test_forged_tag_is_refused(session, desk, users, held):
    forged = held.tag_code[:-1] + ("0" if held.tag_code[-1] != "0" else "1")
    with pytest.raises(TagMismatch) as error, unit_of_work(session):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=forged, stub_code=held.claim_code)
    assert error.value.record.details["forged"] is True
    assert events(session, held.item.id) == ["deposit", "release_refused"]
    with pytest.raises(MalformedCode):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code="<script>", stub_code=held.claim_code)


def test_release_happens_once(session, desk, users, held):
    with unit_of_work(session):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code)
    with pytest.raises(AlreadyReleased) as error, unit_of_work(session):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code)
    assert error.value.status == 409
    assert events(session, held.item.id) == ["deposit", "release", "release_refused"]


def test_another_collector_leaves_name_id_type_and_last_four_only(session, desk, users, held):
    with pytest.raises(InvalidInput):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code,
                       collector=Collector(name="李明", id_type="resident_id", id_last4="110101199003071234"))
    item = ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code,
                          stub_code=held.claim_code,
                          collector=Collector(name="李明", id_type="resident_id", id_last4="071x"))
    assert (item.collector_name, item.collector_id_type, item.collector_id_last4) == ("李明", "resident_id", "071X")


def test_scan_says_what_a_code_is_and_records_it(session, desk, users, held):
    stub = claims.scan(session, desk, users["kiosk"], held.claim_code, now=NOW)
    assert (stub.role, stub.next, stub.item.id) == ("stub", claims.NEXT_PRESENT_AT_DESK, held.item.id)
    tag = claims.scan(session, desk, users["staff"], held.tag_code, now=NOW)
    assert (tag.role, tag.next) == ("tag", claims.NEXT_SCAN_CLAIM)
    scans = session.scalars(select(AuditEvent).where(AuditEvent.event == "scan")).all()
    assert [(s.actor, s.device) for s in scans] == [("kiosk:lobby-1", "lobby-1"), ("staff-1", "desk-1")]


@pytest.mark.parametrize("text, error", [
    ("x" * 300, MalformedCode), ("hello", MalformedCode), ("K1S-1-0-" + "0" * 20, UnknownCode),
])
def test_unknown_and_forged_scans_are_counted(session, desk, users, text, error):
    with pytest.raises(error), unit_of_work(session):
        claims.scan(session, desk, users["kiosk"], text, now=NOW)
    row = session.scalars(select(AuditEvent).where(AuditEvent.event == "scan")).one()
    assert row.item_id is None and text not in row.details


def test_lost_stub_revokes_it_and_a_scan_of_it_raises_a_quiet_alert(session, desk, users, held):
    with unit_of_work(session):
        report = claims.report_lost_stub(session, desk, users["staff"], held.item.id, unit="12-0301", name="张伟",
                                         now=NOW)
    assert report.item.claim_state == "lost" and report.new_claim_code is None
    with unit_of_work(session):
        outcome = claims.scan(session, desk, users["kiosk"], held.claim_code, now=NOW)
    assert outcome.next == claims.NEXT_WAIT_FOR_STAFF
    alert = session.scalars(select(Alert)).one()
    assert (alert.kind, alert.item_id, alert.device) == ("revoked_stub_presented", held.item.id, "lobby-1")
    with pytest.raises(StubRevoked) as error, unit_of_work(session):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code)
    assert error.value.status == 403
    alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [a.kind for a in alerts] == ["revoked_stub_presented", "revoked_stub_presented"]
    assert error.value.params["alert_id"] == alerts[-1].id
    assert events(session, held.item.id)[-2:] == ["alert", "release_refused"]


def test_lost_stub_then_release_by_identity(session, desk, users, held):
    claims.report_lost_stub(session, desk, users["staff"], held.item.id, unit="12-0301", name="张伟")
    with pytest.raises(IdentityRequired):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code)
    item = ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code,
                          collector=Collector(name="张伟", id_type="resident_id", id_last4="1234"))
    assert item.status == "released" and item.release_method == "identity"


def test_reissued_stub_works_and_the_old_one_does_not(session, desk, users, held):
    report = claims.report_lost_stub(session, desk, users["staff"], held.item.id, unit="12-0301", name="张伟",
                                     reissue=True)
    assert report.new_claim_code and report.new_claim_code != held.claim_code
    assert report.item.claim_state == "active"
    with pytest.raises(StubRevoked):
        ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code)
    item = ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code,
                          stub_code=report.new_claim_code)
    assert item.status == "released"
    assert "reissue" in events(session, held.item.id)


def test_lost_report_must_come_from_the_owner(session, desk, users, held):
    with pytest.raises(InvalidInput) as error:
        claims.report_lost_stub(session, desk, users["staff"], held.item.id, unit="9-9999", name="张伟")
    assert error.value.code == "owner_mismatch"


def test_stub_lost_after_someone_collected_alerts_security(session, desk, users, held):
    ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code)
    report = claims.report_lost_stub(session, desk, users["staff"], held.item.id, unit="12-0301", name="张伟")
    assert report.alert is not None and report.alert.kind == "lost_stub_after_release"


def test_move_is_recorded(session, desk, users, held):
    item = ledger.move(session, users["staff"], held.item.id, "storeroom", "shelf B3")
    assert (item.location, item.location_detail) == ("storeroom", "shelf B3")
    assert events(session, held.item.id)[-1] == "move"


def test_held_list_is_keyset_paginated_newest_first(session, desk, users):
    ids = [ledger.deposit(session, desk, users["staff"], form(), now=NOW).item.id for _ in range(5)]
    page, cursor = ledger.list_items(session, limit=2)
    assert [i.id for i in page] == ids[:-3:-1] and cursor == ids[3]
    page, cursor = ledger.list_items(session, limit=2, before_id=cursor)
    assert [i.id for i in page] == [ids[2], ids[1]]
    page, cursor = ledger.list_items(session, limit=2, before_id=cursor)
    assert [i.id for i in page] == [ids[0]] and cursor is None


def test_audit_chain_verifies_after_a_day_at_the_desk(session, desk, users, held):
    claims.scan(session, desk, users["kiosk"], held.claim_code)
    ledger.release(session, desk, users["staff"], held.item.id, tag_code=held.tag_code, stub_code=held.claim_code)
    session.commit()
    verdict = sealed_verdict(session)
    assert verdict.ok and verdict.rows == verdict.sealed == 3


def test_a_new_sites_first_deposits_at_once_get_distinct_numbers(sessions, users):
    """PostgreSQL makes a site's ticket sequence at its first deposit (migration 0010): deposits
    racing to be that first one wait for the one that makes it and number after it."""
    import threading

    from tests.conftest import POSTGRES_URL

    if not POSTGRES_URL:
        pytest.skip("the ticket sequences are PostgreSQL's; SQLite numbers under its one write lock")
    site = Desk(site="Z9", code_key=b"k" * 32)
    with sessions() as session:
        session.execute(text('DROP SEQUENCE IF EXISTS "ticket_no_Z9"'))
        session.commit()
    barrier, numbers, errors = threading.Barrier(6), [], []

    def deposit():
        try:
            with sessions() as session, unit_of_work(session):
                barrier.wait()
                now = datetime.now(UTC)
                numbers.append(ledger.deposit(session, site, users["staff"], luggage_form(now), now=now).item.ticket_no)
        except Exception as error:   # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=deposit) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert errors == [] and sorted(numbers) == [f"Z9-000{n}" for n in range(1, 7)]
