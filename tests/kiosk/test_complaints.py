import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk import accounts, alerts, audit, complaint_history, complaint_policy, complaints, work_orders
from kiosk.db import session_factory, unit_of_work
from kiosk.errors import (
    Conflict, Forbidden, InvalidInput, InvalidTransition, NotComplaintOwner, TooManyFilings, WorkOrderNotDone,
    WrittenReplyRequired,
)
from kiosk.models import AuditEvent, Complaint, WorkOrder
from kiosk.privacy import mask_contact
from kiosk.values import Actor, ComplaintForm
from tests.conftest import AUDIT_KEY, sealed_verdict

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Thursday 19 November 2026, 10:00 at the site.
NOW = datetime(2026, 11, 19, 10, tzinfo=SHANGHAI).astimezone(UTC)
SYSTEM = Actor(name="system", role="system")


def form(**overrides) -> ComplaintForm:
    values = dict(kind="complaint", category="environment", channel="visit", unit="3-1502", name="李娜",
                  contact="13912345678", content="The corridor on 15F has not been cleaned for three days.",
                  wants=("fix",))
    values.update(overrides)
    return ComplaintForm(**values)


def take(session, actor, now=NOW, **overrides) -> Complaint:
    return complaints.take(session, actor, form(**overrides), tz=SHANGHAI, now=now)


def walk(session, actor, complaint_id, *states, at=NOW, **kwargs):
    for state in states:
        at += timedelta(minutes=10)
        complaints.transition(session, actor, complaint_id, state, now=at, **kwargs)
    return at


@pytest.fixture
def colleague(engine) -> Actor:
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        user = accounts.add_user(session, "staff-2", "staff")
        session.commit()
        return Actor(name=user.name, role="staff", user_id=user.id, device="desk-2")


def audit_details(session, event) -> list[str]:
    return list(session.scalars(select(AuditEvent.details).where(AuditEvent.event == event)))


def test_whoever_takes_it_owns_it_and_a_reply_is_due_within_one_working_day(session, users):
    complaint = take(session, users["staff"])
    assert complaint.state == "received" and complaint.owner_name == "staff-1"
    assert complaint.owner_id == users["staff"].user_id
    assert complaint.reply_due_at == NOW + timedelta(days=1) and not complaint.reply_due_promised
    assert complaint.area == "service" and complaint.repeat_of is None and not complaint.written
    # Friday afternoon: the reply is due on Monday afternoon.
    friday = datetime(2026, 11, 20, 16, tzinfo=SHANGHAI)
    late = take(session, users["staff"], now=friday.astimezone(UTC), unit="5-0101")
    assert late.reply_due_at == datetime(2026, 11, 23, 16, tzinfo=SHANGHAI)


def test_the_audit_trail_has_the_complaint_but_not_the_residents_name_or_contact(session, users):
    complaint = take(session, users["staff"])
    [details] = audit_details(session, "complaint_taken")
    assert f'"complaint_id":{complaint.id}' in details and '"unit":"3-1502"' in details
    assert "13912345678" not in details and "李娜" not in details
    assert sealed_verdict(session).ok


def test_a_promised_reply_time_is_kept_as_promised(session, users):
    promised = NOW + timedelta(hours=3)
    complaint = take(session, users["staff"], reply_due_at=promised)
    assert complaint.reply_due_at == promised and complaint.reply_due_promised
    for due, code in ((NOW - timedelta(minutes=1), "time_in_past"), (datetime(2026, 11, 20, 9), "invalid_time")):
        with pytest.raises(InvalidInput) as error:
            take(session, users["staff"], reply_due_at=due)
        assert (error.value.code, error.value.field) == (code, "reply_due_at")


def test_the_site_calendar_decides_the_default(session, users):
    from kiosk import workdays
    workdays.set_day(session, users["supervisor"], datetime(2026, 11, 20).date(), False, "site holiday", now=NOW)
    complaint = take(session, users["staff"])
    assert complaint.reply_due_at == datetime(2026, 11, 23, 10, tzinfo=SHANGHAI)


