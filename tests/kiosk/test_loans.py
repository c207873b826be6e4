"""Keys: deposit with consent, lend for the day, return; alerts; the audited phone reveal."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk import ledger, loans
from kiosk.db import session_factory, unit_of_work
from kiosk.errors import (
    ConsentRequired, Conflict, Forbidden, InvalidInput, LoanOvernight, LoanTooLong, NotHeld,
)
from kiosk.models import Alert, AuditEvent, Item, KeyLoan
from kiosk.values import Borrower, Consent, DepositForm, KeyDeposit, LoanForm, Person
from tests.conftest import AUDIT_KEY, POSTGRES_URL, sealed_verdict

# 10:00 in Shanghai (UTC+8), the desk's time zone.
NOW = datetime(2026, 11, 22, 2, tzinfo=UTC)
OWNER = Person("5-2201", "陈静", "13611112222")
SIGNED = Consent(given_by="陈静", channel="signature")
PLUMBER = Borrower(name="王师傅", phone="13900001111", company="安居维修")


def local(hour: int, minute: int = 0, day: int = 22) -> datetime:
    """A Shanghai wall-clock time on 2026-11-<day>, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def key(session, desk, users, *, handed_over=False, **changes):
    form = KeyDeposit(owner=OWNER, consent=SIGNED, handed_over=handed_over, description="单元门钥匙 2 把",
                      collector_name="陈刚", cabinet_slot="hook 12", **changes)
    result = loans.deposit_key(session, desk, users["staff"], form, now=local(9))
    session.commit()
    return result


def loan(**changes) -> LoanForm:
    values = dict(borrower=PLUMBER, purpose="厨房漏水维修 kitchen leak", due_back_at=local(16))
    values.update(changes)
    return LoanForm(**values)


def events(session, item_id) -> list[str]:
    return list(session.scalars(select(AuditEvent.event).where(AuditEvent.item_id == item_id)
                                .order_by(AuditEvent.seq)))


def test_a_key_deposit_records_the_owners_signature_and_goes_to_the_cabinet(session, desk, users):
    result = key(session, desk, users)
    item = result.item
    assert (item.kind, item.location, item.location_detail) == ("key", "key_cabinet", "hook 12")
    assert (item.consent_by, item.consent_channel, item.key_handed_over) == ("陈静", "signature", False)
    assert item.designated_name == "陈刚" and result.claim_role == "stub"
    deposit = session.scalars(select(AuditEvent).where(AuditEvent.event == "deposit")).one()
    assert '"consent":{"by":"陈静","channel":"signature"}' in deposit.details


def test_no_key_is_taken_without_consent_or_kept_outside_the_cabinet(session, desk, users):
    with pytest.raises(ConsentRequired) as error:
        loans.deposit_key(session, desk, users["staff"], KeyDeposit(owner=OWNER, consent=None, handed_over=True))
    assert (error.value.code, error.value.status) == ("owner_consent_required", 422)
    with pytest.raises(InvalidInput) as error:
        loans.deposit_key(session, desk, users["staff"], KeyDeposit(
            owner=OWNER, consent=Consent(given_by="陈静", channel="nod"), handed_over=True))
    assert error.value.code == "invalid_consent_channel"
    item = key(session, desk, users).item
    with pytest.raises(InvalidInput) as error:
        ledger.move(session, users["staff"], item.id, "front_desk")
    assert error.value.code == "key_outside_cabinet"


def test_lending_and_returning_a_key(session, desk, users):
    item = key(session, desk, users).item
    with unit_of_work(session):
        lent = loans.lend(session, desk, users["staff"], item.id, loan(), now=local(10))
    assert (lent.state, lent.borrower_company, lent.lent_by_name) == ("out", "安居维修", "staff-1")
    assert session.get(Item, item.id).status == "lent"
    assert [l.id for l in loans.list_loans(session, state="out", now=local(11))] == [lent.id]
    assert loans.list_loans(session, state="overdue", now=local(11)) == []

    with pytest.raises(Conflict) as error:
        loans.lend(session, desk, users["staff"], item.id, loan(), now=local(11))
    assert error.value.code == "key_already_lent"
    with pytest.raises(NotHeld):
        ledger.release(session, desk, users["staff"], item.id, tag_code=ledger.tag_code(desk, item),
                       stub_code=ledger.claim_code(desk, item))
    session.rollback()

    with unit_of_work(session):
        back = loans.return_key(session, users["staff"], lent.id, now=local(15, 30))
    assert (back.state, back.returned_by_name) == ("returned", "staff-1")
    assert session.get(Item, item.id).status == "held"
    with pytest.raises(Conflict) as error:
        loans.return_key(session, users["staff"], lent.id, now=local(15, 31))
    assert error.value.code == "loan_already_returned"
    assert events(session, item.id) == ["deposit", "lend", "key_return"]


