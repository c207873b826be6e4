"""Shift handover and key count: open, count by scanning, explain, sign; signed is final."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from kiosk import accounts, alerts, audit, handover, ledger, loans, printjobs, reconciliation
from kiosk.db import session_factory, transaction, unit_of_work
from kiosk.errors import (
    Conflict, DiscrepanciesUnexplained, Forbidden, HandoverSigned, InvalidInput, KioskError, MalformedCode,
    NotFound,
)
from kiosk.models import AuditEvent, HandoverLine
from kiosk.values import Actor, Borrower, DepositForm, LoanForm
from tests.conftest import AUDIT_KEY, OWNER, luggage_form, sealed_verdict

NOW = datetime(2026, 11, 22, 8, tzinfo=UTC)
SHIFT_START = NOW - timedelta(hours=8)


def luggage(**overrides) -> DepositForm:
    return luggage_form(NOW, **overrides)


def key(key_kind=None) -> DepositForm:
    return DepositForm(kind="key", owner=OWNER, description="unit door key", key_kind=key_kind)


@pytest.fixture
def clerks(session, users):
    """The outgoing clerk (staff-1) and the incoming one, each with their own login."""
    incoming = accounts.add_user(session, "staff-2", "staff")
    session.commit()
    return users["staff"], Actor(name=incoming.name, role="staff", user_id=incoming.id, device="desk-1")


def deposit(session, desk, users, n, at=NOW - timedelta(hours=2), form=None):
    made = [ledger.deposit(session, desk, users["staff"], form or luggage(), now=at) for _ in range(n)]
    session.commit()
    return made


def events(session, name) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.event == name).order_by(AuditEvent.seq)))


def tickets(entries) -> list[str]:
    return [e.item.ticket_no if e.item else "?" for e in entries]


def test_opening_freezes_what_is_held_and_lists_the_shift(session, desk, users, clerks):
    outgoing, _ = clerks
    before = deposit(session, desk, users, 1, at=SHIFT_START - timedelta(hours=1))
    during = deposit(session, desk, users, 3)
    ledger.release(session, desk, users["staff"], during[0].item.id, tag_code=during[0].tag_code,
                   stub_code=during[0].claim_code, now=NOW - timedelta(hours=1))
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, unfinished="3-0101 报修未回访",
                                   now=NOW)
    session.commit()
    late = deposit(session, desk, users, 1, at=NOW + timedelta(minutes=5))  # after opening: not expected

    found = reconciliation.reconcile(session, count.id)
    assert count.expected_count == 3
    assert sorted(tickets(found.expected)) == sorted(
        [before[0].item.ticket_no, during[1].item.ticket_no, during[2].item.ticket_no])
    assert tickets(found.having("missing")) == tickets(found.expected)  # nothing scanned yet
    shift = reconciliation.context(session, count, NOW)
    assert [d["ticket_no"] for d in shift["deposits"]["items"]] == [d.item.ticket_no for d in during]
    assert [r["ticket_no"] for r in shift["releases"]["items"]] == [during[0].item.ticket_no]
    assert shift["deposits"]["items"][0]["owner"] == "张*"
    assert shift["overdue"]["items"] == []
    assert count.unfinished == "3-0101 报修未回访"
    opened = events(session, "handover_open")[0]
    assert '"expected":3' in opened.details
    handover.note_unfinished(session, outgoing, count.id, "3-0101 报修未回访; 5-2201 快递未取", now=NOW)
    assert "5-2201" in count.unfinished and "5-2201" in events(session, "handover_note")[0].details
    assert [o["ticket_no"] for o in reconciliation.context(session, count, NOW + timedelta(hours=6))[
        "overdue"]["items"]] == [d.item.ticket_no for d in before + during[1:] + late]


def test_a_shift_starts_where_the_last_signed_one_ended(session, desk, users, clerks):
    outgoing, incoming = clerks
    with pytest.raises(InvalidInput) as error:
        handover.open_handover(session, outgoing, now=NOW)
    assert error.value.params["field"] == "shift_start"
    first = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    handover.sign(session, outgoing, first.id, now=NOW + timedelta(minutes=1))
    handover.sign(session, incoming, first.id, now=NOW + timedelta(minutes=2))
    second = handover.open_handover(session, incoming, now=NOW + timedelta(hours=8))
    assert second.shift_start == NOW + timedelta(minutes=2)


def test_one_count_of_a_kind_at_a_time_until_cancelled(session, users, clerks):
    outgoing, incoming = clerks
    first = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    with pytest.raises(Conflict) as error:
        handover.open_handover(session, incoming, shift_start=SHIFT_START, now=NOW)
    assert (error.value.code, error.value.params["id"]) == ("handover_open", first.id)
    keys = handover.open_handover(session, incoming, kind="key_count", now=NOW)  # another kind may run
    handover.cancel(session, users["supervisor"], first.id, "opened by mistake", now=NOW)
    assert handover.open_handover(session, incoming, shift_start=SHIFT_START, now=NOW).id not in (first.id, keys.id)
    with pytest.raises(Conflict, match="handover_cancelled"):
        handover.scan(session, None, incoming, first.id, "K1T-1-0-00000000000000000000", now=NOW)


def test_a_kiosk_device_neither_opens_nor_signs(session, users):
    with pytest.raises(Forbidden) as error:
        handover.open_handover(session, users["kiosk"], shift_start=SHIFT_START, now=NOW)
    assert error.value.code == "personal_login_required"


def test_scanning_finds_counts_progress_and_ignores_a_second_scan(session, desk, users, clerks):
    outgoing, incoming = clerks
    items = deposit(session, desk, users, 3)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    first = handover.scan(session, desk, incoming, count.id, items[0].tag_code, now=NOW)
    assert (first.entry.finding, first.duplicate) == ("found", False)
    assert (count.found_count, count.expected_count) == (1, 3)
    scans = len(events(session, "handover_scan"))
    again = handover.scan(session, desk, outgoing, count.id, items[0].tag_code.lower() + " ", now=NOW)
    assert again.duplicate and again.entry.finding == "found"
    assert (count.found_count, count.scanned_count) == (1, 1)
    assert len(events(session, "handover_scan")) == scans  # nothing changed, nothing recorded
    handover.scan(session, desk, incoming, count.id, items[1].tag_code, now=NOW)
    result = reconciliation.reconcile(session, count.id)
    assert tickets(result.having("found")) == [items[0].item.ticket_no, items[1].item.ticket_no]
    assert tickets(result.having("missing")) == [items[2].item.ticket_no]
    assert result.counts()["unexplained"] == 1


def test_unexpected_tags_an_item_handed_out_or_a_code_nobody_issued(session, desk, users, clerks):
    outgoing, incoming = clerks
    gone, held = deposit(session, desk, users, 2)
    ledger.release(session, desk, users["staff"], gone.item.id, tag_code=gone.tag_code, stub_code=gone.claim_code,
                   now=NOW - timedelta(hours=1))
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    released = handover.scan(session, desk, incoming, count.id, gone.tag_code, now=NOW)
    assert (released.entry.finding, released.entry.reason) == ("unexpected", "released")
    forged = held.tag_code[:-4] + ("AAAA" if not held.tag_code.endswith("AAAA") else "BBBB")
    unknown = handover.scan(session, desk, incoming, count.id, forged, now=NOW)
    assert (unknown.entry.finding, unknown.entry.reason, unknown.entry.item) == ("unexpected", "unknown", None)
    assert unknown.entry.line.code_digest is not None
    assert handover.scan(session, desk, incoming, count.id, forged, now=NOW).duplicate
    trail = events(session, "handover_scan")[-1]
    assert trail.item_id is None and '"forged":true' in trail.details and forged not in trail.details
    result = reconciliation.reconcile(session, count.id)
    assert [e.reason for e in result.having("unexpected")] == ["released", "unknown"]
    assert result.counts()["unexplained"] == 3  # two unexpected, one missing


def test_a_stub_or_unreadable_text_is_refused_and_recorded(session, desk, users, clerks):
    outgoing, incoming = clerks
    item, = deposit(session, desk, users, 1)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    session.commit()
    with pytest.raises(InvalidInput) as error, unit_of_work(session):
        handover.scan(session, desk, incoming, count.id, item.claim_code, now=NOW)
    assert (error.value.code, error.value.params["role"]) == ("not_a_tag", "stub")
    with pytest.raises(MalformedCode) as error, unit_of_work(session):
        handover.scan(session, desk, incoming, count.id, "hello", now=NOW)
    assert error.value.params["field"] == "code"
    refused = events(session, "handover_scan")
    assert ['"refused":"not_a_tag"' in refused[0].details, '"refused":"malformed_code"' in refused[1].details] == [
        True, True]
    assert session.scalar(select(func.count()).select_from(HandoverLine).where(
        HandoverLine.scanned_at.is_not(None))) == 0


def test_wrong_place_is_where_the_scan_was_not_where_the_ledger_says(session, desk, users, clerks):
    outgoing, incoming = clerks
    item, = deposit(session, desk, users, 1)  # large, five hours: the front desk
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    misplaced = handover.scan(session, desk, incoming, count.id, item.tag_code, location="storeroom", now=NOW)
    assert misplaced.entry.finding == "found" and misplaced.entry.discrepancy == "wrong_place"
    assert (misplaced.entry.line.found_location, misplaced.entry.line.ledger_location) == ("storeroom", "front_desk")
    assert handover.scan(session, desk, incoming, count.id, item.tag_code, now=NOW).duplicate
    with pytest.raises(InvalidInput):
        handover.scan(session, desk, incoming, count.id, item.tag_code, location="roof", now=NOW)
    # Carried back to the desk and scanned there: the difference is gone, the trail keeps both.
    back = handover.scan(session, desk, incoming, count.id, item.tag_code, location="front_desk", now=NOW)
    assert back.entry.discrepancy is None and count.found_count == 1
    assert '"relocated":true' in events(session, "handover_scan")[-1].details


def test_nobody_signs_until_every_difference_is_explained(session, desk, users, clerks):
    outgoing, incoming = clerks
    here, lost = deposit(session, desk, users, 2)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    handover.scan(session, desk, incoming, count.id, here.tag_code, now=NOW)
    session.commit()
    for clerk in (outgoing, incoming):
        with pytest.raises(DiscrepanciesUnexplained) as error, unit_of_work(session):
            handover.sign(session, clerk, count.id, now=NOW)
        assert error.value.params == {"id": count.id, "count": 1, "item_ids": [lost.item.id]}
    assert len(events(session, "handover_sign")) == 2  # the refusals leave a trace

    with pytest.raises(Conflict, match="no_discrepancy"):
        handover.explain(session, outgoing, count.id, item_id=here.item.id, text="fine")
    with pytest.raises(NotFound):
        handover.explain(session, outgoing, count.id, item_id=here.item.id + 100, text="?")
    with pytest.raises(InvalidInput):
        handover.explain(session, outgoing, count.id, item_id=lost.item.id, text="  ")
    handover.explain(session, outgoing, count.id, item_id=lost.item.id, text="owner took it at 7:50, not logged",
                     now=NOW)
    handover.sign(session, outgoing, count.id, now=NOW)
    assert count.state == "open"
    handover.sign(session, outgoing, count.id, now=NOW)  # signing again is no second signature
    assert count.state == "open" and len(events(session, "handover_sign")) == 3
    handover.sign(session, incoming, count.id, now=NOW + timedelta(minutes=1))
    assert count.state == "signed" and count.incoming_name == "staff-2"
    assert (count.outgoing_signed_at, count.incoming_signed_at) == (NOW, NOW + timedelta(minutes=1))


def test_a_change_after_one_signature_withdraws_it(session, desk, users, clerks):
    outgoing, incoming = clerks
    item, = deposit(session, desk, users, 1)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    handover.scan(session, desk, incoming, count.id, item.tag_code, now=NOW)
    handover.sign(session, outgoing, count.id, now=NOW)
    handover.scan(session, desk, incoming, count.id, item.tag_code, location="storeroom", now=NOW)
    assert count.outgoing_signed_at is None and '"withdrawn":["outgoing"]' in events(
        session, "handover_scan")[-1].details
    handover.explain(session, incoming, count.id, item_id=item.item.id, text="moved to the storeroom", now=NOW)
    handover.sign(session, incoming, count.id, now=NOW)
    assert count.state == "open"
    handover.sign(session, outgoing, count.id, now=NOW)
    assert count.state == "signed"


def test_escalating_a_missing_item_alerts_security_and_lets_them_sign(session, desk, users, clerks):
    outgoing, incoming = clerks
    item, = deposit(session, desk, users, 1)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    entry = handover.explain(session, incoming, count.id, item_id=item.item.id, text="not on any shelf",
                             escalate=True, now=NOW)
    alert, = alerts.list_alerts(session)
    assert (alert.kind, alert.item_id, entry.line.alert_id) == ("item_missing", item.item.id, alert.id)
    assert '"handover_id":%d' % count.id in alert.details
    handover.explain(session, incoming, count.id, item_id=item.item.id, text="asked security", escalate=True, now=NOW)
    assert len(alerts.list_alerts(session)) == 1  # escalated once
    handover.sign(session, outgoing, count.id, now=NOW)
    handover.sign(session, incoming, count.id, now=NOW)
    assert reconciliation.reconcile(session, count.id).having("missing")[0].line.alert_id == alert.id


def test_an_unknown_code_is_explained_by_its_digest_and_escalates_as_a_discrepancy(session, desk, users, clerks):
    outgoing, incoming = clerks
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    scanned = handover.scan(session, desk, incoming, count.id, "K1T-ZZ-0-" + "A" * 20, now=NOW)
    handover.explain(session, incoming, count.id, code_digest=scanned.entry.line.code_digest,
                     text="label from the old system", escalate=True, now=NOW)
    assert alerts.list_alerts(session)[0].kind == "count_discrepancy"
    with pytest.raises(InvalidInput):
        handover.explain(session, incoming, count.id, text="which one?")


def test_an_item_handed_out_during_the_count_is_gone_not_missing(session, desk, users, clerks):
    outgoing, incoming = clerks
    item, = deposit(session, desk, users, 1)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    ledger.release(session, desk, users["staff"], item.item.id, tag_code=item.tag_code, stub_code=item.claim_code,
                   now=NOW + timedelta(minutes=3))
    result = reconciliation.reconcile(session, count.id)
    assert [(e.finding, e.reason) for e in result.entries] == [("gone", "released")]
    handover.sign(session, outgoing, count.id, now=NOW + timedelta(minutes=4))
    handover.sign(session, incoming, count.id, now=NOW + timedelta(minutes=5))
    assert reconciliation.reconcile(session, count.id).entries[0].line.finding == "gone"


def test_signed_is_final_and_anchors_the_chain_head(session, desk, users, clerks):
    outgoing, incoming = clerks
    items = deposit(session, desk, users, 2)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    handover.scan(session, desk, incoming, count.id, items[0].tag_code, now=NOW)
    handover.explain(session, outgoing, count.id, item_id=items[1].item.id, text="in the office safe", now=NOW)
    handover.sign(session, outgoing, count.id, now=NOW)
    handover.sign(session, incoming, count.id, now=NOW)
    session.commit()

    signed = events(session, "handover_signed")[0]
    assert (count.chain_seq, count.chain_hash) == (signed.seq, signed.hash)
    assert '"missing":1' in signed.details and '"found":1' in signed.details
    # Sealing the signed handover asks for an anchor outside the database (web/sealer.py writes it).
    state = audit.SealState()
    audit.seal(session, AUDIT_KEY, state)
    session.commit()
    assert state.anchor_due
    assert audit.verify(session, AUDIT_KEY).ok

    for late in (lambda: handover.scan(session, desk, incoming, count.id, items[1].tag_code, now=NOW),
                 lambda: handover.explain(session, outgoing, count.id, item_id=items[1].item.id, text="x"),
                 lambda: handover.note_unfinished(session, outgoing, count.id, "more"),
                 lambda: handover.sign(session, incoming, count.id)):
        with pytest.raises(HandoverSigned), unit_of_work(session):
            late()
    assert '"refused":"handover_signed"' in events(session, "handover_scan")[-1].details
    assert count.found_count == 1

    result = reconciliation.reconcile(session, count.id)
    assert reconciliation.sheet_intact(session, result) is True
    frozen = reconciliation.context(session, count, NOW + timedelta(days=30))
    assert [d["ticket_no"] for d in frozen["deposits"]["items"]] == [i.item.ticket_no for i in items]
    result.having("missing")[0].line.explanation = "edited afterwards"
    session.flush()
    assert reconciliation.sheet_intact(session, reconciliation.reconcile(session, count.id)) is False


def lend(session, desk, users, deposit_, hours=4, now=NOW):
    loan = loans.lend(session, desk, users["staff"], deposit_.item.id, LoanForm(
        borrower=Borrower(name="李工", phone="13900001111", company="物业工程部"), purpose="repair",
        due_back_at=now + timedelta(hours=hours)), now=now)
    session.commit()
    return loan


def test_the_context_passes_on_print_jobs_alerts_and_loans(session, desk, users, clerks):
    outgoing, incoming = clerks
    suitcase, = deposit(session, desk, users, 1)
    lent, later = deposit(session, desk, users, 2, form=key())
    stuck = printjobs.enqueue(session, users["staff"], suitcase.item, "desk", "tcp://10.0.0.9:9100", now=NOW)
    stuck.attempts = printjobs.STUCK_AFTER
    alert = alerts.raise_alert(session, users["staff"], "revoked_stub_presented", suitcase.item.id, NOW, {})
    lend(session, desk, users, lent)
    count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
    shift = reconciliation.context(session, count, NOW)
    assert [j["id"] for j in shift["print_jobs"]] == [stuck.id]
    assert [a["id"] for a in shift["alerts"]] == [alert.id]
    assert [(k["ticket_no"], k["borrower"]) for k in shift["keys_out"]] == [(lent.item.ticket_no, "李工 物业工程部")]
    assert "13900001111" not in str(shift) and shift["complaints"] == []

    assert count.expected_count == 2  # the lent key is listed, not expected
    lend(session, desk, users, later, now=NOW + timedelta(minutes=5))  # lent during the count: gone, not missing
    result = reconciliation.reconcile(session, count.id)
    assert [(e.item.id, e.finding, e.reason) for e in result.entries] == [
        (suitcase.item.id, "missing", None), (later.item.id, "gone", "on_loan"), (lent.item.id, "on_loan", None)]
    back = handover.scan(session, desk, incoming, count.id, lent.tag_code, now=NOW)
    assert (back.entry.finding, back.entry.reason) == ("unexpected", "on_loan")  # here, but the ledger says lent


def test_the_monthly_key_count_counts_the_cabinet_by_kind_of_key(session, desk, users, clerks):
    outgoing, incoming = clerks
    unit = deposit(session, desk, users, 2, form=key())
    car, = deposit(session, desk, users, 1, form=key("car_card"))
    deposit(session, desk, users, 1)  # luggage: not in a key count
    assert (unit[0].item.key_kind, car.item.key_kind) == ("unit_key", "car_card")
    count = handover.open_handover(session, outgoing, kind="key_count", now=NOW)
    assert (count.expected_count, count.shift_start) == (3, None)
    at_cabinet = handover.scan(session, desk, incoming, count.id, unit[0].tag_code, now=NOW)
    assert at_cabinet.entry.line.found_location == "key_cabinet" and at_cabinet.entry.discrepancy is None
    handover.scan(session, desk, incoming, count.id, car.tag_code, location="front_desk", now=NOW)
    sheet = reconciliation.reconcile(session, count.id).by_key_kind()
    assert sheet["unit_key"] == {"expected": 2, "found": 1, "missing": 1, "unexpected": 0, "wrong_place": 0}
    assert sheet["car_card"] == {"expected": 1, "found": 1, "missing": 0, "unexpected": 0, "wrong_place": 1}
    assert "deposits" not in reconciliation.context(session, count, NOW)  # a key count has no shift


def test_a_key_needs_a_known_sub_kind_and_nothing_else_has_one(session, desk, users):
    with pytest.raises(InvalidInput) as error:
        ledger.deposit(session, desk, users["staff"], key("garage_remote"), now=NOW)
    assert error.value.params["choices"] == ("unit_key", "shop_key", "resident_card", "car_card")
    with pytest.raises(InvalidInput):
        ledger.deposit(session, desk, users["staff"], luggage(key_kind="unit_key"), now=NOW)


def test_a_scan_costs_the_same_statements_in_a_count_of_any_size(engine, session, desk, users, clerks):
    outgoing, incoming = clerks

    def statements_per_scan(n):
        items = deposit(session, desk, users, n, form=key())
        count = handover.open_handover(session, outgoing, kind="key_count", now=NOW)
        session.commit()
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            handover.scan(session, desk, incoming, count.id, items[n // 2].tag_code, now=NOW)
            session.commit()
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        handover.cancel(session, users["supervisor"], count.id, "test", now=NOW)
        session.commit()
        return [s.split()[0] for s in seen]

    small, large = statements_per_scan(5), statements_per_scan(150)
    assert small == large and len(small) <= 10, small


def race(engine, *work):
    """Run each function in its own thread and transaction, from one start line; their outcomes."""
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    barrier = threading.Barrier(len(work))
    outcomes: list = [None] * len(work)

    def run(i):
        barrier.wait()
        try:
            with transaction(sessions) as session:
                outcomes[i] = work[i](session)
        except KioskError as error:
            outcomes[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_two_clerks_scanning_one_count_at_once_lose_no_scan(engine, session, desk, users, clerks):
    outgoing, incoming = clerks
    items = deposit(session, desk, users, 120, form=key())
    count = handover.open_handover(session, outgoing, kind="key_count", now=NOW)
    session.commit()

    # Each scans one transaction at a time, two thirds of the shelf each: a third is scanned by both.
    def one_by_one(clerk, chosen):
        return lambda _: [race_one(clerk, i) for i in chosen]

    def race_one(clerk, item):
        with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as s:
            return handover.scan(s, desk, clerk, count.id, item.tag_code, now=NOW).duplicate

    first, second = race(engine, one_by_one(incoming, items[:80]), one_by_one(users["supervisor"], items[40:]))
    assert first.count(False) + second.count(False) == 120  # every tag counted exactly once
    session.expire_all()
    result = reconciliation.reconcile(session, count.id)
    assert (result.handover.found_count, result.handover.scanned_count) == (120, 120)
    assert result.counts()["found"] == 120 and result.counts()["missing"] == 0
    assert len(events(session, "handover_scan")) == 120
    assert sealed_verdict(session).ok


def test_a_scan_and_the_last_signature_never_cross(engine, session, desk, users, clerks):
    outgoing, incoming = clerks
    shelf = []
    for round_no in range(4):
        shelf += deposit(session, desk, users, 1)
        count = handover.open_handover(session, outgoing, shift_start=SHIFT_START, now=NOW)
        for held in shelf:
            handover.scan(session, desk, incoming, count.id, held.tag_code, now=NOW)
        handover.sign(session, outgoing, count.id, now=NOW)
        session.commit()
        late, = deposit(session, desk, users, 1, at=NOW)
        shelf.append(late)
        sign, scan = race(engine,
                          lambda s: handover.sign(s, incoming, count.id, now=NOW).state,
                          lambda s: handover.scan(s, desk, users["supervisor"], count.id, late.tag_code, now=NOW))
        session.expire_all()
        signed = reconciliation.get_handover(session, count.id)
        if isinstance(scan, HandoverSigned):
            assert sign == "signed" == signed.state, round_no
        else:
            # The scan came first and withdrew the outgoing signature: not signed yet.
            assert scan.entry.finding == "extra" and signed.state == "open", round_no
            assert sign == "open" or isinstance(sign, KioskError), round_no
            handover.cancel(session, users["supervisor"], count.id, "race test", now=NOW)
            session.commit()
    assert sealed_verdict(session).ok