@pytest.mark.parametrize("overrides, code, field", [
    ({"kind": "praise"}, "invalid_complaint_kind", "kind"),
    ({"category": "parking"}, "invalid_category", "category"),
    ({"channel": "pigeon"}, "invalid_channel", "channel"),
    ({"channel": "kiosk"}, "invalid_channel", "channel"),
    ({"wants": ("revenge",)}, "invalid_wants", "wants"),
    ({"area": "water"}, "invalid_area", "area"),
    ({"contact": "  "}, "missing_field", "contact"),
    ({"unit": None}, "missing_field", "unit"),
    ({"content": ""}, "missing_field", "content"),
    ({"content": "x" * 2001}, "too_long", "content"),
    ({"kind": "repair"}, "missing_field", "repair_scope"),
    ({"kind": "repair", "repair_scope": "roof"}, "invalid_repair_scope", "repair_scope"),
    ({"repair_scope": "public"}, "field_not_allowed", "repair_scope"),
])
def test_the_form_is_checked(session, users, overrides, code, field):
    with pytest.raises(InvalidInput) as error:
        take(session, users["staff"], **overrides)
    assert (error.value.code, error.value.field) == (code, field)


def test_media_and_forum_complaints_may_be_anonymous(session, users):
    complaint = take(session, users["staff"], channel="online_forum", unit=None, name=None, contact=None,
                     category="security", wants=("heard", "respect", "heard"))
    assert complaint.unit is None and complaint.repeat_of is None and complaint.wants == "heard,respect"


def test_written_channels_and_the_energy_split(session, users):
    assert take(session, users["staff"], channel="letter").written
    assert take(session, users["staff"], channel="email").written
    assert take(session, users["staff"], channel="company", written=True).written
    assert take(session, users["staff"], category="equipment").area == "equipment"
    assert take(session, users["staff"], category="equipment", area="energy").area == "energy"


def test_a_kiosk_filing_belongs_to_whoever_first_acknowledges_it(session, users, colleague):
    kiosk = users["kiosk"]
    complaint = take(session, kiosk, channel="kiosk")
    assert complaint.owner_id is None and complaint.taken_by == "kiosk:lobby-1" and complaint.device == "lobby-1"
    assert complaint.reply_due_at == NOW + timedelta(days=1)
    with pytest.raises(NotComplaintOwner):
        complaints.reply(session, colleague, complaint.id, "We are on it", now=NOW)
    complaints.transition(session, colleague, complaint.id, "acknowledged", now=NOW + timedelta(minutes=5))
    assert complaint.owner_name == "staff-2"
    with pytest.raises(NotComplaintOwner) as error:
        complaints.transition(session, users["staff"], complaint.id, "in_progress", now=NOW)
    assert error.value.status == 403 and error.value.params == {"id": complaint.id, "owner": "staff-2"}


def test_a_kiosk_files_only_what_a_resident_may_say(session, users):
    with pytest.raises(InvalidInput) as error:
        take(session, users["kiosk"], channel="visit")
    assert error.value.code == "invalid_channel"
    for field, value in (("reply_due_at", NOW + timedelta(hours=1)), ("our_cause", True)):
        with pytest.raises(InvalidInput) as error:
            take(session, users["kiosk"], channel="kiosk", **{field: value})
        assert (error.value.code, error.value.field) == ("field_not_allowed", field)
    with pytest.raises(Forbidden):
        complaints.transition(session, users["kiosk"], take(session, users["staff"]).id, "acknowledged", now=NOW)


def test_security_does_not_file_complaints(session, users):
    with pytest.raises(Forbidden):
        take(session, users["security"])


