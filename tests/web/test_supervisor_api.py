"""The supervisor's API: lists by urgency, the CSV people take away, the contact log, disposal by two people."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from kiosk import residents
from kiosk.db import session_factory, transaction
from kiosk.models import AuditEvent, Item
from kiosk.values import Actor, ResidentForm
from tests.conftest import AUDIT_KEY, key_deposit, luggage


def backdate(engine, item_id: int, days: float, pickup_days_ago: float | None = None) -> None:
    """Move a deposit into the past, as if it had waited ``days``."""
    now = datetime.now(UTC)
    values = {"deposited_at": now - timedelta(days=days)}
    if pickup_days_ago is not None:
        values["expected_pickup_at"] = now - timedelta(days=pickup_days_ago)
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        session.execute(update(Item).where(Item.id == item_id).values(**values))


@pytest.fixture
def desk_items(api, engine):
    late_bag = api.post("/items", json=luggage(description="suitcase")).get_json()
    backdate(engine, late_bag["id"], days=3, pickup_days_ago=1)
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        residents.add(session, Actor(name="admin-1", role="admin"), ResidentForm("3-0102", "王小明", "13912345678"))
    parcel = api.post("/mail", json={"kind": "parcel", "recipient": {"unit": "3-0102", "name": "王小明"},
                                     "carrier": "EMS", "description": "=cmd|' /C calc'!A0"}).get_json()
    backdate(engine, parcel["id"], days=2)
    fresh = api.post("/keys", json=key_deposit()).get_json()
    return {"late_bag": late_bag["id"], "parcel": parcel["id"], "fresh": fresh["id"]}


def test_the_list_by_urgency_carries_each_items_policy_status(api, desk_items):
    page = api.get("/items?order=urgency", role="supervisor").get_json()
    assert [(i["id"], i["policy"]["status"], i["policy"]["overdue"]) for i in page["items"]] == [
        (desk_items["late_bag"], "past_expected_pickup", True), (desk_items["parcel"], "owner_not_reached", True),
        (desk_items["fresh"], "ok", False)]
    first = api.get("/items?order=urgency&limit=1", role="supervisor").get_json()
    second = api.get(f"/items?order=urgency&limit=1&cursor={first['next_cursor']}", role="supervisor").get_json()
    assert second["items"][0]["id"] == desk_items["parcel"]
    overdue = api.get("/items?overdue=true&location=mail_shelf", role="supervisor").get_json()["items"]
    assert [i["id"] for i in overdue] == [desk_items["parcel"]]
    policy = api.get("/items?policy=ok", role="supervisor").get_json()["items"]
    assert [i["id"] for i in policy] == [desk_items["fresh"]]
    wrong = api.get(f"/items?order=urgency&cursor={desk_items['fresh']}", role="supervisor")
    assert (wrong.status_code, wrong.get_json()["error"]["code"]) == (422, "invalid_cursor")


def csv_rows(response) -> list[dict]:
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_the_csv_is_the_same_list_streamed_with_phones_masked(api, desk_items):
    response = api.get("/items.csv?order=urgency", role="supervisor")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="items-')
    rows = csv_rows(response)
    listed = api.get("/items?order=urgency", role="supervisor").get_json()["items"]
    assert [r["Ticket"] for r in rows] == [i["ticket_no"] for i in listed]
    parcel = rows[1]
    assert (parcel["Kind"], parcel["Follow-up"], parcel["Owner"], parcel["Phone"]) == (
        "Parcel", "Owner not reached", "王小明", "139****5678")
    assert parcel["Description"] == "'=cmd|' /C calc'!A0"      # shown as text, never run as a formula
    assert "13912345678" not in response.data.decode("utf-8-sig")
    filtered = csv_rows(api.get("/items.csv?kind=key", role="supervisor"))
    assert [r["Ticket"] for r in filtered] == [i["ticket_no"] for i in listed if i["kind"] == "key"]


def test_the_csv_speaks_the_readers_language(api, desk_items):
    rows = csv_rows(api.get("/items.csv?kind=parcel", role="supervisor", headers={"Accept-Language": "zh-CN"}))
    assert (rows[0]["类别"], rows[0]["跟进状态"], rows[0]["存放位置"]) == ("包裹", "未联系上寄存人", "邮件架")


def test_contacts_are_logged_and_shown_with_the_next_one_due(api, desk_items):
    parcel = desk_items["parcel"]
    empty = api.get(f"/items/{parcel}/contacts").get_json()
    assert empty["contacts"] == [] and empty["next_contact"]["reason"] == "first_notice"
    assert empty["next_contact"]["late"] is True and empty["policy"]["status"] == "owner_not_reached"
    logged = api.post(f"/items/{parcel}/contacts", json={"method": "phone", "outcome": "no_answer",
                                                         "note": "rang at the door too"})
    assert logged.status_code == 201
    log = logged.get_json()
    assert [(c["method"], c["outcome"], c["staff"], c["note"]) for c in log["contacts"]] == [
        ("phone", "no_answer", "staff-1", "rang at the door too")]
    assert log["next_contact"]["reason"] == "retry" and log["next_contact"]["late"] is False
    promised = api.post(f"/items/{parcel}/contacts", role="supervisor", json={
        "method": "phone", "outcome": "promised_pickup",
        "promised_at": (datetime.now(UTC) + timedelta(hours=3)).isoformat()}).get_json()
    assert promised["policy"]["status"] == "ok" and promised["next_contact"]["reason"] == "promised_pickup_passed"
    refused = api.post(f"/items/{parcel}/contacts", json={"method": "phone", "outcome": "promised_pickup"})
    assert refused.get_json()["error"] == {"code": "missing_field", "field": "promised_at",
                                           "message": "promised_at is required."}
    zh = api.post(f"/items/{parcel}/contacts", json={"method": "notice_slip", "outcome": "reached"},
                  headers={"Accept-Language": "zh-CN"}).get_json()["error"]
    assert zh["code"] == "invalid_outcome" and zh["message"] == "该联系方式的结果只能是：left_message。"


def test_disposal_needs_a_second_supervisor(api, desk_items, session):
    bag = desk_items["late_bag"]
    asked = api.post(f"/items/{bag}/disposal-requests", json={"action": "dispose", "reason": "mould"}, role="supervisor")
    assert asked.status_code == 201 and asked.get_json()["state"] == "pending"
    request_id = asked.get_json()["id"]
    same = api.post(f"/disposal-requests/{request_id}/approve", role="supervisor", json={})
    assert same.status_code == 409
    assert same.get_json()["error"]["code"] == "second_approver_required"
    assert same.get_json()["error"]["requested_by"] == "supervisor-1"
    assert api.get(f"/items/{bag}").get_json()["status"] == "held"
    staff = api.post(f"/disposal-requests/{request_id}/approve", role="staff", json={})
    assert (staff.status_code, staff.get_json()["error"]["code"]) == (403, "forbidden")
    pending = api.get("/disposal-requests", role="admin").get_json()["requests"]
    assert [r["id"] for r in pending] == [request_id]
    approved = api.post(f"/disposal-requests/{request_id}/approve", role="admin", json={"note": "photographed"})
    assert approved.status_code == 200 and approved.get_json()["decided_by"] == "admin-1"
    item = api.get(f"/items/{bag}").get_json()
    assert item["status"] == "disposed" and item["release"]["by"] == "admin-1"
    trail = [e["event"] for e in api.get(f"/items/{bag}/events", role="security").get_json()["events"]]
    assert trail[-3:] == ["disposal_requested", "disposal_refused", "disposed"]
    assert session.scalar(select(AuditEvent.actor).where(AuditEvent.event == "disposal_refused")) == "supervisor-1"


def test_mail_goes_back_to_the_post_office_and_is_never_disposed_of(api, desk_items):
    parcel = desk_items["parcel"]
    refused = api.post(f"/items/{parcel}/disposal-requests", json={"action": "dispose", "reason": "x"})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (409, "mail_returns_to_post")
    marked = api.post(f"/mail/{parcel}/undeliverable", json={"reason": "moved_out"})
    assert marked.status_code == 200
    listed = api.get("/items?kind=parcel", role="supervisor").get_json()["items"]
    assert listed[0]["policy"]["status"] == "return_to_post"
    back = api.post(f"/mail/{parcel}/return-to-post", json={"post_worker": "李师傅"}).get_json()
    assert back["status"] == "returned" and back["release"]["collector"]["name"] == "李师傅"
    assert api.get("/items?status=returned", role="supervisor").get_json()["items"][0]["id"] == parcel


def test_summary_and_chart_data(api, desk_items):
    summary = api.get("/supervisor/summary", role="supervisor").get_json()
    assert (summary["held"], summary["overdue"]) == (3, 2)
    assert summary["counts"]["past_expected_pickup"] == 1 and summary["counts"]["owner_not_reached"] == 1
    assert api.get("/supervisor/summary?kind=key", role="supervisor").get_json()["overdue"] == 0
    held = api.get("/supervisor/charts/held?days=30", role="supervisor").get_json()
    assert len(held["days"]) == 30 and held["kinds"]["luggage"]["held"][-5:] == [0, 1, 1, 1, 1]
    assert held["kinds"]["luggage"]["overdue"][-1] == 1
    traffic = api.get("/supervisor/charts/traffic?days=90", role="supervisor").get_json()
    assert traffic["days"] == 90 and sum(traffic["deposits"]) == 3 and len(traffic["releases"]) == 24
    assert api.get("/supervisor/charts/held?days=7", role="supervisor").status_code == 422


def test_a_reminder_to_the_owner_is_queued_once_and_sent_once(api, app, desk_items):
    from web.notify_worker import run_once

    bag, parcel = desk_items["late_bag"], desk_items["parcel"]
    first = api.post(f"/items/{bag}/notify", json={"channel": "sms"}, role="supervisor")
    assert first.status_code == 201 and first.get_json()["queued"] is True
    message = first.get_json()["notification"]
    assert (message["channel"], message["template"], message["status"], message["address_masked"]) == (
        "sms", "item_reminder", "queued", "138****5678")
    twice = api.post(f"/items/{bag}/notify", json={"channel": "sms"})          # a double click, another clerk
    assert twice.status_code == 200 and twice.get_json() == {**first.get_json(), "queued": False}
    slip = api.post(f"/items/{bag}/notify", json={"channel": "notice_slip"})
    assert (slip.status_code, slip.get_json()["error"]["code"]) == (422, "invalid_notify_channel")
    assert api.post(f"/items/{parcel}/notify", json={"channel": "notice_slip"}).status_code == 201
    nobody = api.post(f"/items/{bag}/notify", json={"channel": "email"}, headers={"Accept-Language": "zh-CN"})
    assert nobody.get_json()["error"]["code"] == "no_owner_address" and "寄存人" in nobody.get_json()["error"]["message"]

    class Phone:
        channel, resend_safe, transactional = "sms", True, False

        def __init__(self):
            self.texts = []

        def send(self, message, go_ahead):
            from notifying.message import Receipt

            assert go_ahead()
            self.texts.append(message)
            return Receipt(reference=f"sms-{len(self.texts)}")

    phone = Phone()
    run_once(app, senders={"sms": phone})
    run_once(app, senders={"sms": phone})
    reminders = [t for t in phone.texts if "A-0001" in t.text]
    assert len(reminders) == 1 and "K1S" not in reminders[0].text        # the stub's code never goes out
    log = api.get(f"/items/{bag}/notifications").get_json()["notifications"]
    assert [(n["template"], n["status"]) for n in log] == [("item_reminder", "sent")]
    again = api.post(f"/items/{bag}/notify", json={"channel": "sms"})    # sent: the next one is a new message
    assert again.status_code == 201 and again.get_json()["notification"]["id"] != message["id"]
    trail = [e["event"] for e in api.get(f"/items/{bag}/events", role="security").get_json()["events"]]
    assert trail.count("notify_requested") == 2
