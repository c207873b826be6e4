"""The handover and key count pages through Flask's test client, and their live events.

Two clerks, two clients: the outgoing one opens the count, the incoming one scans the shelf;
a missing item blocks both signatures until it is explained; signed is final; the sheet
prints the chain head the signing recorded.
"""
from __future__ import annotations

import re

import pytest

from kiosk import accounts
from kiosk.models import Alert, Handover
from tests.conftest import key_deposit, luggage
from tests.web.test_events import received
from tests.web.test_pages import csrf_of, sign_in
from web import sealer

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def clerks(app, client):
    """Two signed-in desk clients: ``out`` (lin, outgoing) and ``inc`` (mei, incoming); and a guard's."""
    with app.extensions["kiosk.sessions"]() as session:
        for name, role in (("lin", "staff"), ("mei", "staff"), ("guard", "security"), ("boss", "supervisor")):
            accounts.add_user(session, name, role, password=f"{name}-password")
        session.commit()
    made = {}
    for name in ("lin", "mei", "guard", "boss"):
        browser = client if name == "lin" else app.test_client()
        sign_in(browser, name, f"{name}-password")
        made[name] = browser
    return made


def open_shift(browser, **fields):
    page = browser.get("/handovers", headers=EN)
    data = {"kind": "shift", "shift_start": "2026-01-01T08:00", "unfinished": "", **fields,
            "csrf_token": csrf_of(page)}
    return browser.post("/handovers", data=data, headers=EN)


def post(browser, path, headers=EN, **data):
    token = csrf_of(browser.get("/handovers", headers=headers))
    return browser.post(path, data={**data, "csrf_token": token}, headers=headers)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_who_may_open_count_and_read(app, client, clerks):
    anonymous = app.test_client()
    assert anonymous.get("/handovers").status_code == 302 and "/login" in anonymous.get("/handovers").headers["Location"]
    opened = open_shift(clerks["lin"])
    assert opened.status_code == 303 and opened.headers["Location"] == "/handovers/1"
    # Security reads the count and the sheet, and may change nothing.
    page = clerks["guard"].get("/handovers/1", headers=EN)
    assert page.status_code == 200 and 'id="scan-form"' not in text_of(page) and 'id="sign-form"' not in text_of(page)
    assert clerks["guard"].get("/handovers/1/sheet").status_code == 200
    assert post(clerks["guard"], "/handovers/1/sign").status_code == 403
    assert post(clerks["guard"], "/handovers", kind="key_count").status_code == 403
    assert clerks["lin"].get("/handovers/99").status_code == 404
    assert clerks["lin"].get(f"/handovers/{2**70}").status_code == 404  # no database error for a huge id
    huge = post(clerks["lin"], "/handovers/1/explanations", item_id=str(2**70), code_digest="", text="?")
    assert huge.status_code == 404


def test_the_first_shift_needs_its_start_and_a_second_count_is_refused(clerks):
    refused = open_shift(clerks["lin"], shift_start="")
    assert refused.status_code == 422 and 'aria-invalid="true"' in text_of(refused)
    assert open_shift(clerks["lin"], unfinished="3-0101 报修未回访").status_code == 303
    listing = clerks["mei"].get("/handovers", headers=EN)
    assert 'id="continue-shift"' in text_of(listing) and 'id="open-shift"' not in text_of(listing)
    double = open_shift(clerks["mei"])  # a page opened before the other clerk's count
    assert double.status_code == 409 and "already open (handover 1)" in text_of(double)