def test_the_whole_walk_records_who_and_when(session, users):
    staff = users["staff"]
    complaint = take(session, staff)
    complaints.transition(session, staff, complaint.id, "acknowledged", now=NOW + timedelta(minutes=1),
                          reply="Sorry; cleaning comes this afternoon")
    at = walk(session, staff, complaint.id, "in_progress", "resolved", at=NOW + timedelta(minutes=1))
    complaints.transition(session, staff, complaint.id, "followed_up", "called back", satisfied=True,
                          now=at + timedelta(days=1))
    complaints.transition(session, staff, complaint.id, "closed", now=at + timedelta(days=1, minutes=1))
    assert complaint.state == "closed" and complaint.closed_at == at + timedelta(days=1, minutes=1)
    assert complaint.first_reply_at == NOW + timedelta(minutes=1)
    steps = complaint_history.steps(session, complaint.id)
    assert [(s.action, s.from_state, s.to_state) for s in steps] == [
        ("taken", None, "received"), ("reply", None, None), ("transition", "received", "acknowledged"),
        ("transition", "acknowledged", "in_progress"), ("transition", "in_progress", "resolved"),
        ("follow_up", "resolved", "followed_up"), ("transition", "followed_up", "closed"),
    ]
    assert {s.actor for s in steps} == {"staff-1"} and steps[5].satisfied is True and steps[5].note == "called back"
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.seq)).all()
    assert events == ["complaint_taken", "complaint_reply"] + ["complaint_changed"] * 5


@pytest.mark.parametrize("path, to", [
    ((), "in_progress"), ((), "closed"), (("acknowledged",), "followed_up"), (("acknowledged",), "received"),
    (("acknowledged", "in_progress", "resolved"), "closed"),
])
def test_illegal_transitions_are_refused(session, users, path, to):
    complaint = take(session, users["staff"])
    walk(session, users["staff"], complaint.id, *path)
    with pytest.raises(InvalidTransition) as error:
        complaints.transition(session, users["staff"], complaint.id, to,
                              satisfied=True if to == "followed_up" else None, now=NOW + timedelta(hours=1))
    assert error.value.code == "invalid_transition" and error.value.status == 409
    assert error.value.params["from_state"] == complaint.state and error.value.params["to"] == to


def test_a_follow_up_says_whether_the_resident_is_satisfied(session, users):
    complaint = take(session, users["staff"])
    walk(session, users["staff"], complaint.id, "acknowledged", "resolved")
    with pytest.raises(InvalidInput) as error:
        complaints.transition(session, users["staff"], complaint.id, "followed_up", now=NOW + timedelta(hours=1))
    assert (error.value.code, error.value.field) == ("missing_field", "satisfied")
    other = take(session, users["staff"], unit="1-0101")
    walk(session, users["staff"], other.id, "acknowledged")
    with pytest.raises(InvalidInput) as error:
        complaints.transition(session, users["staff"], other.id, "in_progress", satisfied=True, now=NOW)
    assert (error.value.code, error.value.field) == ("field_not_allowed", "satisfied")


def test_an_unsatisfied_follow_up_reopens_it(session, users):
    staff = users["staff"]
    complaint = take(session, staff)
    walk(session, staff, complaint.id, "acknowledged", "in_progress", "resolved")
    complaints.transition(session, staff, complaint.id, "followed_up", "still dirty", satisfied=False,
                          now=NOW + timedelta(days=1))
    assert complaint.state == "in_progress" and complaint.closed_at is None
    at = walk(session, staff, complaint.id, "resolved", at=NOW + timedelta(days=1))
    complaints.transition(session, staff, complaint.id, "followed_up", satisfied=True, now=at + timedelta(hours=1))
    complaints.transition(session, staff, complaint.id, "closed", now=at + timedelta(hours=2))
    actions = [(s.action, s.to_state, s.satisfied) for s in complaint_history.steps(session, complaint.id)][4:]
    assert actions == [("follow_up", "followed_up", False), ("reopened", "in_progress", None),
                       ("transition", "resolved", None), ("follow_up", "followed_up", True),
                       ("transition", "closed", None)]


