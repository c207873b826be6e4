"""The handover API: open, scan the shelf, explain, sign with two logins; signed is final."""
from __future__ import annotations

import pytest

from tests.conftest import key_deposit, luggage

SHIFT_START = "2026-01-01T08:00:00+08:00"


@pytest.fixture
def incoming(staff_2) -> str:
    return staff_2


def deposit(api, n=1, **overrides) -> list[dict]:
    return [api.post("/items", json=luggage(**overrides)).get_json() for _ in range(n)]


def handover_contract(call, incoming: str) -> None:
    """Every handover operation, its answers checked against the document (tests/web/test_contract.py)."""
    key = call("POST", "/keys", json=key_deposit(key_kind="car_card"), expect=201).get_json()
    call("POST", "/items", json=luggage(key_kind="car_card"), expect=422)
    opened = call("POST", "/handovers", json={"shift_start": SHIFT_START, "unfinished": "3-0101 报修未回访"},
                  expect=201).get_json()
    hid = opened["id"]
    call("POST", "/handovers", json={"shift_start": SHIFT_START}, expect=409)
    call("POST", "/handovers", json={"kind": "weekly"}, expect=422)
    call("POST", f"/handovers/{hid}/scans", role=incoming, json={"code": key["tag_code"], "location": "storeroom"},
         expect=200)
    call("POST", f"/handovers/{hid}/scans", role=incoming, json={"code": key["stub_code"]}, expect=422)
    call("POST", f"/handovers/{hid}/scans", role=incoming, json={"code": "hello"}, expect=400)
    call("POST", "/handovers/99999/scans", role=incoming, json={"code": key["tag_code"]}, expect=404)
    call("GET", f"/handovers/{hid}", role="security", expect=200)
    call("GET", "/handovers?state=open", expect=200)
    call("POST", f"/handovers/{hid}/sign", expect=409)
    call("POST", f"/handovers/{hid}/unfinished", json={"text": "none"}, expect=200)
    call("POST", f"/handovers/{hid}/explanations", json={"item_id": key["id"], "text": "moved to the storeroom"},
         expect=200)
    call("POST", f"/handovers/{hid}/explanations", json={"item_id": 99999, "text": "?"}, expect=404)
    call("POST", f"/handovers/{hid}/sign", expect=200)
    call("POST", f"/handovers/{hid}/sign", role=incoming, expect=200)
    call("POST", f"/handovers/{hid}/scans", role=incoming, json={"code": key["tag_code"]}, expect=409)
    counted = call("POST", "/handovers", json={"kind": "key_count"}, expect=201).get_json()
    call("POST", f"/handovers/{counted['id']}/cancel", role="supervisor", json={"reason": "wrong day"}, expect=200)


def test_one_missing_item_blocks_signing_until_it_is_explained(api, incoming):
    here, gone = deposit(api, 2)
    opened = api.post("/handovers", json={"shift_start": SHIFT_START}).get_json()
    assert opened["progress"] == {"expected": 2, "found": 0, "scanned": 0}
    sheet = api.get(f"/handovers/{opened['id']}").get_json()
    assert [d["ticket_no"] for d in sheet["context"]["deposits"]["items"]] == [here["ticket_no"], gone["ticket_no"]]
    scan = api.post(f"/handovers/{opened['id']}/scans", role=incoming, json={"code": here["tag_code"]}).get_json()
    assert (scan["duplicate"], scan["line"]["finding"], scan["progress"]["found"]) == (False, "found", 1)
    assert scan["line"]["owner"] == "张*" and "phone" not in str(scan)
    again = api.post(f"/handovers/{opened['id']}/scans", json={"code": here["tag_code"]}).get_json()
    assert again["duplicate"] and again["progress"]["scanned"] == 1

    for role in ("staff", incoming):
        refused = api.post(f"/handovers/{opened['id']}/sign", role=role)
        assert refused.status_code == 409
        assert refused.get_json()["error"] == {
            "code": "discrepancies_unexplained", "id": opened["id"], "count": 1, "item_ids": [gone["id"]],
            "message": "1 difference(s) are not explained yet: explain or escalate each before signing."}
    view = api.get(f"/handovers/{opened['id']}").get_json()
    assert [m["item_id"] for m in view["missing"]] == [gone["id"]] and view["counts"]["unexplained"] == 1

    explained = api.post(f"/handovers/{opened['id']}/explanations", role=incoming,
                         json={"item_id": gone["id"], "text": "not on the shelf", "escalate": True}).get_json()
    assert explained["explanation"]["text"] == "not on the shelf" and explained["explanation"]["alert_id"]
    alert = api.get("/alerts", role="security").get_json()["alerts"][0]
    assert (alert["kind"], alert["item_id"]) == ("item_missing", gone["id"])
    assert api.post(f"/handovers/{opened['id']}/sign").get_json()["state"] == "open"
    signed = api.post(f"/handovers/{opened['id']}/sign", role=incoming).get_json()
    assert signed["state"] == "signed" and signed["incoming"]["name"] == "staff-2"
    assert signed["counts"]["missing"] == 1 and signed["chain_head"]["seq"] > 0
    assert api.get("/audit/verify", role="security").get_json()["ok"]