def test_a_missing_item_blocks_both_signatures_until_explained(app, api, clerks):
    here, gone, moved = [api.post("/items", json=luggage()).get_json() for _ in range(3)]
    assert open_shift(clerks["lin"]).status_code == 303
    out, inc = clerks["lin"], clerks["mei"]

    found = post(inc, "/handovers/1/scans", code=here["tag_code"], location="storeroom")
    assert found.status_code == 200 and 'id="found">1<' in text_of(found)
    wrong = post(inc, "/handovers/1/scans", code=moved["tag_code"], location="front_desk")
    html = text_of(wrong)
    assert "A-0003: Found · found at Front desk, the ledger says Basement storeroom" in html
    assert 'data-key="i3" data-discrepancy="wrong_place"' in html and 'data-key="i2" data-discrepancy="missing"' in html
    assert 'id="unexplained">2<' in html
    stub = post(inc, "/handovers/1/scans", code=here["stub_code"], location="storeroom")
    assert stub.status_code == 422 and "Scan the tag on the item" in text_of(stub)

    for browser, headers, words in ((out, EN, "2 difference(s) are not explained yet"),
                                    (inc, ZH, "还有 2 处差异未说明")):
        refused = post(browser, "/handovers/1/sign", headers=headers)
        assert refused.status_code == 409 and words in text_of(refused)
        assert "refusal-suggestion" not in text_of(refused)  # the catalogue has none for this refusal

    explained = post(inc, "/handovers/1/explanations", item_id=str(moved["id"]), code_digest="",
                     text="put back on the storeroom shelf")
    assert explained.status_code == 303 and explained.headers["Location"] == "/handovers/1#differences"
    escalated = post(inc, "/handovers/1/explanations", item_id=str(gone["id"]), code_digest="",
                     text="not on any shelf", escalate="y")
    assert escalated.status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        alert = session.query(Alert).one()
        assert (alert.kind, alert.item_id) == ("item_missing", gone["id"])

    page = inc.get("/handovers/1", headers=EN)
    assert 'id="unexplained">0<' in text_of(page) and "Explained by mei: not on any shelf" in text_of(page)
    scans = text_of(page).split('id="scans"')[1].split("</ol>")[0]  # the latest scans, newest first
    assert scans.index("A-0003: Found · Front desk · by mei") < scans.index("A-0001: Found · Basement storeroom")
    assert post(out, "/handovers/1/sign").headers["Location"] == "/handovers/1"
    signed = post(inc, "/handovers/1/sign")
    assert (signed.status_code, signed.headers["Location"]) == (303, "/handovers/1/sheet")

    sheet = text_of(inc.get("/handovers/1/sheet", headers=EN))
    with app.extensions["kiosk.sessions"]() as session:
        row = session.get(Handover, 1)
        assert row.state == "signed" and row.incoming_name == "mei"
    assert f'<code id="chain-hash" class="hash">{row.chain_hash}</code>' in sheet
    assert f"record no. {row.chain_seq}" in sheet and 'data-intact="true"' in sheet
    assert "put back on the storeroom shelf" in sheet and "escalated to security (alert 1)" in sheet
    assert re.search(r'data-count="missing">1<', sheet) and re.search(r'data-count="found">2<', sheet)
    assert "DRAFT" not in sheet and "13812345678" not in sheet and "张*" in sheet

    late = post(inc, "/handovers/1/scans", headers=ZH, code=gone["tag_code"], location="storeroom")
    assert late.status_code == 409 and "交接单 1 已由双方签字，不能再修改。" in text_of(late)
    closed = inc.get("/handovers/1", headers=EN)
    assert 'id="scan-form"' not in text_of(closed) and 'id="closed" role="status">' in text_of(closed)
    # The next shift starts where this one was signed: no start time asked.
    listing = text_of(out.get("/handovers", headers=EN))
    assert "This shift started when the last handover was signed" in listing and 'id="shift_start"' not in listing


