"""The complaints desk's pages through Flask's test client: the lists with reply deadlines, taking a
complaint at the desk, walking one to closed, a written complaint's reply, work orders, the weekly
analysis and the working-day calendar; and the kiosk's page when its filing limit is reached."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from kiosk import accounts
from kiosk.models import Alert, Complaint, ComplaintStep
from tests.web.test_pages import complaint as kiosk_complaint
from tests.web.test_pages import csrf_of, kiosk_client, sign_in  # noqa: F401  (fixture)
from web import complaint_watch

EN = {"Accept-Language": "en"}
# A Thursday 10:00 in Shanghai: one working day later is Friday 10:00.
START = datetime(2026, 5, 7, 2, tzinfo=UTC)


@pytest.fixture
def clock(app):
    now = {"now": START}
    app.config["CLOCK"] = lambda: now["now"]

    def advance(**delta):
        now["now"] += timedelta(**delta)

    advance.now = lambda: now["now"]
    return advance


@pytest.fixture
def people(app):
    with app.extensions["kiosk.sessions"]() as session:
        for name, role in (("lin", "staff"), ("chen", "staff"), ("wang", "supervisor"), ("guard", "security")):
            accounts.add_user(session, name, role, password=f"{name}-password")
        session.commit()


def signed_in(app, name):
    client = app.test_client()
    assert sign_in(client, name, f"{name}-password").status_code == 302
    return client


@pytest.fixture
def lin(app, people, clock):
    return signed_in(app, "lin")


def take(client, **fields):
    page = client.get("/complaints/new", headers=EN)
    data = {"kind": "complaint", "channel": "phone", "category": "environment", "unit": "12-0301",
            "name": "张伟", "contact": "13812345678", "content": "走廊灯坏了", "csrf_token": csrf_of(page)}
    data.update(fields)
    return client.post("/complaints/new", data=data, headers=EN)


def move(client, number, to, **fields):
    page = client.get(f"/complaints/{number}", headers=EN)
    return client.post(f"/complaints/{number}/transitions", data={"to": to, "csrf_token": csrf_of(page), **fields},
                       headers=EN)


def html(response) -> str:
    return response.get_data(as_text=True)


def test_only_desk_staff_open_the_complaints_desk(app, client, people):
    assert client.get("/complaints").status_code == 302
    guard = signed_in(app, "guard")
    for path in ("/complaints", "/complaints/new", "/complaints/calendar", "/complaints/work-orders",
                 "/complaints/analysis"):
        assert guard.get(path).status_code == 403, path
    lin = signed_in(app, "lin")
    assert lin.get("/complaints/analysis").status_code == 403  # the analysis is the supervisors'
    assert lin.get("/complaints/calendar").status_code == 200


def test_a_complaint_taken_at_the_desk_is_mine_with_its_promise(app, lin, clock):
    done = take(lin)
    assert done.status_code == 303
    page = lin.get(done.headers["Location"], headers=EN)
    text = html(page)
    # Thursday 10:00 + one working day = Friday 10:00, site time.
    assert "The reply is promised by 2026-05-08 10:00." in text and "13812345678" in text  # its owner calls back
    mine = html(lin.get("/complaints", headers=EN))
    assert 'data-complaint="1"' in mine and "2026-05-08 10:00" in mine
    assert "13812345678" not in mine and "138****5678" in mine and "张*" in mine  # masked on lists


def test_the_desk_form_says_what_is_wrong_beside_the_field(lin):
    refused = take(lin, contact="", name="")
    assert refused.status_code == 422 and 'aria-invalid="true"' in html(refused)
    assert take(lin, content="身份证 110101199003071234").status_code == 422
    refused = take(lin, reply_due="2020-01-01T09:00")
    assert refused.status_code == 422 and "reply-due" not in html(refused) and 'id="reply_due-error"' in html(refused)


def test_another_clerk_sees_it_masked_and_cannot_move_it(app, lin, clock):
    take(lin)
    chen = signed_in(app, "chen")
    page = html(chen.get("/complaints/1", headers=EN))
    assert "13812345678" not in page and "138****5678" in page and 'id="move-' not in page
    refused = move(chen, 1, "in_progress")
    assert refused.status_code == 403 and "lin took this complaint" in html(refused)


def test_a_kiosk_filing_waits_unowned_until_someone_takes_it(app, lin, kiosk_client, clock):  # noqa: F811
    token = csrf_of(kiosk_client.get("/kiosk/request"))
    assert kiosk_client.post("/kiosk/request", data={**kiosk_complaint(), "csrf_token": token}).status_code == 303
    waiting = html(lin.get("/complaints?view=unowned", headers=EN))
    assert 'data-complaint="1"' in waiting and "not taken yet" in waiting
    assert "From the kiosk, not taken yet (1)" in html(lin.get("/complaints", headers=EN))
    assert move(lin, 1, "acknowledged").status_code == 303
    page = html(lin.get("/complaints/1", headers=EN))
    assert 'id="owner">lin<' in page
    assert 'data-complaint="1"' in html(lin.get("/complaints?view=mine", headers=EN))


def test_walk_to_closed_with_an_unsatisfied_follow_up_that_reopens_it(app, lin, clock):
    take(lin)
    for to in ("acknowledged", "in_progress"):
        assert move(lin, 1, to).status_code == 303
    assert lin.post("/complaints/1/replies", data={"text": "已安排维修", "csrf_token": csrf_of(lin.get("/complaints/1"))},
                    headers=EN).status_code == 303
    assert 'id="replies"' in html(lin.get("/complaints/1")) and "已安排维修" in html(lin.get("/complaints/1"))
    assert move(lin, 1, "resolved").status_code == 303
    missing = move(lin, 1, "followed_up")
    assert missing.status_code == 422 and "satisfied" in html(missing)
    assert move(lin, 1, "followed_up", satisfied="no", note="灯还是不亮").status_code == 303
    page = html(lin.get("/complaints/1", headers=EN))
    assert 'data-state="in_progress"' in page and "follow-up visit: not satisfied" in page and "reopened" in page
    assert move(lin, 1, "closed").status_code == 409  # not from in_progress
    for to, extra in (("resolved", {}), ("followed_up", {"satisfied": "yes"}), ("closed", {})):
        assert move(lin, 1, to, **extra).status_code == 303, to
    page = html(lin.get("/complaints/1", headers=EN))
    assert 'data-state="closed"' in page and 'id="move-' not in page and 'id="reply-form"' not in page


def test_a_written_complaint_closes_only_with_its_written_reply(app, lin, clock):
    take(lin, channel="letter")
    for to, extra in (("acknowledged", {}), ("resolved", {}), ("followed_up", {"satisfied": "yes"})):
        assert move(lin, 1, to, **extra).status_code == 303, to
    page = html(lin.get("/complaints/1", headers=EN))
    assert "needed before it can close" in page and 'id="move-closed-reply"' in page
    refused = move(lin, 1, "closed")
    assert refused.status_code == 409 and "A written complaint closes only after its written reply" in html(refused)
    refused = move(lin, 1, "closed", reply="已书面答复")  # a reply, but not in writing
    assert refused.status_code == 409
    assert move(lin, 1, "closed", reply="已书面答复", written="y").status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        row = session.get(Complaint, 1)
        assert row.state == "closed" and row.written_reply_at is not None


def test_an_overdue_reply_shows_on_the_owners_desk_and_the_late_reply_is_marked(app, lin, clock):
    take(lin)
    clock(days=1, minutes=1)  # Friday 10:01: the promise is broken
    lin = signed_in(app, "lin")  # (a day later: a new session)
    page = html(lin.get("/complaints", headers=EN))
    assert 'id="late-list"' in page and "reply was due 2026-05-08 10:00" in page and 'class="overdue"' in page
    assert 'id="overdue"' in html(lin.get("/complaints/1", headers=EN))
    assert complaint_watch.run_once(app, now=clock.now()) != []
    wang = signed_in(app, "wang")
    assert 'data-complaint="1"' in html(wang.get("/complaints?view=all&overdue=true", headers=EN))
    token = csrf_of(lin.get("/complaints/1"))
    assert lin.post("/complaints/1/replies", data={"text": "抱歉，明天修", "csrf_token": token}).status_code == 303
    page = html(lin.get("/complaints/1", headers=EN))
    assert 'id="overdue"' not in page and ">late<" in page
    assert "Every promised reply was given in time." in html(lin.get("/complaints", headers=EN))
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Alert).one().resolved_at is not None


def test_a_repair_has_its_work_order_to_print_and_to_check(app, lin, clock):
    take(lin, kind="repair", category="equipment", repair_scope="public", repair_location="3号楼电梯")
    page = html(lin.get("/complaints/1", headers=EN))
    assert "Work order No. 1" in page and "/complaints/work-orders/1" in page
    sheet = html(lin.get("/complaints/work-orders/1", headers=EN))
    assert "《工程维修单》" in sheet and "3号楼电梯" in sheet and "13812345678" not in sheet and "138****5678" in sheet
    assert 'data-order="1"' in html(lin.get("/complaints/work-orders", headers=EN))
    assert move(lin, 1, "acknowledged").status_code == 303
    refused = move(lin, 1, "resolved")
    assert refused.status_code == 409 and "Work order 1 is issued" in html(refused)
    token = csrf_of(lin.get("/complaints/1"))
    for to in ("in_progress", "completed", "checked"):
        done = lin.post("/complaints/work-orders/1/transitions", data={"to": to, "assignee": "老李", "csrf_token": token})
        assert done.status_code == 303, to
    assert move(lin, 1, "resolved").status_code == 303
    assert lin.post("/complaints/work-orders/99/transitions", data={"to": "checked", "csrf_token": token}).status_code == 404


def test_a_supervisor_reassigns_with_a_reason(app, lin, clock):
    take(lin)
    wang = signed_in(app, "wang")
    page = wang.get("/complaints/1", headers=EN)
    assert 'id="reassign-form"' in html(page) and 'id="reassign-form"' not in html(lin.get("/complaints/1"))
    refused = wang.post("/complaints/1/reassign", data={"owner": "chen", "reason": "", "csrf_token": csrf_of(page)})
    assert refused.status_code == 422
    done = wang.post("/complaints/1/reassign", data={"owner": "chen", "reason": "lin 休假", "csrf_token": csrf_of(page)})
    assert done.status_code == 303
    assert "reassigned from lin to chen" in html(wang.get("/complaints/1", headers=EN))
    assert lin.post("/complaints/1/reassign", data={"owner": "lin", "reason": "x",
                                                     "csrf_token": csrf_of(lin.get("/complaints/1"))}).status_code == 403


def test_the_weekly_analysis_counts_and_downloads(app, lin, clock):
    take(lin)
    take(lin, category="environment", channel="visit")
    wang = signed_in(app, "wang")
    page = wang.get("/complaints/analysis", headers=EN)
    text = html(page)
    assert page.status_code == 200 and "2026-W19" in text
    assert re.search(r'<tr data-key="environment"><th scope="row">Environment \(cleaning, green\)</th><td>2</td>', text)
    assert 'data-figure="received"><dt>Received</dt><dd>2</dd>' in text
    assert "chart.umd.js" in text and 'id="analysis-chart"' in text
    assert "repeat" in html(lin.get("/complaints", headers=EN))  # the second from 12-0301 repeats the first
    csv = wang.get("/api/v1/complaints/analysis.csv?week=2026-W19", headers=EN)
    assert csv.status_code == 200 and csv.data.startswith("\ufeff".encode()) and b"environment" in csv.data
    zh = html(wang.get("/complaints/analysis?week=2026-W19"))
    assert "环境管理类" in zh and "投诉与诉求周分析" in zh
    refused = wang.get("/complaints/analysis?week=2026-W99", headers=EN)
    assert refused.status_code == 422 and "week is an ISO week" in html(refused)


def test_the_calendar_is_read_by_staff_and_kept_by_supervisors(app, lin, clock):
    page = html(lin.get("/complaints/calendar", headers=EN))
    assert 'id="day-form"' not in page and 'data-weekday="5" data-working="false"' in page
    token = csrf_of(lin.get("/complaints/calendar"))
    assert lin.post("/complaints/calendar/days", data={"day": "2026-05-08", "working": "no",
                                                        "csrf_token": token}).status_code == 403
    wang = signed_in(app, "wang")
    token = csrf_of(wang.get("/complaints/calendar"))
    done = wang.post("/complaints/calendar/days", data={"day": "2026-05-08", "working": "no", "name": "调休放假",
                                                         "csrf_token": token})
    assert done.status_code == 303
    page = html(wang.get("/complaints/calendar?year=2026", headers=EN))
    assert 'data-day="2026-05-08" data-working="false"' in page and "调休放假" in page
    # Friday is now a holiday: Thursday 10:00 + one working day = Monday 10:00.
    take(lin)
    with app.extensions["kiosk.sessions"]() as session:
        due = session.get(Complaint, 1).reply_due_at
    assert due == datetime(2026, 5, 11, 2, tzinfo=UTC)
    assert wang.post("/complaints/calendar/days/2026-05-08/clear", data={"csrf_token": token}).status_code == 303
    assert 'data-day="2026-05-08"' not in html(wang.get("/complaints/calendar?year=2026"))
    assert wang.post("/complaints/calendar/weekdays", data={"weekday": "5", "working": "yes",
                                                            "csrf_token": token}).status_code == 303
    assert 'data-weekday="5" data-working="true"' in html(wang.get("/complaints/calendar"))


def test_the_kiosk_says_plainly_when_it_takes_no_more_filings(app, kiosk_client, clock):  # noqa: F811
    # The desk's rule (10 filings in 10 minutes, on the injected clock), not the per-minute rate
    # limit in front of the form (tests/web/test_limits.py), which counts real time.
    app.config["RATE_LIMITS"] = {**app.config["RATE_LIMITS"], "complaint": ("100/minute", "100/minute")}
    token = csrf_of(kiosk_client.get("/kiosk/request"))
    for _ in range(10):
        assert kiosk_client.post("/kiosk/request", data={**kiosk_complaint(), "csrf_token": token}).status_code == 303
    for headers, words in ((EN, "This screen cannot take more requests just now"), ({}, "本屏幕暂时不能再受理")):
        full = kiosk_client.post("/kiosk/request", data={**kiosk_complaint(), "csrf_token": token}, headers=headers)
        assert full.status_code == 429 and words in html(full)
        assert "kiosk_error" not in html(full) and "error.html" not in html(full)
    clock(minutes=11)  # the window has passed
    assert kiosk_client.post("/kiosk/request", data={**kiosk_complaint(), "csrf_token": token}).status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Complaint).count() == 11


def test_every_step_is_in_the_complaints_history(app, lin, clock):
    take(lin)
    move(lin, 1, "acknowledged")
    with app.extensions["kiosk.sessions"]() as session:
        assert [s.action for s in session.query(ComplaintStep).order_by(ComplaintStep.id)] == ["taken", "transition"]


def test_the_complaint_pages_have_no_inline_script_or_style(app, lin, clock):
    take(lin, kind="repair", category="equipment", repair_scope="in_unit")
    wang = signed_in(app, "wang")
    for path in ("/complaints", "/complaints/new", "/complaints/1", "/complaints/work-orders/1",
                 "/complaints/work-orders", "/complaints/analysis", "/complaints/calendar"):
        text = html(wang.get(path))
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", text, re.DOTALL)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts), path
        assert " style=" not in text and "<style" not in text, path
        ids = re.findall(r' id="([^"]+)"', text)
        assert len(ids) == len(set(ids)) or set(i for i in ids if ids.count(i) > 1) <= {"csrf_token"}, path


def test_odd_addresses_and_forms_get_calm_answers(app, lin, clock):
    wang = signed_in(app, "wang")
    for path in ("/complaints?view=nope&state=nope&cursor=abc", "/complaints?cursor=99999999999999999999999",
                 "/complaints/calendar?year=abc", "/complaints/calendar?year=99999"):
        assert wang.get(path).status_code == 200, path
    odd = wang.get("/complaints/analysis?week=<script>alert(1)</script>", headers=EN)
    assert odd.status_code == 422 and "<script>alert" not in html(odd)
    assert wang.get("/complaints/99").status_code == 404
    assert wang.get("/complaints/work-orders/99").status_code == 404
    token = csrf_of(wang.get("/complaints/calendar"))
    assert wang.post("/complaints/calendar/days/not-a-day/clear", data={"csrf_token": token}).status_code == 404
    assert wang.post("/complaints/calendar/days", data={"day": "2026-02-30", "csrf_token": token}).status_code == 422
    missing = wang.post("/complaints/calendar/days/2026-05-01/clear", data={"csrf_token": token}, headers=EN)
    assert missing.status_code == 422 and 'id="refusal"' in html(missing)
    assert wang.post("/complaints/calendar/weekdays", data={"weekday": "9", "working": "yes",
                                                            "csrf_token": token}).status_code == 400
    assert wang.post("/complaints/99/transitions", data={"to": "acknowledged", "csrf_token": token}).status_code == 404