def test_a_scan_in_the_wrong_place_shows_where_the_ledger_says(api, incoming):
    item, = deposit(api)  # a long stay: the storeroom
    hid = api.post("/handovers", json={"shift_start": SHIFT_START}).get_json()["id"]
    line = api.post(f"/handovers/{hid}/scans", role=incoming,
                    json={"code": item["tag_code"], "location": "front_desk"}).get_json()["line"]
    assert (line["discrepancy"], line["found_location"], line["ledger_location"]) == (
        "wrong_place", "front_desk", "storeroom")
    view = api.get(f"/handovers/{hid}").get_json()
    assert [w["item_id"] for w in view["wrong_place"]] == [item["id"]] and view["found"][0]["item_id"] == item["id"]
    bad = api.post(f"/handovers/{hid}/scans", json={"code": item["tag_code"], "location": "roof"})
    assert (bad.status_code, bad.get_json()["error"]["code"]) == (422, "invalid_location")


def test_a_signed_handover_refuses_a_late_scan_in_either_language(api, incoming):
    item, late = deposit(api, 2)
    hid = api.post("/handovers", json={"shift_start": SHIFT_START}).get_json()["id"]
    api.post(f"/handovers/{hid}/scans", role=incoming, json={"code": item["tag_code"]})
    api.post(f"/handovers/{hid}/explanations", json={"item_id": late["id"], "text": "owner collected at 7:55"})
    api.post(f"/handovers/{hid}/sign")
    api.post(f"/handovers/{hid}/sign", role=incoming)
    refused = api.post(f"/handovers/{hid}/scans", role=incoming, json={"code": late["tag_code"]},
                       headers={"Accept-Language": "zh-CN"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "handover_signed"
    assert refused.get_json()["error"]["message"] == f"交接单 {hid} 已由双方签字，不能再修改。"
    sheet = api.get(f"/handovers/{hid}").get_json()
    assert sheet["sheet_intact"] is True and sheet["progress"]["found"] == 1
    assert sheet["missing"][0]["explanation"]["text"] == "owner collected at 7:55"


def test_the_same_login_cannot_sign_twice_and_a_device_cannot_count(api, incoming):
    hid = api.post("/handovers", json={"shift_start": SHIFT_START}).get_json()["id"]
    api.post(f"/handovers/{hid}/sign")
    assert api.post(f"/handovers/{hid}/sign").get_json()["state"] == "open"  # still waiting for the incoming
    assert api.post(f"/handovers/{hid}/scans", role="kiosk", json={"code": "x"}).status_code == 403


def test_the_key_count_has_its_own_sheet(api, incoming):
    keys = [api.post("/keys", json=key_deposit(key_kind=kind)).get_json()
            for kind in ("unit_key", "unit_key", "resident_card")]
    assert keys[2]["item"]["key_kind"] == "resident_card"
    counted = api.post("/handovers", json={"kind": "key_count"}).get_json()
    assert counted["progress"]["expected"] == 3
    assert "deposits" not in api.get(f"/handovers/{counted['id']}").get_json()["context"]
    for key in keys[:2]:
        line = api.post(f"/handovers/{counted['id']}/scans", role=incoming, json={"code": key["tag_code"]}).get_json()
        assert line["line"]["found_location"] == "key_cabinet"
    sheet = api.get(f"/handovers/{counted['id']}").get_json()["key_kinds"]
    assert sheet["unit_key"]["found"] == 2 and sheet["resident_card"]["missing"] == 1


def test_the_sealer_anchors_a_signed_handover_and_the_sheet_shows_that_anchor(api, app, incoming):
    from kiosk import anchors
    from web.sealer import seal_now

    [item] = deposit(api)
    hid = api.post("/handovers", json={"shift_start": SHIFT_START}).get_json()["id"]
    api.post(f"/handovers/{hid}/scans", role=incoming, json={"code": item["tag_code"]})
    api.post(f"/handovers/{hid}/sign")
    api.post(f"/handovers/{hid}/sign", role=incoming)
    assert api.get(f"/handovers/{hid}").get_json()["anchor"] is None  # not sealed yet

    seal_now(app)
    sheet = api.get(f"/handovers/{hid}").get_json()
    taken = anchors.read(app.config["AUDIT_ANCHORS"], app.config["AUDIT_KEY"])
    assert [a.reason for a in taken] == ["handover"]
    assert sheet["anchor"]["position"] == taken[0].position and sheet["anchor"]["hash"] == taken[0].hash
    # The anchor covers the signing: verify finds the chain agreeing with it.
    verdict = api.get("/audit/verify", role="supervisor").get_json()
    assert verdict["ok"] and verdict["anchors"] == 1
    seal_now(app)  # nothing new sealed: no second anchor
    assert len(anchors.read(app.config["AUDIT_ANCHORS"], app.config["AUDIT_KEY"])) == 1