def test_a_written_complaint_closes_only_after_its_written_reply(session, users):
    staff = users["staff"]
    letter = take(session, staff, channel="letter")
    complaints.reply(session, staff, letter.id, "Called to say we received the letter", now=NOW + timedelta(hours=1))
    walk(session, staff, letter.id, "acknowledged", "resolved")
    complaints.transition(session, staff, letter.id, "followed_up", satisfied=True, now=NOW + timedelta(days=1))
    with pytest.raises(WrittenReplyRequired) as error:
        complaints.transition(session, staff, letter.id, "closed", now=NOW + timedelta(days=1))
    assert error.value.code == "written_reply_required" and error.value.status == 409
    complaints.reply(session, staff, letter.id, "Dear Ms Li, …", written=True, now=NOW + timedelta(days=2))
    complaints.transition(session, staff, letter.id, "closed", now=NOW + timedelta(days=2))
    assert letter.state == "closed" and letter.written_reply_at == NOW + timedelta(days=2)
    assert letter.first_reply_at == NOW + timedelta(hours=1)


def test_the_written_reply_may_come_with_the_closing(session, users):
    staff = users["staff"]
    email = take(session, staff, channel="email")
    walk(session, staff, email.id, "acknowledged", "resolved")
    complaints.transition(session, staff, email.id, "followed_up", satisfied=True, now=NOW + timedelta(days=1))
    complaints.transition(session, staff, email.id, "closed", reply="Dear Mr Chen, …", written=True,
                          now=NOW + timedelta(days=1, hours=1))
    assert email.state == "closed" and email.written_reply_at is not None


def test_a_closed_complaint_takes_no_more_replies(session, users):
    staff = users["staff"]
    complaint = take(session, staff)
    walk(session, staff, complaint.id, "acknowledged", "resolved")
    complaints.transition(session, staff, complaint.id, "followed_up", satisfied=True, now=NOW + timedelta(days=1))
    complaints.transition(session, staff, complaint.id, "closed", now=NOW + timedelta(days=1))
    with pytest.raises(Conflict) as error:
        complaints.reply(session, staff, complaint.id, "one more thing", now=NOW + timedelta(days=2))
    assert error.value.code == "complaint_closed"


def test_a_public_repair_is_resolved_only_after_its_work_order_is_checked(session, users):
    staff = users["staff"]
    repair = take(session, staff, kind="repair", category="equipment", repair_scope="public",
                  repair_location="Lift 2, building 3", content="Lift 2 stops between floors")
    order = work_orders.for_complaint(session, repair.id)
    assert (order.state, order.scope, order.location) == ("issued", "public", "Lift 2, building 3")
    walk(session, staff, repair.id, "acknowledged", "in_progress")
    work_orders.transition(session, staff, order.id, "in_progress", assignee="王师傅", now=NOW + timedelta(hours=1))
    work_orders.transition(session, staff, order.id, "completed", now=NOW + timedelta(hours=2))
    with pytest.raises(WorkOrderNotDone) as error:
        complaints.transition(session, staff, repair.id, "resolved", now=NOW + timedelta(hours=3))
    assert error.value.params == {"work_order_id": order.id, "state": "completed", "needed": "checked"}
    # The check finds the lift still stopping: back to engineering, then checked.
    work_orders.transition(session, staff, order.id, "in_progress", "still stops at 7F", now=NOW + timedelta(hours=3))
    work_orders.transition(session, staff, order.id, "completed", now=NOW + timedelta(hours=4))
    work_orders.transition(session, users["supervisor"], order.id, "checked", now=NOW + timedelta(hours=5))
    complaints.transition(session, staff, repair.id, "resolved", now=NOW + timedelta(hours=5))
    assert (order.assignee, order.checked_by) == ("王师傅", "supervisor-1")
    assert order.completed_at == NOW + timedelta(hours=4)
    changes = [s.details for s in complaint_history.steps(session, repair.id) if s.action == "work_order"]
    assert len(changes) == 6 and '"work_order_state":"checked"' in changes[-1]