def test_the_borrowers_phone_is_shown_masked_and_revealed_with_a_trace(session, desk, users):
    item = key(session, desk, users).item
    lent = loans.lend(session, desk, users["staff"], item.id, loan(), now=local(10))
    lend_event = session.scalars(select(AuditEvent).where(AuditEvent.event == "lend")).one()
    assert "139****1111" in lend_event.details and "13900001111" not in lend_event.details
    phone = loans.reveal_borrower_phone(session, users["staff"], lent.id, reason="key late", now=local(17))
    assert phone == "13900001111"
    reveal = session.scalars(select(AuditEvent).where(AuditEvent.event == "reveal")).one()
    assert (reveal.actor, reveal.item_id) == ("staff-1", item.id)
    assert '"field":"borrower.phone"' in reveal.details and "13900001111" not in reveal.details


def test_borrower_purpose_and_due_time_are_required(session, desk, users):
    item = key(session, desk, users).item
    cases = [
        (loan(borrower=Borrower(name="", phone="13900001111")), "missing_field", "borrower.name"),
        (loan(borrower=Borrower(name="王师傅", phone="call me")), "invalid_phone", "borrower.phone"),
        (loan(purpose=" "), "missing_field", "purpose"),
        (loan(due_back_at=local(9)), "time_in_past", "due_back_at"),
        (loan(due_back_at=datetime(2026, 11, 22, 16)), "invalid_time", "due_back_at"),
    ]
    for form, code, field in cases:
        with pytest.raises(InvalidInput) as error:
            loans.lend(session, desk, users["staff"], item.id, form, now=local(10))
        assert (error.value.code, error.value.field) == (code, field)
    luggage = ledger.deposit(session, desk, users["staff"], DepositForm(
        kind="luggage", owner=OWNER, expected_pickup_at=local(20)), now=local(9)).item
    with pytest.raises(InvalidInput) as error:
        loans.lend(session, desk, users["staff"], luggage.id, loan(), now=local(10))
    assert error.value.code == "not_a_key"


def test_an_owners_spare_key_is_lent_only_with_the_owners_consent(session, desk, users):
    item = key(session, desk, users, handed_over=True).item
    with pytest.raises(ConsentRequired) as error:
        loans.lend(session, desk, users["staff"], item.id, loan(), now=local(10))
    assert error.value.field == "owner_consent"
    lent = loans.lend(session, desk, users["staff"], item.id,
                      loan(owner_consent=Consent(given_by="陈静", channel="phone")), now=local(10))
    assert (lent.consent_by, lent.consent_channel) == ("陈静", "phone")


@pytest.mark.parametrize("lent_at, due, error, params", [
    # 08:00 -> 21:00 the same day: 13 hours.
    (local(8), local(21), LoanTooLong, {"hours": 13.0, "limit": 12}),
    # 20:00 -> 07:00 next morning: only 11 hours, but overnight.
    (local(20), local(7, day=23), LoanOvernight, {}),
])
def test_long_and_overnight_loans_are_refused_with_a_trace(session, desk, users, lent_at, due, error, params):
    item = key(session, desk, users).item
    with pytest.raises(error) as raised, unit_of_work(session):
        loans.lend(session, desk, users["staff"], item.id, loan(due_back_at=due), now=lent_at)
    assert raised.value.status == 422
    assert params.items() <= raised.value.params.items()
    assert session.scalars(select(KeyLoan)).all() == [] and session.get(Item, item.id).status == "held"
    refused = session.scalars(select(AuditEvent).where(AuditEvent.event == "lend_refused")).one()
    assert f'"refused":"{raised.value.code}"' in refused.details