def test_an_explanation_with_an_id_number_is_refused_and_kept_open(api, clerks):
    item = api.post("/items", json=luggage()).get_json()
    open_shift(clerks["lin"])
    refused = post(clerks["mei"], "/handovers/1/explanations", item_id=str(item["id"]), code_digest="",
                   text="collected by 110101199003074514")
    html = text_of(refused)
    assert refused.status_code == 422 and 'id="explain-i1"' in html and 'aria-invalid="true"' in html
    assert "collected by 110101199003074514" not in html  # an ID number is never shown back
    # Without the page's script, "Explain or escalate" asks the page for that line's form.
    page = clerks["mei"].get("/handovers/1", headers=EN)
    assert 'href="/handovers/1?explain=i1#line-i1"' in text_of(page) and 'id="explain-i1"' not in text_of(page)
    assert 'id="explain-i1"' in text_of(clerks["mei"].get("/handovers/1?explain=i1", headers=EN))
    empty = post(clerks["mei"], "/handovers/1/explanations", item_id=str(item["id"]), code_digest="", text="")
    assert empty.status_code == 422
    nothing = post(clerks["mei"], "/handovers/1/explanations", item_id="99999", code_digest="", text="?")
    assert nothing.status_code == 404 and "not part of handover 1" in text_of(nothing)


def test_the_key_count_page_and_its_sheet(api, clerks):
    keys = [api.post("/keys", json=key_deposit(key_kind=kind)).get_json()
            for kind in ("unit_key", "car_card")]
    opened = post(clerks["lin"], "/handovers", kind="key_count")
    assert opened.status_code == 303
    page = text_of(clerks["mei"].get(opened.headers["Location"], headers=EN))
    assert "Monthly key count" in page and '<option selected value="key_cabinet">' in page
    post(clerks["mei"], opened.headers["Location"] + "/scans", code=keys[0]["tag_code"], location="key_cabinet")
    sheet = text_of(clerks["mei"].get(opened.headers["Location"] + "/sheet", headers=ZH))
    assert "每月钥匙盘点表" in sheet and "草稿" in sheet
    unit = re.search(r'data-key-kind="unit_key"><th scope="row">单元钥匙</th><td>1</td><td>1</td><td>0</td>', sheet)
    car = re.search(r'data-key-kind="car_card"><th scope="row">车卡</th><td>1</td><td>0</td><td>1</td>', sheet)
    assert unit and car


def test_a_supervisor_cancels_an_open_count(app, clerks):
    open_shift(clerks["lin"])
    assert 'id="cancel-form"' not in text_of(clerks["lin"].get("/handovers/1"))
    assert post(clerks["lin"], "/handovers/1/cancel", reason="wrong day").status_code == 403
    done = post(clerks["boss"], "/handovers/1/cancel", reason="opened by mistake")
    assert (done.status_code, done.headers["Location"]) == (303, "/handovers")
    with app.extensions["kiosk.sessions"]() as session:
        assert session.get(Handover, 1).state == "cancelled"


def test_the_handover_pages_have_no_inline_script_and_are_translated(api, clerks):
    api.post("/items", json=luggage())
    open_shift(clerks["lin"])
    for path in ("/handovers", "/handovers/1", "/handovers/1/sheet"):
        html = text_of(clerks["lin"].get(path, headers=ZH))
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
        assert " style=" not in html and "<style" not in html and " on" + "click=" not in html
        assert '<html lang="zh-Hans">' in html
    assert "交接班" in text_of(clerks["lin"].get("/handovers/1", headers=ZH))


def test_the_home_page_links_the_handover_for_desk_and_security(clerks):
    assert 'id="handovers-link"' in text_of(clerks["guard"].get("/"))
    assert 'id="handovers-link"' in text_of(clerks["lin"].get("/"))


# ---- the live channel ----------------------------------------------------------------------------

@pytest.fixture
def counters(app, users, announcing):
    hub = app.extensions["kiosk.events"]
    subs = {role: hub.subscribe(users[role]) for role in ("staff", "security", "kiosk")}
    assert hub.listening(timeout=10)
    yield subs
    for sub in subs.values():
        sub.close()
    hub.close()