def test_an_in_unit_repair_gets_a_follow_up_instead_of_a_check(session, users):
    staff = users["staff"]
    repair = take(session, staff, kind="repair", category="equipment", repair_scope="in_unit",
                  content="Kitchen tap leaks")
    order = work_orders.for_complaint(session, repair.id)
    assert order.location == "3-1502"
    walk(session, staff, repair.id, "acknowledged", "in_progress")
    with pytest.raises(WorkOrderNotDone):
        complaints.transition(session, staff, repair.id, "resolved", now=NOW + timedelta(hours=1))
    work_orders.transition(session, staff, order.id, "completed", now=NOW + timedelta(hours=2))
    with pytest.raises(InvalidTransition):
        work_orders.transition(session, staff, order.id, "checked", now=NOW + timedelta(hours=2))
    complaints.transition(session, staff, repair.id, "resolved", now=NOW + timedelta(hours=3))
    complaints.transition(session, staff, repair.id, "followed_up", "still drips", satisfied=False,
                          now=NOW + timedelta(days=1))
    assert (repair.state, order.state) == ("in_progress", "in_progress")


def test_repeat_complaints_point_at_the_earlier_one(session, users):
    staff = users["staff"]
    first = take(session, staff, now=NOW - timedelta(days=55))
    second = take(session, staff, now=NOW - timedelta(days=20), unit=" 3 - 1502 ")
    third = take(session, staff, now=NOW, unit="３-１５０２")
    other_category = take(session, staff, category="security")
    other_unit = take(session, staff, unit="3-1503")
    assert first.repeat_of is None and second.repeat_of is None
    assert third.repeat_of == second.id and third.unit == "3-1502"
    assert other_category.repeat_of is None and other_unit.repeat_of is None


def test_only_the_owner_or_a_supervisor_works_on_it(session, users, colleague):
    complaint = take(session, users["staff"])
    for act in (lambda: complaints.transition(session, colleague, complaint.id, "acknowledged", now=NOW),
                lambda: complaints.reply(session, colleague, complaint.id, "hello", now=NOW),
                lambda: complaints.assess(session, colleague, complaint.id, our_cause=True, now=NOW)):
        with pytest.raises(NotComplaintOwner):
            act()
    complaints.transition(session, users["supervisor"], complaint.id, "acknowledged", now=NOW)
    assert complaint.owner_name == "staff-1"


def test_only_a_supervisor_reassigns_and_says_why(session, users, colleague):
    complaint = take(session, users["staff"])
    with pytest.raises(Forbidden):
        complaints.reassign(session, users["staff"], complaint.id, "staff-2", "going on leave", now=NOW)
    with pytest.raises(InvalidInput) as error:
        complaints.reassign(session, users["supervisor"], complaint.id, "staff-2", "  ", now=NOW)
    assert (error.value.code, error.value.field) == ("missing_field", "note")
    for name, code in (("security-1", "invalid_owner"), ("nobody", "invalid_owner"), ("staff-1", "same_owner")):
        with pytest.raises(InvalidInput) as error:
            complaints.reassign(session, users["supervisor"], complaint.id, name, "leave", now=NOW)
        assert error.value.code == code
    complaints.reassign(session, users["supervisor"], complaint.id, "staff-2", "staff-1 on leave until Monday",
                        now=NOW)
    assert (complaint.owner_id, complaint.owner_name) == (colleague.user_id, "staff-2")
    [step] = [s for s in complaint_history.steps(session, complaint.id) if s.action == "reassign"]
    assert step.actor == "supervisor-1" and step.note == "staff-1 on leave until Monday"
    assert '"from_owner":"staff-1"' in step.details and '"to_owner":"staff-2"' in step.details
    complaints.transition(session, colleague, complaint.id, "acknowledged", now=NOW)


def test_the_owner_records_the_judgement(session, users):
    complaint = take(session, users["staff"], wants=())
    complaints.assess(session, users["staff"], complaint.id, our_cause=True, reasonable=False,
                      wants=("compensation", "respect"), now=NOW)
    assert (complaint.our_cause, complaint.reasonable, complaint.wants) == (True, False, "compensation,respect")
    with pytest.raises(InvalidInput):
        complaints.assess(session, users["staff"], complaint.id, our_cause="yes", now=NOW)


