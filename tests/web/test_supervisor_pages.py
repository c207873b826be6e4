"""The supervisor's and security's pages through Flask's test client: who may open them, the list
by urgency under an injected clock, filters, CSV and print, the contact log, reminders, disposal by
two people, charts, alerts and the chain check — in both languages."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from kiosk import accounts, residents
from kiosk.db import session_factory, transaction
from kiosk.models import AuditEvent, Item, Notification
from kiosk.values import Actor, ResidentForm
from tests.conftest import AUDIT_KEY, luggage
from tests.web.test_pages import csrf_of, sign_in

EN = {"Accept-Language": "en"}


@pytest.fixture
def people(app):
    with app.extensions["kiosk.sessions"]() as session:
        for name, role in (("wang", "supervisor"), ("li", "supervisor"), ("lin", "staff"), ("zhao", "security")):
            accounts.add_user(session, name, role, password=f"{name}-password")
        session.commit()


def mail_parcel(app, api) -> int:
    """A parcel for a registered resident, taken in at the mail desk (POST /mail)."""
    with app.extensions["kiosk.sessions"]() as session:
        residents.add(session, Actor(name="admin-1", role="admin"), ResidentForm("3-0102", "王小明", "13912345678"))
        session.commit()
    return api.post("/mail", json={"kind": "parcel", "recipient": {"unit": "3-0102", "name": "王小明"},
                                   "carrier": "EMS", "description": "box"}).get_json()["id"]


@pytest.fixture
def items(app, api, engine):
    """A bag due back two days ago, a parcel nobody was told of for two days, a fresh bag."""
    now = datetime.now(UTC)
    late = api.post("/items", json=luggage(description="black suitcase")).get_json()["id"]
    parcel = mail_parcel(app, api)
    fresh = api.post("/items", json=luggage(description="umbrella", size="small",
                                            owner={"unit": "5-0501", "name": "赵敏", "phone": "13700001111"})
                     ).get_json()["id"]
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        session.execute(update(Item).where(Item.id == late).values(
            deposited_at=now - timedelta(days=4), expected_pickup_at=now - timedelta(days=2)))
        session.execute(update(Item).where(Item.id == parcel).values(deposited_at=now - timedelta(days=2)))
    return {"late": late, "parcel": parcel, "fresh": fresh}


def item_of(app, item_id: int) -> Item:
    """The item as committed now, read in a session that is closed at once (SQLite's lock is not held)."""
    with app.extensions["kiosk.sessions"]() as session:
        item = session.get(Item, item_id)
        session.expunge(item)
        return item


def events_of(app, item_id: int) -> list[str]:
    with app.extensions["kiosk.sessions"]() as session:
        return session.scalars(select(AuditEvent.event).where(AuditEvent.item_id == item_id)
                               .order_by(AuditEvent.seq)).all()


def as_user(app, name: str):
    client = app.test_client()
    sign_in(client, name, f"{name}-password")
    return client


def rows_of(html: str) -> list[tuple[str, str]]:
    """(ticket, policy status) of each row of the list, in order."""
    return re.findall(r'<tr data-item-id="\d+" data-ticket="([^"]+)" data-policy="([^"]*)">', html)


def test_who_may_open_which_page(app, client, people):
    assert client.get("/supervisor").status_code == 302 and "/login" in client.get("/supervisor").headers["Location"]
    staff, guard, boss = as_user(app, "lin"), as_user(app, "zhao"), as_user(app, "wang")
    for path in ("/supervisor", "/supervisor/print", "/supervisor/charts", "/supervisor/items/1"):
        assert staff.get(path).status_code == 403 and guard.get(path).status_code == 403
    assert staff.get("/security").status_code == 403
    assert guard.get("/security").status_code == 200 and boss.get("/security").status_code == 200
    assert boss.get("/supervisor").status_code == 200 and boss.get("/supervisor/items/999").status_code == 404


def test_the_list_by_urgency_with_its_filters_and_its_words(app, people, items):
    boss = as_user(app, "wang")
    page = boss.get("/supervisor", headers=EN)
    html = page.get_data(as_text=True)
    assert rows_of(html) == [("A-0001", "past_expected_pickup"), ("A-0002", "owner_not_reached"), ("A-0003", "ok")]
    assert "Past pickup time" in html and 'id="overdue-total" class="overdue-count">2<' in html
    assert "13812345678" not in html and "张*" in html      # names masked, phones not on the list at all
    parcels = boss.get("/supervisor?kind=parcel&status=held&overdue=true&unit=&location=", headers=EN)
    assert rows_of(parcels.get_data(as_text=True)) == [("A-0002", "owner_not_reached")]
    assert 'href="/api/v1/items.csv?kind=parcel&amp;status=held&amp;overdue=true&amp;order=urgency"' in \
        parcels.get_data(as_text=True)
    first = boss.get("/supervisor?order=urgency&limit=1", headers=EN)
    assert first.status_code == 200
    cursor = boss.get("/supervisor?order=urgency&cursor=5", headers=EN)     # not a cursor of this order
    assert cursor.status_code == 422 and 'data-code="invalid_cursor"' in cursor.get_data(as_text=True)
    assert len(rows_of(cursor.get_data(as_text=True))) == 3                   # the first page instead
    wrong = boss.get("/supervisor?kind=furniture", headers=EN)
    assert wrong.status_code == 422 and 'data-code="invalid_query"' in wrong.get_data(as_text=True)
    zh = boss.get("/supervisor").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in zh and "已过预计领取时间" in zh and "下载 CSV（Excel）" in zh


def test_the_rules_follow_the_injected_clock(app, people, items):
    # Nine days on, the small umbrella has stayed over a week: a long stay, below the others.
    app.config["CLOCK"] = lambda: datetime.now(UTC) + timedelta(days=9)
    boss = as_user(app, "wang")
    html = boss.get("/supervisor?order=urgency", headers=EN).get_data(as_text=True)
    assert ("A-0003", "long_stay") in rows_of(html)
    item = boss.get(f"/supervisor/items/{items['fresh']}", headers=EN).get_data(as_text=True)
    assert 'data-policy="long_stay"' in item and "Long stay" in item
    # The API the page links to reads the same clock: the CSV agrees with the page.
    rows = list(csv.DictReader(io.StringIO(boss.get("/api/v1/items.csv?order=urgency").data.decode("utf-8-sig"))))
    assert ("A-0003", "存放超时") in [(r["编号"], r["跟进状态"]) for r in rows]


def test_the_csv_the_page_links_to_is_the_list_in_excels_utf8(app, people, items):
    boss = as_user(app, "wang")
    html = boss.get("/supervisor?overdue=true").get_data(as_text=True)
    link = re.search(r'id="csv-download" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    answer = boss.get(link)        # the session's cookie is enough for a GET from the page
    assert answer.status_code == 200 and answer.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert [(r["编号"], r["跟进状态"], r["电话"]) for r in rows] == [
        ("A-0001", "已过预计领取时间", "138****5678"), ("A-0002", "未联系上寄存人", "139****5678")]


def test_the_printable_list_has_a_print_stylesheet_and_shows_no_more_than_needed(app, people, items):
    boss = as_user(app, "wang")
    page = boss.get("/supervisor/print?overdue=true", headers=EN)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and re.findall(r'<tr data-ticket="([^"]+)">', html) == ["A-0001", "A-0002"]
    assert "138****5678" in html and "13812345678" not in html and "张伟" not in html and "张*" in html
    sheet = app.test_client().get("/static/css/supervisor.css")
    css = sheet.get_data(as_text=True)
    sheet.close()
    assert "@media print" in css and "table-header-group" in css
    assert 'src="/static/js/supervisor_print.js"' in html and "<script>" not in html


def test_a_contact_attempt_is_logged_from_the_page_and_the_next_one_shown(app, people, items):
    boss = as_user(app, "wang")
    path = f"/supervisor/items/{items['parcel']}"
    page = boss.get(path, headers=EN)
    assert "first notice to the owner" in page.get_data(as_text=True)
    done = boss.post(f"{path}/contacts", headers=EN, data={
        "method": "phone", "outcome": "no_answer", "note": "rang twice", "csrf_token": csrf_of(page)})
    assert done.status_code == 303
    html = boss.get(path, headers=EN).get_data(as_text=True)
    assert 'data-outcome="no_answer"' in html and "rang twice" in html and "wang" in html
    assert "try again: nobody answered" in html and "The contact attempt is in the log." in html
    refused = boss.post(f"{path}/contacts", headers=EN, data={
        "method": "notice_slip", "outcome": "reached", "csrf_token": csrf_of(page)})
    assert refused.status_code == 422 and 'data-code="invalid_outcome"' in refused.get_data(as_text=True)
    promised = boss.post(f"{path}/contacts", headers=EN, data={
        "method": "phone", "outcome": "promised_pickup", "promised_at": "2099-01-01T18:00", "csrf_token": csrf_of(page)})
    assert promised.status_code == 303
    assert "the owner promised to come by now" in boss.get(path, headers=EN).get_data(as_text=True)
    no_token = boss.post(f"{path}/contacts", data={"method": "phone", "outcome": "reached"})
    assert no_token.status_code == 400


def test_a_reminder_from_the_page_is_queued_once(app, people, items):
    boss = as_user(app, "wang")
    path = f"/supervisor/items/{items['late']}"
    token = csrf_of(boss.get(path))
    first = boss.post(f"{path}/notify", data={"channel": "sms", "csrf_token": token}, headers=EN)
    again = boss.post(f"{path}/notify", data={"channel": "sms", "csrf_token": token}, headers=EN)
    assert first.status_code == again.status_code == 303
    html = boss.get(path, headers=EN).get_data(as_text=True)
    assert "already waiting to be sent; nothing new was queued" in html
    with app.extensions["kiosk.sessions"]() as session:
        templates = session.scalars(select(Notification.template).where(Notification.item_id == items["late"])).all()
    assert templates == ["item_reminder"]


def test_disposal_needs_a_second_supervisor_from_the_page(app, people, items):
    wang, li = as_user(app, "wang"), as_user(app, "li")
    path = f"/supervisor/items/{items['late']}"
    asked = wang.post(f"{path}/disposal-requests", headers=EN, data={
        "action": "lost_and_found", "reason": "left for weeks", "csrf_token": csrf_of(wang.get(path))})
    assert asked.status_code == 303
    page = wang.get(path, headers=EN)
    html = page.get_data(as_text=True)
    request_id = re.search(r'id="pending-disposal" data-request-id="(\d+)"', html).group(1)
    assert "You asked: another supervisor must approve." in html
    own = wang.post(f"/supervisor/disposal-requests/{request_id}/approve", headers=EN,
                    data={"note": "", "csrf_token": csrf_of(page)})
    assert own.status_code == 409 and 'data-code="second_approver_required"' in own.get_data(as_text=True)
    assert item_of(app, items["late"]).status == "held"
    other = li.post(f"/supervisor/disposal-requests/{request_id}/approve", headers=EN,
                    data={"note": "photographed", "csrf_token": csrf_of(li.get(path))})
    assert other.status_code == 303
    assert item_of(app, items["late"]).status == "lost_and_found"
    assert events_of(app, items["late"])[-3:] == ["disposal_requested", "disposal_refused", "lost_and_found"]
    fresh = f"/supervisor/items/{items['fresh']}"
    assert "Only overdue items may leave the desk" in li.get(fresh, headers=EN).get_data(as_text=True)


def test_mail_goes_back_to_the_post_office_from_the_page(app, people, items):
    boss = as_user(app, "wang")
    path = f"/supervisor/items/{items['parcel']}"
    html = boss.get(path).get_data(as_text=True)
    assert 'id="disposal-form"' not in html and 'id="undeliverable-form"' in html
    assert boss.post(f"{path}/undeliverable", data={"reason": "moved_out", "csrf_token": csrf_of_html(html)}
                     ).status_code == 303
    page = boss.get(path)
    assert boss.post(f"{path}/return-to-post", data={"post_worker": "李师傅", "csrf_token": csrf_of(page)}
                     ).status_code == 303
    assert item_of(app, items["parcel"]).status == "returned"


def csrf_of_html(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def test_moving_a_long_stay_to_the_storeroom(app, people, items):
    boss = as_user(app, "wang")
    path = f"/supervisor/items/{items['late']}"
    assert boss.post(f"{path}/move", data={"csrf_token": csrf_of(boss.get(path))}).status_code == 303
    assert item_of(app, items["late"]).location == "storeroom"


@pytest.mark.parametrize("language,label", [("zh-CN", "逾期（全部类别）"), ("en", "overdue (all kinds)")])
def test_the_charts_page_carries_its_figures_and_their_tables(app, people, items, language, label):
    boss = as_user(app, "wang")
    html = boss.get("/supervisor/charts?days=90", headers={"Accept-Language": language}).get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["days"]) == 90 and data["labels"]["overdue"] == label
    assert sum(data["deposits"]) == 3 and len(data["hours"]) == 24
    assert 'src="/static/vendor/chart.umd.js"' in html and 'id="held-table"' in html and 'id="traffic-table"' in html
    assert data["overdue"][-1] == 1     # the bag past its pickup (the parcel's rule is not replayed)
    vendored = app.test_client().get("/static/vendor/chart.umd.js")
    assert vendored.status_code == 200 and b"Released under the MIT License" in vendored.data[:300]
    vendored.close()


def test_security_resolves_an_alert_with_a_note_and_checks_the_chain(app, api, people):
    body = api.post("/items", json=luggage()).get_json()
    api.post(f"/items/{body['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟"})
    api.post("/scans", role="kiosk", json={"code": body["stub_code"]})       # a revoked stub shown: an alert
    guard = as_user(app, "zhao")
    page = guard.get("/security", headers=EN)
    html = page.get_data(as_text=True)
    alert_id = re.search(r'data-alert-id="(\d+)" data-kind="revoked_stub_presented"', html).group(1)
    assert "A revoked stub was presented" in html
    done = guard.post(f"/security/alerts/{alert_id}/resolve", data={"note": "owner had both stubs",
                                                                     "csrf_token": csrf_of(page)}, headers=EN)
    assert done.status_code == 303
    after = guard.get("/security", headers=EN).get_data(as_text=True)
    assert "No open alerts." in after and "The alert is resolved." in after
    resolved = guard.get("/security?alerts=all", headers=EN).get_data(as_text=True)
    assert 'class="resolution-note">owner had both stubs<' in resolved and "Resolved by zhao" in resolved
    again = guard.post(f"/security/alerts/{alert_id}/resolve", data={"csrf_token": csrf_of(page)}, headers=EN)
    assert "already" in guard.get(again.headers["Location"], headers=EN).get_data(as_text=True)
    trail = guard.get("/security?ticket=a-0001", headers=EN).get_data(as_text=True)
    assert 'data-event="alert"' in trail and 'data-event="alert_resolved"' in trail
    checked = guard.post("/security/verify", data={"csrf_token": csrf_of(page)}, headers={"Accept-Language": "zh-CN"})
    text = checked.get_data(as_text=True)
    assert checked.status_code == 200 and 'data-ok="true"' in text and "审计链完整。" in text


def test_the_list_pages_on_with_its_filters(app, people, items, monkeypatch):
    from web.pages import supervisor

    monkeypatch.setattr(supervisor, "PAGE_SIZE", 2)
    boss = as_user(app, "wang")
    first = boss.get("/supervisor?kind=&status=held").get_data(as_text=True)
    assert [t for t, _ in rows_of(first)] == ["A-0001", "A-0002"]
    link = re.search(r'id="next-page" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "status=held" in link and "cursor=" in link
    second = boss.get(link).get_data(as_text=True)
    assert [t for t, _ in rows_of(second)] == ["A-0003"] and 'id="next-page"' not in second


def test_complaint_replies_past_their_promise_are_counted_on_the_supervisors_screen(app, api, people):
    boss = as_user(app, "wang")
    page = boss.get("/supervisor", headers=EN).get_data(as_text=True)
    assert 'id="late-replies" data-count="0"' in page
    api.post("/complaints", json={"kind": "complaint", "category": "environment", "channel": "phone",
                                  "unit": "12-0301", "name": "张伟", "contact": "13812345678",
                                  "content": "the corridor light is out"})
    app.config["CLOCK"] = lambda: datetime.now(UTC) + timedelta(days=4)  # past one working day (a weekend between)
    boss = as_user(app, "wang")  # signed in again: four days idle ended the session
    page = boss.get("/supervisor", headers=EN).get_data(as_text=True)
    assert 'id="late-replies" data-count="1"' in page and "1 reply past its promised time" in page
    assert 'href="/complaints?view=open&amp;overdue=true"' in page