def test_every_count_page_follows_scans_explanations_and_signatures(api, staff_2, counters):
    here, gone = [api.post("/items", json=luggage()).get_json() for _ in range(2)]
    hid = api.post("/handovers", json={"shift_start": "2026-01-01T08:00:00+08:00"}).get_json()["id"]
    for sub in counters.values():
        received(sub, wait=0.5)

    api.post(f"/handovers/{hid}/scans", role=staff_2, json={"code": here["tag_code"], "location": "front_desk"})
    for role in ("staff", "security"):
        (kind, data), = received(counters[role])
        assert kind == "handover_scan"
        assert (data["handover_id"], data["ticket_no"], data["finding"], data["discrepancy"], data["by"]) == (
            hid, "A-0001", "found", "wrong_place", "staff-2")
        assert data["progress"] == {"expected": 2, "found": 1, "scanned": 1}
        assert (data["location"], data["ledger_location"]) == ("front_desk", "storeroom")
    assert received(counters["kiosk"], wait=0.5) == []

    api.post(f"/handovers/{hid}/scans", role=staff_2, json={"code": here["stub_code"]})  # refused: nothing changed
    api.post(f"/handovers/{hid}/scans", role=staff_2, json={"code": here["tag_code"], "location": "front_desk"})
    assert received(counters["staff"], wait=0.5) == []  # a duplicate changes nothing either

    forged = here["tag_code"][:-4] + ("AAAA" if not here["tag_code"].endswith("AAAA") else "BBBB")
    api.post(f"/handovers/{hid}/scans", role=staff_2, json={"code": forged})
    (_, data), = received(counters["staff"])
    assert (data["finding"], data["reason"], data["item_id"]) == ("unexpected", "unknown", None)
    assert len(data["code_digest"]) == 32  # what an explanation names the line by

    for item, text in ((here, "moved back"), (gone, "collected at 7:55")):
        api.post(f"/handovers/{hid}/explanations", json={"item_id": item["id"], "text": text})
    api.post(f"/handovers/{hid}/explanations", json={"code_digest": data["code_digest"], "text": "another desk's"})
    events = received(counters["staff"])
    assert [(k, d["event"], d.get("text")) for k, d in events] == [
        ("handover", "handover_explain", "moved back"), ("handover", "handover_explain", "collected at 7:55"),
        ("handover", "handover_explain", "another desk's")]

    api.post(f"/handovers/{hid}/sign")
    (_, data), = received(counters["staff"])
    assert (data["event"], data["as"], data["signatures"]["outgoing"], data["state"]) == (
        "handover_sign", "outgoing", True, "open")
    api.post(f"/handovers/{hid}/sign", role=staff_2)
    events = received(counters["security"])[-2:]  # after the scans and explanations it saw
    assert [d["event"] for _, d in events] == ["handover_sign", "handover_signed"]
    assert events[-1][1]["state"] == "signed"
    assert events[-1][1]["chain_head"] == api.get(f"/handovers/{hid}").get_json()["chain_head"]
    assert events[-1][1]["signatures"] == {"outgoing": True, "incoming": True, "incoming_name": "staff-2"}


def test_the_sheet_prints_the_anchor_that_covers_the_signing(app, api, staff_2, clerks):
    item = api.post("/items", json=luggage()).get_json()
    hid = api.post("/handovers", json={"shift_start": "2026-01-01T08:00:00+08:00"}).get_json()["id"]
    api.post(f"/handovers/{hid}/scans", role=staff_2, json={"code": item["tag_code"], "location": "storeroom"})
    api.post(f"/handovers/{hid}/sign")
    api.post(f"/handovers/{hid}/sign", role=staff_2)
    before = text_of(clerks["lin"].get(f"/handovers/{hid}/sheet", headers=EN))
    assert 'data-anchored="false"' in before and "not anchored yet" in before
    sealer.seal_now(app)
    anchor = api.get(f"/handovers/{hid}").get_json()["anchor"]
    after = text_of(clerks["lin"].get(f"/handovers/{hid}/sheet", headers=EN))
    assert 'data-anchored="true"' in after and f'<code class="hash" id="anchor-hash">{anchor["hash"]}</code>' in after
    assert f"sealed position {anchor['position']}" in after