def test_overdue_replies_are_found_and_alerted_once(session, users):
    staff = users["staff"]
    late = take(session, staff)
    kept = take(session, staff, unit="1-0101")
    promised = take(session, staff, unit="1-0102", reply_due_at=NOW + timedelta(days=3))
    complaints.reply(session, staff, kept.id, "Cleaning at 15:00", now=NOW + timedelta(hours=2))
    assert complaints.overdue_replies(session, NOW + timedelta(hours=23)) == []
    after = NOW + timedelta(days=1, minutes=1)
    assert complaints.overdue_replies(session, after) == [late]
    [alert] = complaints.raise_overdue_alerts(session, SYSTEM, now=after)
    assert complaints.raise_overdue_alerts(session, SYSTEM, now=after + timedelta(hours=1)) == []
    assert alert.kind == "complaint_reply_overdue" in alerts.KINDS
    assert f'"complaint_id":{late.id}' in alert.details and '"owner":"staff-1"' in alert.details
    assert late.reply_overdue_alert_id == alert.id and promised.reply_overdue_alert_id is None
    # The late reply closes the alert, with who and when.
    complaints.reply(session, staff, late.id, "Sorry for the wait", now=after + timedelta(hours=2))
    assert (alert.resolved_by, alert.resolved_at) == ("staff-1", after + timedelta(hours=2))
    reply_step = [s for s in complaint_history.steps(session, late.id) if s.action == "reply"][0]
    assert '"late":true' in reply_step.details
    assert complaints.overdue_replies(session, NOW + timedelta(days=4)) == [promised]


def test_the_desks_lists(session, users, colleague):
    staff = users["staff"]
    mine = take(session, staff)
    second = take(session, staff, unit="2-0202")
    theirs = take(session, colleague, unit="2-0203")
    filed = take(session, users["kiosk"], channel="kiosk", unit="2-0204")
    rows, cursor = complaints.list_complaints(session, owner_id=staff.user_id, open_only=True, now=NOW)
    assert rows == [second, mine] and cursor is None
    assert complaints.list_complaints(session, unowned=True, now=NOW)[0] == [filed]
    page, cursor = complaints.list_complaints(session, limit=2, now=NOW)
    assert page == [filed, theirs] and cursor == theirs.id
    assert complaints.list_complaints(session, before_id=cursor, now=NOW)[0] == [second, mine]
    later = NOW + timedelta(days=2)
    assert len(complaints.list_complaints(session, overdue=True, now=later)[0]) == 4
    assert complaints.list_complaints(session, overdue=True, now=NOW)[0] == []
    assert all(complaints.reply_overdue(row, later) for row in (mine, second, theirs, filed))
    assert complaints.list_complaints(session, unit="2 - 0203", now=NOW)[0] == [theirs]


def test_every_change_is_in_an_intact_audit_chain(session, users):
    staff = users["staff"]
    repair = take(session, staff, kind="repair", repair_scope="in_unit", category="equipment")
    order = work_orders.for_complaint(session, repair.id)
    walk(session, staff, repair.id, "acknowledged", "in_progress")
    work_orders.transition(session, staff, order.id, "completed", now=NOW + timedelta(hours=1))
    complaints.reassign(session, users["supervisor"], repair.id, "supervisor-1", "escalated", now=NOW)
    complaints.reply(session, users["supervisor"], repair.id, "fixed", now=NOW + timedelta(hours=2))
    events = session.scalars(select(AuditEvent.event).order_by(AuditEvent.seq)).all()
    assert events == ["complaint_taken", "work_order_changed", "complaint_changed", "complaint_changed",
                      "work_order_changed", "complaint_reassigned", "complaint_reply"]
    steps = complaint_history.steps(session, repair.id)
    assert len(steps) == len(events)
    assert sealed_verdict(session).ok


def test_a_refused_change_changes_nothing(session, users):
    complaint = take(session, users["staff"], channel="letter")
    session.commit()
    walk(session, users["staff"], complaint.id, "acknowledged", "resolved")
    complaints.transition(session, users["staff"], complaint.id, "followed_up", satisfied=True, now=NOW)
    session.commit()
    with pytest.raises(WrittenReplyRequired), unit_of_work(session):
        complaints.transition(session, users["staff"], complaint.id, "closed", now=NOW)
    assert complaints.get(session, complaint.id).state == "followed_up"


