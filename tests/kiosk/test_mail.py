"""Mail and parcels: the residents register, intake, notices queued, pickup, return to the post office."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kiosk import mail, notices, outbox, residents
from kiosk.db import unit_of_work
from kiosk.errors import AlreadyReleased, Conflict, ConsentRequired, InvalidInput, NotAResident, StubMismatch
from kiosk.models import AuditEvent, Item, Notification
from kiosk.values import Collector, Consent, MailForm, ResidentForm
from tests.conftest import sealed_verdict

# 14:20 in Shanghai.
NOW = datetime(2026, 11, 22, 6, 20, tzinfo=UTC)


def local(hour: int, minute: int = 0, day: int = 22) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def register(session, users):
    people = [
        ResidentForm(unit="12-0301", name="张伟", phone="13812345678", email="zhang.wei@example.com"),
        ResidentForm(unit="12-0301", name="李娜", phone="13987654321"),
        ResidentForm(unit="8-1502", name="Alice Wong", phone="+852 9123 4567", locale="en", courier_consent=True),
    ]
    added = [residents.add(session, users["admin"], person, now=NOW - timedelta(days=30)) for person in people]
    session.commit()
    return added


def parcel(**changes) -> MailForm:
    values = dict(kind="parcel", unit="12-0301", name="张伟", carrier="EMS", mail_class="express",
                  description="EMS 包裹")
    values.update(changes)
    return MailForm(**values)


def events(session, item_id=None) -> list[str]:
    query = select(AuditEvent.event).order_by(AuditEvent.seq)
    if item_id is not None:
        query = query.where(AuditEvent.item_id == item_id)
    return list(session.scalars(query))


def test_the_register_finds_residents_by_unit_and_name_as_people_write_them(session, users, register):
    assert residents.find(session, "12-0301", " 张伟 ").id == register[0].id
    assert residents.find(session, "8-1502", "alice   WONG").id == register[2].id
    assert residents.find(session, "12-0302", "张伟") is None
    with pytest.raises(Conflict) as error:
        residents.add(session, users["admin"], ResidentForm(unit="12-0301", name="张伟", phone="13800000000"))
    assert error.value.code == "resident_exists"
    with pytest.raises(InvalidInput) as error:
        residents.add(session, users["admin"], ResidentForm(unit="1-1", name="X", phone="13800000000",
                                                            email="not an address"))
    assert error.value.code == "invalid_email"
    residents.move_out(session, users["admin"], register[1].id, now=NOW)
    assert residents.find(session, "12-0301", "李娜") is None
    assert residents.former(session, "12-0301", "李娜").id == register[1].id
    assert [r.name for r in residents.of_unit(session, "12-0301")] == ["张伟"]
    assert events(session)[-1] == "resident_moved_out"


def test_intake_registers_the_item_and_queues_the_owners_notice_in_the_same_transaction(session, desk, users,
                                                                                       register):
    with unit_of_work(session):
        result = mail.intake(session, desk, users["staff"], parcel(perishable=True), now=NOW)
    item = result.item
    assert (item.kind, item.location, item.carrier, item.mail_class) == ("parcel", "mail_shelf", "EMS", "express")
    assert item.urgent and item.perishable and item.owner_email == "zhang.wei@example.com"
    assert result.deposit.claim_role == "pickup"
    messages = outbox.for_item(session, item.id)
    assert [(m.channel, m.address, m.template, m.attempt, m.status) for m in messages] == [
        ("sms", "13812345678", "mail_arrived", 0, "queued"),
        ("email", "zhang.wei@example.com", "mail_arrived", 0, "queued"),
    ]
    assert len({m.idempotency_key for m in messages}) == 2
    assert outbox.params_of(messages[0])["perishable"] is True
    # express: the next reminder an hour later
    assert item.next_notify_at == NOW + timedelta(hours=1)


def test_a_failed_intake_leaves_no_message_behind(session, desk, users, register):
    with pytest.raises(InvalidInput), unit_of_work(session):
        mail.intake(session, desk, users["staff"], parcel(mail_class="urgent!"), now=NOW)
    assert session.scalars(select(Notification)).all() == []


def test_ordinary_mail_is_notified_once(session, desk, users, register):
    result = mail.intake(session, desk, users["staff"], parcel(kind="mail", carrier="post", mail_class="ordinary"),
                         now=NOW)
    assert not result.item.urgent and result.item.next_notify_at is None
    assert [m.channel for m in result.notifications] == ["sms", "email"]


def test_a_parcel_for_someone_not_living_here_is_refused_with_a_trace(session, desk, users, register):
    with pytest.raises(NotAResident) as error, unit_of_work(session):
        mail.intake(session, desk, users["staff"], parcel(carrier="SF", name="赵六",
                                                          consent=Consent("赵六", "phone")), now=NOW)
    assert (error.value.status, error.value.params["former_resident"], error.value.params["postal"]) == (
        422, False, False)
    assert session.scalars(select(Item)).all() == []
    assert events(session)[-1] == "refusal"
    residents.move_out(session, users["admin"], register[1].id, now=NOW)
    with pytest.raises(NotAResident) as error:
        mail.intake(session, desk, users["staff"], parcel(name="李娜"), now=NOW)
    assert error.value.params["former_resident"] is True


def test_private_couriers_need_the_owners_consent(session, desk, users, register):
    with pytest.raises(ConsentRequired) as error:
        mail.intake(session, desk, users["staff"], parcel(carrier="DHL"), now=NOW)
    assert (error.value.code, error.value.params["carrier"]) == ("owner_consent_required", "DHL")
    with pytest.raises(ConsentRequired):
        mail.intake(session, desk, users["staff"], parcel(carrier="顺丰 SF"), now=NOW)
    called = mail.intake(session, desk, users["staff"], parcel(carrier="DHL", consent=Consent("张伟", "phone")),
                         now=NOW).item
    assert (called.consent_by, called.consent_channel) == ("张伟", "phone")
    # Alice told the desk once and for all that it may sign for her courier parcels.
    standing = mail.intake(session, desk, users["staff"], parcel(unit="8-1502", name="Alice Wong", carrier="UPS"),
                           now=NOW).item
    assert standing.consent_by is None
    assert {m.locale for m in outbox.for_item(session, standing.id)} == {"en"}


def test_pickup_with_the_pickup_code_and_a_typed_signature(session, desk, users, register):
    result = mail.intake(session, desk, users["staff"], parcel(), now=NOW)
    with pytest.raises(InvalidInput) as error:
        mail.pickup(session, desk, users["staff"], result.item.id, tag_code=result.deposit.tag_code,
                    pickup_code=result.deposit.claim_code, signature=" ")
    assert (error.value.code, error.value.field) == ("missing_field", "signature")
    item = mail.pickup(session, desk, users["staff"], result.item.id, tag_code=result.deposit.tag_code,
                       pickup_code=result.deposit.claim_code, signature="张伟", now=NOW + timedelta(hours=2))
    assert (item.status, item.release_method, item.collector_signature) == ("released", "stub", "张伟")
    assert item.next_notify_at is None
    release = session.scalars(select(AuditEvent).where(AuditEvent.event == "release")).one()
    assert '"signature":"张伟"' in release.details
    with pytest.raises(AlreadyReleased):
        mail.pickup(session, desk, users["staff"], result.item.id, tag_code=result.deposit.tag_code,
                    pickup_code=result.deposit.claim_code, signature="张伟")


def test_pickup_by_identity_only_for_the_addressee_or_the_household(session, desk, users, register):
    result = mail.intake(session, desk, users["staff"], parcel(), now=NOW)
    session.commit()
    neighbour = Collector(name="王五", id_type="resident_id", id_last4="4321")
    with pytest.raises(InvalidInput) as error, unit_of_work(session):
        mail.pickup(session, desk, users["staff"], result.item.id, tag_code=result.deposit.tag_code,
                    collector=neighbour, signature="王五", now=NOW)
    assert error.value.code == "collector_not_of_unit"
    assert events(session, result.item.id)[-1] == "release_refused"
    with pytest.raises(InvalidInput) as error:
        mail.pickup(session, desk, users["staff"], result.item.id, tag_code=result.deposit.tag_code,
                    signature="李娜", now=NOW)
    assert error.value.code == "pickup_needs_code_or_id"
    household = Collector(name="李娜", id_type="resident_id", id_last4="5678")
    item = mail.pickup(session, desk, users["staff"], result.item.id, tag_code=result.deposit.tag_code,
                       collector=household, signature="李娜", now=NOW)
    assert (item.release_method, item.collector_name, item.collector_id_last4) == ("identity", "李娜", "5678")


def test_the_pickup_code_of_another_parcel_does_not_open_this_one(session, desk, users, register):
    first = mail.intake(session, desk, users["staff"], parcel(), now=NOW)
    second = mail.intake(session, desk, users["staff"], parcel(), now=NOW)
    with pytest.raises(StubMismatch):
        mail.pickup(session, desk, users["staff"], first.item.id, tag_code=first.deposit.tag_code,
                    pickup_code=second.deposit.claim_code, signature="张伟")


def test_undeliverable_letters_are_listed_and_returned_to_the_post_office(session, desk, users, register):
    stray = mail.intake(session, desk, users["staff"], MailForm(kind="mail", unit="3-0101", name="钱七",
                                                                carrier="post", return_to_post=True), now=NOW)
    assert stray.notifications == [] and stray.item.undeliverable_reason == "not_a_resident"
    with pytest.raises(InvalidInput) as error:
        mail.intake(session, desk, users["staff"], parcel(name="钱七", carrier="SF", return_to_post=True), now=NOW)
    assert error.value.code == "return_to_post_is_postal_only"
    kept = mail.intake(session, desk, users["staff"], parcel(kind="mail", carrier="post", mail_class="registered"),
                       now=NOW + timedelta(days=1))
    mail.mark_undeliverable(session, users["staff"], kept.item.id, "refused_by_addressee",
                            now=NOW + timedelta(days=1))
    assert kept.item.next_notify_at is None
    assert {m.status for m in outbox.for_item(session, kept.item.id)} == {"cancelled"}
    with pytest.raises(Conflict):
        mail.mark_undeliverable(session, users["staff"], kept.item.id, "unclaimed")

    listed = mail.for_return(session, now=NOW + timedelta(days=3, hours=1))
    assert [(r.item.id, r.late) for r in listed] == [(stray.item.id, True), (kept.item.id, False)]
    assert listed[0].return_by == NOW + timedelta(days=3)

    with pytest.raises(InvalidInput) as error:
        mail.return_to_post(session, users["staff"], stray.item.id, post_worker="")
    assert error.value.field == "post_worker"
    returned = mail.return_to_post(session, users["staff"], stray.item.id, post_worker="邮递员 刘",
                                   now=NOW + timedelta(days=2))
    assert (returned.status, returned.release_method, returned.collector_name) == (
        "returned", "returned_to_post", "邮递员 刘")
    assert [r.item.id for r in mail.for_return(session, now=NOW + timedelta(days=2))] == [kept.item.id]
    event = session.scalars(select(AuditEvent).where(AuditEvent.event == "returned_to_post")).one()
    assert '"post_worker":"邮递员 刘"' in event.details and '"late":false' in event.details
    delivered = mail.intake(session, desk, users["staff"], parcel(), now=NOW)
    with pytest.raises(Conflict) as error:
        mail.return_to_post(session, users["staff"], delivered.item.id, post_worker="刘")
    assert error.value.code == "not_undeliverable"
    session.commit()
    assert sealed_verdict(session).ok


def test_reminders_follow_the_schedule_and_stop_when_collected(session, desk, users, register):
    result = mail.intake(session, desk, users["staff"], parcel(), now=local(18, 10))
    session.commit()
    assert notices.queue_due(session, desk.zone, now=local(18, 59)) == []
    assert [i.id for i in notices.queue_due(session, desk.zone, now=local(19))] == [result.item.id]
    item = session.get(Item, result.item.id)
    assert item.next_notify_at == local(19, 30)
    assert notices.queue_due(session, desk.zone, now=local(19, 1)) == []   # once per attempt
    for step in [(19, 30), (20, 0), (20, 30), (21, 0), (21, 30)]:
        notices.queue_due(session, desk.zone, now=local(*step))
    # The 22:00 call is the last of the day: a written notice goes into the mailbox as well.
    notices.queue_due(session, desk.zone, now=local(22))
    assert item.next_notify_at == local(8, day=23)
    by_attempt = {}
    for m in outbox.for_item(session, item.id):
        by_attempt.setdefault(m.attempt, []).append(m.channel)
    assert by_attempt[0] == ["sms", "email"] and by_attempt[7] == ["sms", "email", "slip"]
    assert len(by_attempt) == 8
    # Nothing was sent meanwhile (no worker): only the latest attempt is still owed.
    owed = [m for m in outbox.for_item(session, item.id) if m.status == "queued"]
    assert {m.attempt for m in owed} == {7}
    mail.pickup(session, desk, users["staff"], item.id, tag_code=result.deposit.tag_code,
                pickup_code=result.deposit.claim_code, signature="张伟", now=local(7, day=23))
    assert notices.queue_due(session, desk.zone, now=local(8, day=23)) == []
    claimed = outbox.claim_due(session, channels=("sms", "email", "slip"), now=local(8, day=23))
    assert claimed == [] and {m.status for m in outbox.for_item(session, item.id)} == {"cancelled"}
