"""The complaints desk through the API: filing (also from a kiosk), the walk to closed, ownership,
the calendar, the weekly analysis and its CSV."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk import accounts, complaint_analysis
from kiosk.db import session_factory
from tests.conftest import AUDIT_KEY

SHANGHAI = ZoneInfo("Asia/Shanghai")


def complaint(**overrides) -> dict:
    body = {"kind": "complaint", "category": "environment", "channel": "phone", "unit": "3-1502", "name": "李娜",
            "contact": "13912345678", "content": "The corridor on 15F has not been cleaned for three days.",
            "wants": ["fix"]}
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def kiosk_complaint(**overrides) -> dict:
    return complaint(channel=None, **overrides)


def walk(api, complaint_id, *steps, role="staff"):
    answer = None
    for step in steps:
        body = {"to": step} if isinstance(step, str) else step
        answer = api.post(f"/complaints/{complaint_id}/transitions", role=role, json=body)
        assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def exercise_complaints(call) -> None:
    """Every complaints operation once, answers checked against the document (tests/web/test_contract.py)."""
    filed = call("POST", "/complaints", role="kiosk", json=kiosk_complaint(), expect=201).get_json()
    call("POST", "/complaints", json=complaint(kind="repair", category="equipment", repair_scope="public"),
         expect=201)
    call("POST", "/complaints", json=complaint(channel="kiosk"), expect=422)
    call("GET", "/complaints?view=unowned", expect=200)
    call("GET", "/complaints?view=bogus", expect=422)
    call("GET", f"/complaints/{filed['id']}", expect=200)
    call("GET", "/complaints/999999", expect=404)
    call("POST", f"/complaints/{filed['id']}/transitions", json={"to": "acknowledged", "reply": "on our way"},
         expect=200)
    call("POST", f"/complaints/{filed['id']}/transitions", json={"to": "closed"}, expect=409)
    call("POST", f"/complaints/{filed['id']}/replies", json={"text": "cleaned at 15:00"}, expect=200)
    call("POST", f"/complaints/{filed['id']}/assessment", json={"our_cause": True}, expect=200)
    call("POST", f"/complaints/{filed['id']}/reassign", role="supervisor",
         json={"owner": "supervisor-1", "reason": "staff-1 on leave"}, expect=200)
    call("POST", f"/complaints/{filed['id']}/replies", json={"text": "x"}, expect=403)
    orders = call("GET", "/work-orders", expect=200).get_json()["work_orders"]
    call("POST", f"/work-orders/{orders[0]['id']}/transitions", json={"to": "completed"}, expect=200)
    call("POST", f"/work-orders/{orders[0]['id']}/transitions", json={"to": "issued"}, expect=409)
    call("GET", "/complaints/analysis", role="supervisor", expect=200)
    call("GET", "/complaints/analysis?week=2026-W99", role="supervisor", expect=422)
    call("GET", "/complaints/analysis.csv?week=2026-W47", role="supervisor", expect=200)
    call("GET", "/calendar", expect=200)
    call("POST", "/calendar/days", role="supervisor", json={"day": "2026-10-01", "working": False, "name": "国庆节"},
         expect=200)
    call("DELETE", "/calendar/days/2026-10-01", role="supervisor", expect=200)
    call("DELETE", "/calendar/days/2026-10-02", role="supervisor", expect=404)
    call("POST", "/calendar/weekdays", role="supervisor", json={"weekday": 5, "working": True}, expect=200)


def test_a_kiosk_files_and_the_first_to_acknowledge_owns_it(api):
    answer = api.post("/complaints", role="kiosk", json=kiosk_complaint())
    assert answer.status_code == 201 and answer.headers["Location"].endswith(f"/complaints/{answer.get_json()['id']}")
    filed = answer.get_json()
    # The lobby learns its promise and nothing about the unit's history.
    assert set(filed) == {"id", "state", "reply_due_at", "owner"} and filed["owner"] is None
    assert filed["state"] == "received"
    waiting = api.get("/complaints?view=unowned").get_json()["complaints"]
    assert [(c["id"], c["name"], c["contact"], c["channel"]) for c in waiting] == [
        (filed["id"], "李*", "139****5678", "kiosk")]
    acknowledged = walk(api, filed["id"], {"to": "acknowledged", "reply": "A cleaner comes at 15:00"})
    assert acknowledged["owner"] == "staff-1" and acknowledged["first_reply_at"] is not None
    assert acknowledged["next_states"] == ["in_progress", "resolved"]
    assert api.get(f"/complaints/{filed['id']}").get_json()["state"] == "acknowledged"
    assert api.get("/complaints?view=unowned").get_json()["complaints"] == []
    assert [c["id"] for c in api.get("/complaints").get_json()["complaints"]] == [filed["id"]]


def test_a_kiosk_cannot_read_or_move_complaints(api):
    filed = api.post("/complaints", role="kiosk", json=kiosk_complaint()).get_json()
    for method, path, body in (("GET", f"/complaints/{filed['id']}", None), ("GET", "/complaints", None),
                               ("POST", f"/complaints/{filed['id']}/transitions", {"to": "acknowledged"})):
        answer = api(method, path, "kiosk", json=body)
        assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "forbidden")


def test_a_kiosk_may_not_promise_or_judge(api):
    answer = api.post("/complaints", role="kiosk", json=kiosk_complaint(our_cause=True))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "field_not_allowed"
    answer = api.post("/complaints", role="kiosk", json=complaint(channel="visit"))
    assert answer.get_json()["error"]["code"] == "invalid_channel"


def test_a_kiosk_is_held_to_a_rate(api):
    for n in range(10):
        assert api.post("/complaints", role="kiosk", json=kiosk_complaint(unit=f"1-{n:04d}")).status_code == 201
    answer = api.post("/complaints", role="kiosk", json=kiosk_complaint(), headers={"Accept-Language": "zh-CN"})
    error = answer.get_json()["error"]
    assert answer.status_code == 429 and error["code"] == "too_many_filings"
    assert error["message"] == "本自助机 10 分钟内已受理 10 条诉求，请稍后再试或到前台办理。"
    assert api.post("/complaints", json=complaint()).status_code == 201


def test_the_desk_files_owns_and_flags_repeats(api):
    first = api.post("/complaints", json=complaint()).get_json()
    assert first["owner"] == "staff-1" and first["repeat_of"] is None
    assert first["complaint"]["contact"] == "13912345678"
    api.post("/complaints", json=complaint(unit="9-0909", name="Li Na", contact="li.na@example.com"))
    listed = api.get("/complaints").get_json()["complaints"][0]
    assert (listed["name"], listed["contact"]) == ("L* N*", "l****@example.com")
    again = api.post("/complaints", json=complaint(unit="3 - 1502")).get_json()
    assert again["repeat_of"] == first["id"]
    due = datetime.fromisoformat(first["reply_due_at"])
    assert timedelta(hours=23) < due - datetime.now(UTC) <= timedelta(days=4)


def test_a_desk_filing_names_its_channel(api):
    answer = api.post("/complaints", json=complaint(channel=None))
    assert (answer.status_code, answer.get_json()["error"]["field"]) == (422, "channel")


def test_the_walk_to_closed_with_an_unsatisfied_follow_up(api):
    filed = api.post("/complaints", json=complaint()).get_json()
    walk(api, filed["id"], "acknowledged", "in_progress", "resolved")
    reopened = walk(api, filed["id"], {"to": "followed_up", "satisfied": False, "note": "still dirty"})
    assert reopened["state"] == "in_progress"
    closed = walk(api, filed["id"], "resolved", {"to": "followed_up", "satisfied": True}, "closed")
    assert closed["state"] == "closed" and closed["next_states"] == []
    assert [(s["action"], s["to_state"], s["satisfied"]) for s in closed["steps"]][-5:] == [
        ("follow_up", "followed_up", False), ("reopened", "in_progress", None), ("transition", "resolved", None),
        ("follow_up", "followed_up", True), ("transition", "closed", None)]
    assert all(s["actor"] == "staff-1" and s["at"] for s in closed["steps"])


def test_illegal_transitions_are_409(api):
    filed = api.post("/complaints", json=complaint()).get_json()
    answer = api.post(f"/complaints/{filed['id']}/transitions", json={"to": "resolved"})
    error = answer.get_json()["error"]
    assert (answer.status_code, error["code"]) == (409, "invalid_transition")
    assert (error["from_state"], error["to"], error["allowed"]) == ("received", "resolved", ["acknowledged"])
    answer = api.post(f"/complaints/{filed['id']}/transitions", json={"to": "reopened"})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (422, "invalid_state")


def test_a_written_complaint_needs_its_written_reply(api):
    filed = api.post("/complaints", json=complaint(channel="letter")).get_json()
    walk(api, filed["id"], "acknowledged", "resolved", {"to": "followed_up", "satisfied": True})
    answer = api.post(f"/complaints/{filed['id']}/transitions", json={"to": "closed"})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "written_reply_required")
    assert api.post(f"/complaints/{filed['id']}/replies", json={"text": "Dear Ms Li, …", "written": True}
                    ).status_code == 200
    assert walk(api, filed["id"], "closed")["state"] == "closed"


def test_only_the_owner_works_on_it_and_only_a_supervisor_reassigns(api, engine):
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        accounts.add_user(session, "staff-2", "staff")
        token = accounts.create_token(session, user_name="staff-2")
        session.commit()
    api.tokens["staff-2"] = token
    filed = api.post("/complaints", json=complaint()).get_json()
    theirs = api.get(f"/complaints/{filed['id']}", role="staff-2").get_json()
    assert "contact" not in theirs and theirs["contact_masked"] == "139****5678" and theirs["next_states"] == []
    answer = api.post(f"/complaints/{filed['id']}/transitions", role="staff-2", json={"to": "acknowledged"},
                      headers={"Accept-Language": "zh"})
    error = answer.get_json()["error"]
    assert (answer.status_code, error["code"], error["owner"]) == (403, "not_complaint_owner", "staff-1")
    assert error["message"].startswith("此投诉由 staff-1 首问受理")
    answer = api.post(f"/complaints/{filed['id']}/reassign", role="staff-2",
                      json={"owner": "staff-2", "reason": "I know the resident"})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "forbidden")
    answer = api.post(f"/complaints/{filed['id']}/reassign", role="supervisor", json={"owner": "staff-2"})
    assert (answer.status_code, answer.get_json()["error"]["field"]) == (422, "reason")
    moved = api.post(f"/complaints/{filed['id']}/reassign", role="supervisor",
                     json={"owner": "staff-2", "reason": "staff-1 on leave"}).get_json()
    assert moved["owner"] == "staff-2" and moved["steps"][-1]["note"] == "staff-1 on leave"
    walk(api, filed["id"], "acknowledged", role="staff-2")


def test_a_public_repair_goes_to_engineering_and_is_checked(api):
    filed = api.post("/complaints", json=complaint(kind="repair", category="equipment", repair_scope="public",
                                                   repair_location="Lift 2")).get_json()
    order = filed["complaint"]["work_order"]
    assert (order["id"], order["state"], order["location"]) == (filed["work_order_id"], "issued", "Lift 2")
    walk(api, filed["id"], "acknowledged", "in_progress")
    for to in ("in_progress", "completed"):
        assert api.post(f"/work-orders/{order['id']}/transitions", json={"to": to, "assignee": "王师傅"}
                        ).status_code == 200
    answer = api.post(f"/complaints/{filed['id']}/transitions", json={"to": "resolved"})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "work_order_not_done")
    assert [o["id"] for o in api.get("/work-orders").get_json()["work_orders"]] == [order["id"]]
    checked = api.post(f"/work-orders/{order['id']}/transitions", json={"to": "checked"}).get_json()
    assert checked["checked_by"] == "staff-1"
    assert walk(api, filed["id"], "resolved")["work_order"]["state"] == "checked"


def test_the_calendar_is_the_supervisors(api):
    answer = api.post("/calendar/days", json={"day": "2026-10-01", "working": False})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (403, "forbidden")
    day = api.post("/calendar/days", role="supervisor",
                   json={"day": "2026-10-01", "working": False, "name": "国庆节"}).get_json()
    assert (day["day"], day["working"], day["updated_by"]) == ("2026-10-01", False, "supervisor-1")
    calendar = api.get("/calendar?start=2026-09-01&end=2026-10-31").get_json()
    assert [d["day"] for d in calendar["days"]] == ["2026-10-01"]
    assert [w["working"] for w in calendar["weekdays"]] == [True] * 5 + [False] * 2
    answer = api.post("/calendar/days", role="supervisor", json={"day": "2026-13-01", "working": False})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (422, "invalid_date")
    answer = api.get("/calendar?start=2026-10-01&end=2020-01-01")
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (422, "invalid_range")
    for weekday in range(4):
        api.post("/calendar/weekdays", role="supervisor", json={"weekday": weekday, "working": False})
    answer = api.post("/calendar/weekdays", role="supervisor", json={"weekday": 4, "working": False})
    assert (answer.status_code, answer.get_json()["error"]["code"]) == (409, "no_working_days")


@pytest.fixture
def this_week():
    return complaint_analysis.week_of(datetime.now(UTC), SHANGHAI).label


def test_the_weekly_analysis_counts_and_exports(api, this_week):
    filed = api.post("/complaints", json=complaint()).get_json()
    api.post("/complaints", json=complaint(unit="3-1502", category="security", channel="letter"))
    walk(api, filed["id"], {"to": "acknowledged", "reply": "noted"}, "resolved",
         {"to": "followed_up", "satisfied": False})
    assert api.get("/complaints/analysis").status_code == 403
    result = api.get(f"/complaints/analysis?week={this_week}", role="supervisor").get_json()
    counts = {c["key"]: c["count"] for c in result["by_category"]}
    assert result["week"] == this_week and result["received"] == 2
    assert (counts["environment"], counts["security"], counts["housing"]) == (1, 1, 0)
    assert (result["follow_ups"], result["satisfied"], result["satisfaction_rate"]) == (1, 0, 0.0)
    assert result["first_replies"] == 1 and result["median_first_reply_seconds"] is not None
    assert api.get("/complaints/analysis", role="supervisor").get_json()["week"] == this_week

    answer = api.get(f"/complaints/analysis.csv?week={this_week}", role="supervisor",
                     headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"] == f'attachment; filename="complaints-{this_week}.csv"'
    assert answer.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert rows[0] == ["section", "key", "label", "value"]
    assert ["category", "environment", "环境管理类", "1"] in rows
    assert ["channel", "letter", "书信", "1"] in rows
    assert ["figure", "satisfaction_rate", "回访满意率", "0.0"] in rows


def test_the_csv_keeps_cell_text_as_data(api, this_week):
    api.post("/complaints", json=complaint(unit="=HYPERLINK(1)"))
    api.post("/complaints", json=complaint(unit="=HYPERLINK(1)"))
    rows = list(csv.reader(io.StringIO(api.get(f"/complaints/analysis.csv?week={this_week}", role="supervisor"
                                               ).data.decode("utf-8-sig"))))
    assert ["month_repeated", "'=HYPERLINK(1) environment", "Environment (cleaning, green)", "2"] in rows


def test_an_unkept_promise_raises_one_alert_for_the_supervisor(api, app, engine, runner, users):
    from kiosk import complaints
    from kiosk.values import ComplaintForm
    from web import complaint_watch

    a_week_ago = datetime.now(UTC) - timedelta(days=7)
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        late = complaints.take(session, users["staff"], ComplaintForm(
            kind="complaint", category="security", channel="phone", unit="2-0101", name="赵磊",
            contact="13700000000", content="The gate stays open at night"), tz=SHANGHAI, now=a_week_ago)
        session.commit()
    assert api.get("/complaints?overdue=true").get_json()["complaints"][0]["reply_overdue"] is True
    result = runner.invoke(args=["complaints", "check-overdue"], catch_exceptions=False)
    assert result.exit_code == 0 and "1 overdue reply alerted" in result.output
    assert complaint_watch.run_once(app) == []
    [alert] = api.get("/alerts", role="supervisor").get_json()["alerts"]
    assert alert["kind"] == "complaint_reply_overdue" and alert["details"]["complaint_id"] == late.id
    assert alert["details"]["owner"] == "staff-1"
    api.post(f"/complaints/{late.id}/replies", json={"text": "Sorry, the gate is fixed tonight"})
    assert api.get("/alerts", role="supervisor").get_json()["alerts"] == []