def test_the_same_day_is_the_desks_day_not_utcs(session, desk, users):
    item = key(session, desk, users).item
    # 00:30 -> 09:00 Shanghai on the 23rd: UTC calls these the 22nd and the 23rd.
    lent = loans.lend(session, desk, users["staff"], item.id, loan(due_back_at=local(9, day=23)),
                      now=local(0, 30, day=23))
    assert lent.approved_rules is None
    loans.return_key(session, users["staff"], lent.id, now=local(8, day=23))
    # 21:00 -> 00:30 Shanghai: one UTC date, two desk days.
    with pytest.raises(LoanOvernight):
        loans.lend(session, desk, users["staff"], item.id, loan(due_back_at=local(0, 30, day=24)),
                   now=local(21, day=23))


def test_a_supervisor_may_approve_what_the_rules_refuse_and_is_recorded(session, desk, users):
    item = key(session, desk, users).item
    long_night = loan(due_back_at=local(9, day=23), approval_reason="burst pipe, flat empty")
    with pytest.raises(Forbidden) as error:
        loans.lend(session, desk, users["staff"], item.id, long_night, approver=users["staff"], now=local(8))
    assert error.value.code == "approval_not_allowed"
    lent = loans.lend(session, desk, users["staff"], item.id, long_night, approver=users["supervisor"],
                      now=local(8))
    assert (lent.approved_by_name, lent.approved_rules) == ("supervisor-1", "loan_too_long,loan_overnight")
    assert lent.approval_reason == "burst pipe, flat empty"
    event = session.scalars(select(AuditEvent).where(AuditEvent.event == "lend")).one()
    assert '"approved_by":"supervisor-1"' in event.details


def test_overdue_loans_and_keys_out_at_the_end_of_the_day_raise_alerts_once(session, desk, users):
    worker = users["admin"]
    first = key(session, desk, users).item
    second = key(session, desk, users).item
    early = loans.lend(session, desk, users["staff"], first.id, loan(due_back_at=local(12)), now=local(10))
    loans.lend(session, desk, users["staff"], second.id, loan(due_back_at=local(21, 30)), now=local(10))
    session.commit()

    assert loans.raise_due_alerts(session, desk, worker, now=local(11, 59)) == []
    raised = loans.raise_due_alerts(session, desk, worker, now=local(12, 1))
    assert [(a.kind, a.item_id) for a in raised] == [("key_loan_overdue", first.id)]
    assert [l.id for l in loans.list_loans(session, state="overdue", now=local(12, 1))] == [early.id]
    assert loans.raise_due_alerts(session, desk, worker, now=local(13)) == []

    raised = loans.raise_due_alerts(session, desk, worker, now=local(22))
    assert sorted((a.kind, a.item_id) for a in raised) == sorted([
        ("key_out_at_end_of_day", first.id), ("key_out_at_end_of_day", second.id),
        ("key_loan_overdue", second.id)])
    assert loans.raise_due_alerts(session, desk, worker, now=local(23)) == []
    assert '"phone":"139****1111"' in raised[0].details

    loans.return_key(session, users["staff"], early.id, now=local(22, 10))
    open_alerts = session.scalars(select(Alert).where(Alert.resolved_at.is_(None))).all()
    assert {a.item_id for a in open_alerts} == {second.id}
    session.commit()
    assert sealed_verdict(session).ok


def test_an_approved_overnight_loan_is_not_reported_at_the_end_of_the_day(session, desk, users):
    item = key(session, desk, users).item
    loans.lend(session, desk, users["supervisor"], item.id, loan(due_back_at=local(9, day=23)),
               approver=users["supervisor"], now=local(20))
    assert loans.raise_due_alerts(session, desk, users["admin"], now=local(23)) == []
    assert [a.kind for a in loans.raise_due_alerts(session, desk, users["admin"], now=local(9, 5, day=23))] == [
        "key_loan_overdue"]


@pytest.mark.skipif(not POSTGRES_URL, reason="row locks need PostgreSQL")
def test_two_desks_lending_one_key_at_once_give_one_loan(engine, desk, users):
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    with sessions() as session:
        item_id = key(session, desk, users).item.id
    barrier, outcomes = threading.Barrier(6), []

    def attempt(i):
        with sessions() as session:
            barrier.wait()
            try:
                with unit_of_work(session):
                    loans.lend(session, desk, users["staff"], item_id, loan(), now=local(10))
                outcomes.append("lent")
            except Conflict as error:
                outcomes.append(error.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["key_already_lent"] * 5 + ["lent"]
    with sessions() as session:
        assert len(session.scalars(select(KeyLoan)).all()) == 1
        assert sealed_verdict(session).ok
