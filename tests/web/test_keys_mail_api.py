"""Keys, mail and the outbox through the API: behaviour, and their part of the contract scenario."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kiosk import outbox, residents
from kiosk.db import session_factory, transaction
from kiosk.models import AuditEvent, Notification
from kiosk.values import Actor, ResidentForm
from tests.conftest import AUDIT_KEY

SHANGHAI = ZoneInfo("Asia/Shanghai")


def register_residents(engine):
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        admin = Actor(name="admin-1", role="admin")
        if residents.find(session, "12-0301", "张伟") is None:
            residents.add(session, admin, ResidentForm("12-0301", "张伟", "13812345678",
                                                       email="zhang.wei@example.com"))
            residents.add(session, admin, ResidentForm("8-1502", "Alice Wong", "+852 9123 4567", locale="en",
                                                       courier_consent=True))


def key_body(**changes) -> dict:
    body = {"owner": {"unit": "5-2201", "name": "陈静", "phone": "13611112222"},
            "consent": {"given_by": "陈静", "channel": "signature"}, "handed_over": False,
            "description": "单元门钥匙 2 把", "collector": {"name": "陈刚"}, "cabinet_slot": "hook 12"}
    body.update(changes)
    return body


def later_today(hours: float) -> str:
    """A due-back time a few hours from now that is still today at the desk (or the test waits for tomorrow)."""
    now = datetime.now(SHANGHAI)
    due = now + timedelta(hours=hours)
    if due.date() != now.date():
        pytest.skip("too close to midnight at the desk for a same-day loan")
    return due.isoformat()


def loan_body(**changes) -> dict:
    body = {"borrower": {"name": "王师傅", "phone": "13900001111", "company": "安居维修"},
            "purpose": "厨房漏水维修", "due_back_at": later_today(0.5)}
    body.update(changes)
    return body


def mail_body(**changes) -> dict:
    body = {"kind": "parcel", "recipient": {"unit": "12-0301", "name": "张伟"}, "carrier": "EMS",
            "mail_class": "express", "description": "EMS 包裹"}
    body.update(changes)
    return body


def exercise_keys_and_mail(call, engine):
    """Every keys, mail and notifications operation, for the contract scenario (tests/web/test_contract.py)."""
    register_residents(engine)
    key = call("POST", "/keys", json=key_body(), expect=201).get_json()
    call("POST", "/keys", json=key_body(consent={"given_by": "陈静", "channel": "nod"}), expect=422)
    loan = call("POST", f"/items/{key['id']}/loans", json=loan_body(), expect=201).get_json()
    call("POST", f"/items/{key['id']}/loans", json=loan_body(), expect=409)
    call("POST", f"/items/{key['id']}/loans", json=loan_body(due_back_at="2000-01-01T00:00+08:00"), expect=422)
    call("GET", "/loans?state=out", expect=200)
    call("GET", "/loans?state=lost", expect=422)
    call("POST", f"/loans/{loan['id']}/phone", json={"reason": "key late"}, expect=200)
    call("POST", f"/loans/{loan['id']}/return", expect=200)
    call("POST", f"/loans/{loan['id']}/return", expect=409)
    call("POST", "/loans/99999/return", expect=404)

    parcel = call("POST", "/mail", json=mail_body(), expect=201).get_json()
    call("POST", "/mail", json=mail_body(recipient={"unit": "12-0301", "name": "路人甲"}), expect=422)
    call("GET", f"/items/{parcel['id']}/notifications", expect=200)
    call("POST", f"/mail/{parcel['id']}/pickup", json={"tag_code": parcel["tag_code"], "signature": "张伟"},
         expect=422)
    call("POST", f"/mail/{parcel['id']}/pickup", json={
        "tag_code": parcel["tag_code"], "pickup_code": parcel["pickup_code"], "signature": "张伟"}, expect=200)
    letter = call("POST", "/mail", json=mail_body(kind="mail", carrier="post", mail_class="registered"),
                  expect=201).get_json()
    call("POST", f"/mail/{letter['id']}/undeliverable", json={"reason": "refused_by_addressee"}, expect=200)
    call("POST", f"/mail/{letter['id']}/undeliverable", json={"reason": "unclaimed"}, expect=409)
    call("GET", "/mail/returns", expect=200)
    call("POST", f"/mail/{letter['id']}/return-to-post", json={"post_worker": "邮递员 刘"}, expect=200)
    call("POST", f"/mail/{parcel['id']}/return-to-post", json={"post_worker": "刘"}, expect=409)

    messages = call("GET", "/notifications?state=all", expect=200).get_json()["notifications"]
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        message = session.get(Notification, messages[0]["id"])
        message.status, message.last_error_code = "in_doubt", "worker_lost"
    call("GET", "/notifications", expect=200)
    call("POST", f"/notifications/{messages[0]['id']}/review", json={"outcome": "delivered"}, expect=200)
    call("POST", f"/notifications/{messages[0]['id']}/review", json={"outcome": "delivered"}, expect=409)


def test_a_key_deposited_lent_and_returned(api, engine):
    key = api.post("/keys", json=key_body()).get_json()
    assert (key["kind"], key["location"], key["item"]["consent"]) == (
        "key", "key_cabinet", {"given_by": "陈静", "channel": "signature"})
    assert key["item"]["key_handed_over"] is False and key["stub_code"]
    assert key["print_job"]["status"] == "queued"

    loan = api.post(f"/items/{key['id']}/loans", json=loan_body()).get_json()
    assert loan["state"] == "out" and loan["borrower"] == {
        "name": "王师傅", "company": "安居维修", "phone_masked": "139****1111"}
    assert api.get(f"/items/{key['id']}").get_json()["status"] == "lent"
    out = api.get("/loans?state=out").get_json()["loans"]
    assert [l["id"] for l in out] == [loan["id"]] and "13900001111" not in str(out)
    assert api.get("/loans?state=out", role="security").status_code == 200

    revealed = api.post(f"/loans/{loan['id']}/phone", json={"reason": "key late"})
    assert revealed.get_json() == {"loan_id": loan["id"], "phone": "13900001111"}
    assert revealed.headers["Cache-Control"] == "no-store"
    assert api.post(f"/loans/{loan['id']}/phone", role="security", json={}).status_code == 403

    back = api.post(f"/loans/{loan['id']}/return").get_json()
    assert back["state"] == "returned" and back["returned_by"] == "staff-1"
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        events = list(session.scalars(select(AuditEvent.event).where(AuditEvent.item_id == key["id"])
                                      .order_by(AuditEvent.seq)))
    assert events == ["deposit", "lend", "reveal", "key_return"]


def test_long_or_overnight_loans_need_a_supervisor(api):
    key = api.post("/keys", json=key_body(handed_over=True)).get_json()
    tomorrow = (datetime.now(SHANGHAI) + timedelta(days=1)).replace(hour=9, minute=0).isoformat()
    refused = api.post(f"/items/{key['id']}/loans", json=loan_body(due_back_at=tomorrow))
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "owner_consent_required"
    consent = {"given_by": "陈静", "channel": "phone"}
    refused = api.post(f"/items/{key['id']}/loans", json=loan_body(due_back_at=tomorrow, owner_consent=consent),
                       headers={"Accept-Language": "zh-CN"})
    error = refused.get_json()["error"]
    assert refused.status_code == 422 and error["code"] in ("loan_overnight", "loan_too_long")
    assert "主管" in error["message"]
    approval = {"reason": "水管爆裂,业主不在"}
    staff = api.post(f"/items/{key['id']}/loans",
                     json=loan_body(due_back_at=tomorrow, owner_consent=consent, approval=approval))
    assert (staff.status_code, staff.get_json()["error"]["code"]) == (403, "approval_not_allowed")
    approved = api.post(f"/items/{key['id']}/loans", role="supervisor",
                        json=loan_body(due_back_at=tomorrow, owner_consent=consent, approval=approval))
    assert approved.status_code == 201
    assert approved.get_json()["approval"]["by"] == "supervisor-1"
    assert "loan_overnight" in approved.get_json()["approval"]["rules"]
    assert approved.get_json()["owner_consent"] == consent


def test_parcel_intake_pickup_and_the_notices_on_the_item(api, engine):
    register_residents(engine)
    refused = api.post("/mail", json=mail_body(recipient={"unit": "12-0301", "name": "路人甲"}))
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (422, "not_a_resident")
    courier = api.post("/mail", json=mail_body(carrier="DHL"))
    assert courier.get_json()["error"]["code"] == "owner_consent_required"
    parcel = api.post("/mail", json=mail_body(perishable=True)).get_json()
    assert parcel["pickup_code"] and parcel["item"]["perishable"] is True
    assert parcel["item"]["owner"]["email_masked"] == "z********@example.com"
    assert [(n["channel"], n["address_masked"], n["status"]) for n in parcel["notifications"]] == [
        ("sms", "138****5678", "queued"), ("email", "z********@example.com", "queued")]
    notes = api.get(f"/items/{parcel['id']}/notifications").get_json()["notifications"]
    assert [n["id"] for n in notes] == [n["id"] for n in parcel["notifications"]]

    neighbour = api.post(f"/mail/{parcel['id']}/pickup", json={
        "tag_code": parcel["tag_code"], "signature": "王五",
        "collector": {"name": "王五", "id_type": "resident_id", "id_last4": "1234"}})
    assert neighbour.get_json()["error"]["code"] == "collector_not_of_unit"
    done = api.post(f"/mail/{parcel['id']}/pickup", json={
        "tag_code": parcel["tag_code"], "pickup_code": parcel["pickup_code"], "signature": "张伟"}).get_json()
    assert done["status"] == "released" and done["release"]["signature"] == "张伟"


def test_an_undeliverable_letter_goes_back_to_the_post(api, engine):
    register_residents(engine)
    stray = api.post("/mail", json=mail_body(kind="mail", carrier="post", mail_class="ordinary",
                                             recipient={"unit": "3-0101", "name": "钱七"}, return_to_post=True))
    body = stray.get_json()
    assert stray.status_code == 201 and body["notifications"] == []
    assert body["item"]["undeliverable"]["reason"] == "not_a_resident"
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        assert outbox.for_item(session, body["id"]) == []
    listed = api.get("/mail/returns").get_json()["letters"]
    assert [(l["item"]["id"], l["late"]) for l in listed] == [(body["id"], False)]
    returned = api.post(f"/mail/{body['id']}/return-to-post", json={"post_worker": "邮递员 刘"}).get_json()
    assert returned["status"] == "returned" and returned["release"]["collector"]["name"] == "邮递员 刘"
    assert api.get("/mail/returns").get_json()["letters"] == []


def test_the_outbox_for_staff(api, engine):
    register_residents(engine)
    parcel = api.post("/mail", json=mail_body()).get_json()
    open_now = api.get("/notifications").get_json()["notifications"]
    assert {n["item_id"] for n in open_now} == {parcel["id"]}
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        message = session.get(Notification, open_now[0]["id"])
        message.status = "in_doubt"
    settled = api.post(f"/notifications/{open_now[0]['id']}/review", json={"outcome": "resend", "note": "no log"})
    assert settled.get_json()["status"] == "queued" and settled.get_json()["reviewed_by"] == "staff-1"
    assert api.get("/notifications", role="security").status_code == 403


def test_the_key_envelope_carries_unit_date_and_collector(api, app, engine):
    from printing import layout_label
    from printing.layout import Text
    from web.auth import desk
    from web.labels import label_for

    key = api.post("/keys", json=key_body()).get_json()
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        from kiosk.models import Item

        label = label_for(session.get(Item, key["id"]), desk(app), reprint=False, timezone="Asia/Shanghai")
    envelope = layout_label(label).parts[0]
    lines = [block.text for block in envelope.blocks if isinstance(block, Text)]
    deposited = datetime.fromisoformat(key["item"]["deposited_at"]).astimezone(SHANGHAI)
    assert envelope.role == "envelope"
    assert "房号 Unit: 5-2201" in lines and f"日期 Date: {deposited:%Y-%m-%d}" in lines
    assert "指定领取人 Collector: 陈*" in lines
    assert any("钥匙柜 Key cabinet hook 12" in line for line in lines)