def test_two_staff_acknowledging_one_kiosk_filing_at_once_give_one_owner(engine, session, users, colleague):
    filed = take(session, users["kiosk"], channel="kiosk")
    session.commit()
    sessions = session_factory(engine, audit_key=AUDIT_KEY)
    barrier, outcomes = threading.Barrier(2), []

    def acknowledge(actor):
        with sessions() as mine:
            barrier.wait()
            try:
                with unit_of_work(mine):
                    complaints.transition(mine, actor, filed.id, "acknowledged", now=NOW)
                outcomes.append(("ok", actor.name))
            except NotComplaintOwner as error:
                # Too late: the other one owns it now, and the answer says who.
                outcomes.append((error.code, error.params["owner"]))

    threads = [threading.Thread(target=acknowledge, args=(actor,)) for actor in (users["staff"], colleague)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(code for code, _ in outcomes) == ["not_complaint_owner", "ok"]
    winner = next(name for code, name in outcomes if code == "ok")
    assert next(name for code, name in outcomes if code != "ok") == winner
    session.expire_all()
    assert complaints.get(session, filed.id).owner_name == winner
    assert len(complaint_history.steps(session, filed.id)) == 2


def test_the_text_limits_fit_the_columns():
    columns = Complaint.__table__.c
    for field in ("unit", "name", "contact"):
        assert complaint_policy.TEXT_LIMITS[field] == columns[field].type.length
    assert complaint_policy.TEXT_LIMITS["repair_location"] == WorkOrder.__table__.c.location.type.length


@pytest.mark.parametrize("contact, masked", [
    ("13912345678", "139****5678"), ("+86 139 1234 5678", "861******5678"), ("li.na@example.com", "l****@example.com"),
    ("北京市朝阳区建国路88号", "北京******"), ("", ""), (None, ""),
])
def test_contact_masking(contact, masked):
    assert mask_contact(contact) == masked


def test_a_kiosk_files_only_so_many_in_a_while(session, users):
    kiosk = users["kiosk"]
    for minute in range(complaint_policy.KIOSK_FILINGS):
        take(session, kiosk, now=NOW + timedelta(minutes=minute), channel="kiosk", unit=f"9-{minute:04d}")
    with pytest.raises(TooManyFilings) as error:
        take(session, kiosk, now=NOW + timedelta(minutes=9), channel="kiosk")
    assert error.value.status == 429 and error.value.params == {"limit": 10, "minutes": 10}
    # Another kiosk, the desk, and the same kiosk once the window has passed are not held back.
    take(session, Actor(name="kiosk:lobby-2", role="kiosk", device="lobby-2"), now=NOW, channel="kiosk")
    take(session, users["staff"], now=NOW + timedelta(minutes=9))
    take(session, kiosk, now=NOW + timedelta(minutes=10, seconds=1), channel="kiosk")


def test_next_states_say_what_this_actor_may_do(session, users, colleague):
    filed = take(session, users["kiosk"], channel="kiosk")
    assert complaints.next_states(colleague, filed) == ["acknowledged"]
    assert complaints.next_states(users["kiosk"], filed) == []
    complaints.transition(session, users["staff"], filed.id, "acknowledged", now=NOW)
    assert complaints.next_states(users["staff"], filed) == ["in_progress", "resolved"]
    assert complaints.next_states(colleague, filed) == []
    assert complaints.next_states(users["supervisor"], filed) == ["in_progress", "resolved"]


def test_engineering_sees_the_work_orders_not_yet_done(session, users):
    staff = users["staff"]
    public = take(session, staff, kind="repair", repair_scope="public", category="equipment")
    in_unit = take(session, staff, kind="repair", repair_scope="in_unit", category="equipment", unit="1-0101")
    orders = {c.id: work_orders.for_complaint(session, c.id) for c in (public, in_unit)}
    for order in orders.values():
        work_orders.transition(session, staff, order.id, "completed", now=NOW)
    assert [o.complaint_id for o in work_orders.list_orders(session, state="open")] == [public.id]
    assert len(work_orders.list_orders(session, state="completed")) == 2
    with pytest.raises(InvalidInput):
        work_orders.list_orders(session, state="lost")
