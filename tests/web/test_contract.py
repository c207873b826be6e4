"""The OpenAPI document is the contract: real answers of every operation must match it,
and every code it names must read in both languages."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from jsonschema import Draft202012Validator
from PIL import Image
from sqlalchemy import update

from kiosk import printjobs
from kiosk.db import session_factory, transaction
from kiosk.models import Alert, Item
from kiosk.values import Actor
from tests.conftest import AUDIT_KEY, luggage
from tests.web.test_complaints_api import exercise_complaints
from tests.web.test_keys_mail_api import exercise_keys_and_mail, mail_body, register_residents
from tests.web.test_handovers import handover_contract
from web.messages import CATALOGUE, LOCALES
from web.openapi import document

_ARG = re.compile(r"\{(\w+)\}")


class Contract:
    """Sends requests through the API client and checks each answer against the document."""

    def __init__(self, api):
        self.api, self.doc, self.seen = api, document(), set()

    def _operation(self, method: str, path: str) -> tuple[str, dict]:
        # Literal segments first: /complaints/analysis is not /complaints/{complaint_id}.
        for template, ops in sorted(self.doc["paths"].items(), key=lambda entry: entry[0].count("{")):
            pattern = "^" + _ARG.sub(r"[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            if re.match(pattern, path.split("?")[0]) and method.lower() in ops:
                return template, ops[method.lower()]
        raise AssertionError(f"{method} {path} is not in the document")

    def __call__(self, method: str, path: str, role="staff", expect: int | None = None, **kwargs):
        response = self.api(method, path, role, **kwargs)
        template, op = self._operation(method, path)
        status = str(response.status_code)
        assert status in op["responses"], f"{method} {template} answered {status}, not in the document"
        content = op["responses"][status].get("content", {})
        if response.mimetype == "application/json":
            schema = content["application/json"]["schema"]
            validator = Draft202012Validator({**schema, "components": self.doc["components"]})
            errors = sorted(validator.iter_errors(response.get_json()), key=str)
            assert not errors, f"{method} {template} {status}: {errors[0].message} at {list(errors[0].path)}"
        else:
            assert response.mimetype in content, f"{method} {template} {status} answered {response.mimetype}"
        if expect is not None:
            assert response.status_code == expect, (method, path, response.get_json(silent=True))
        self.seen.add((method.lower(), template))
        return response


def _leave_in_doubt(engine) -> int:
    """A job whose worker died after its label started to go out."""
    now = datetime.now(UTC)
    worker = Actor(name="print-worker", role="system")
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        job = printjobs.claim_due(session, now=now)[0]
        printjobs.mark_sending(session, job.id, now=now)
        assert printjobs.settle_expired(session, worker, now=now + timedelta(hours=1)) == [job.id]
    return job.id


def _png_of(text: str) -> bytes:
    import qrcode

    buffer = io.BytesIO()
    qrcode.make(text, border=4, box_size=8).save(buffer, format="PNG")
    return buffer.getvalue()


def test_every_operation_answers_as_the_document_says(api, engine, users, staff_2):
    call = Contract(api)
    handover_contract(call, staff_2)
    deposited = call("POST", "/items", json=luggage(), expect=201).get_json()
    register_residents(engine)
    parcel = call("POST", "/mail", json=mail_body(), expect=201).get_json()
    # Keys and parcels have their own intake, with its checks: the plain deposit refuses them.
    call("POST", "/items", json=luggage(kind="parcel", expected_pickup_at=None), expect=422)
    item_id = deposited["id"]
    call("POST", "/items", json=luggage(declared=["cash"]), expect=422)
    call("POST", "/items", json={"kind": "luggage"}, expect=422)
    call("POST", "/items", data="[", content_type="application/json", expect=400)
    call("GET", "/items", role="supervisor", expect=200)
    call("GET", "/items?limit=0", role="supervisor", expect=422)
    call("GET", "/items", role="kiosk", expect=403)
    call("GET", "/items", role=None, expect=401)
    call("GET", f"/items/{item_id}", expect=200)
    call("GET", f"/items/{item_id}?reveal=phone", expect=200)
    call("GET", f"/items/{item_id}?reveal=phone", role="security", expect=403)
    call("GET", "/items/99999", expect=404)
    call("GET", f"/items/lookup?ticket_no={deposited['ticket_no']}", expect=200)
    call("GET", "/items/lookup", expect=422)
    call("POST", "/scans", role="kiosk", json={"code": deposited["stub_code"]}, expect=200)
    call("POST", "/scans", role="staff", json={"code": deposited["tag_code"]}, expect=200)
    call("POST", "/scans", role="kiosk", json={"code": "hello"}, expect=400)
    call("POST", "/scans", role="kiosk", json={"code": "K1S-1-0-" + "0" * 20}, expect=404)
    flood = [call("POST", "/scans", role="kiosk", json={"code": "nonsense"}) for _ in range(6)]
    limited = flood[-1]
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    call("POST", "/decode?scan=true", role="kiosk", data=_png_of(deposited["stub_code"]), content_type="image/png",
         expect=200)
    call("POST", "/decode", role="kiosk", data=b"not a picture", content_type="image/png", expect=422)
    call("POST", f"/items/{item_id}/move", json={"location": "storeroom", "location_detail": "B3"}, expect=200)
    call("POST", f"/items/{item_id}/reprint", json={"reason": "label torn"}, expect=202)
    call("POST", f"/items/{item_id}/reprint", json={}, expect=422)
    call("GET", f"/items/{item_id}/label.png", expect=200)
    call("GET", "/print-jobs", expect=200)
    doubtful = [_leave_in_doubt(engine), _leave_in_doubt(engine)]
    call("POST", f"/print-jobs/{doubtful[0]}/confirm", expect=200)
    call("POST", f"/print-jobs/{doubtful[0]}/confirm", expect=409)
    call("POST", f"/print-jobs/{doubtful[1]}/reprint", json={"reason": "no label came out"}, expect=202)
    call("POST", f"/print-jobs/{doubtful[0]}/reprint", json={"reason": "again"}, expect=409)
    job_id = call("GET", "/print-jobs?state=queued", expect=200).get_json()["print_jobs"][0]["id"]
    call("POST", f"/print-jobs/{job_id}/retry", expect=200)
    call("GET", f"/items/{item_id}/events", role="security", expect=200)
    call("POST", f"/items/{parcel['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟", "reissue": True},
         expect=200)
    call("POST", f"/items/{item_id}/lost-stub", json={"unit": "12-0301", "name": "张伟"}, expect=200)
    call("POST", f"/items/{item_id}/release", json={"tag_code": deposited["tag_code"],
                                                   "stub_code": deposited["stub_code"]}, expect=403)
    call("POST", f"/items/{item_id}/release", json={
        "tag_code": deposited["tag_code"],
        "collector": {"name": "张伟", "id_type": "resident_id", "id_last4": "123X"}}, expect=200)
    call("POST", f"/items/{item_id}/release", json={"tag_code": deposited["tag_code"]}, expect=409)
    alerts = call("GET", "/alerts", role="security", expect=200).get_json()["alerts"]
    call("POST", f"/alerts/{alerts[0]['id']}/resolve", role="security", json={"note": "checked"}, expect=200)
    call("POST", f"/alerts/{alerts[0]['id']}/resolve", role="security", json={}, expect=409)
    call("GET", "/audit/verify", role="security", expect=200)
    exercise_keys_and_mail(call, engine)
    call("GET", "/health", role=None, expect=200)
    call("GET", "/health/live", role=None, expect=200)
    exercise_complaints(call)
    _supervisor_scenario(call, engine, parcel["id"])

    documented = {(method, path) for path, ops in call.doc["paths"].items() for method in ops}
    assert documented - call.seen == set(), "operations the scenario did not exercise"
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:
        assert session.get(Alert, alerts[0]["id"]).resolved_by == "security-1"


def _supervisor_scenario(call, engine, parcel_id: int) -> None:
    """The supervisor's views and the follow-up of unclaimed items (issue 14)."""
    stale = call("POST", "/items", json=luggage(), expect=201).get_json()["id"]
    with transaction(session_factory(engine, audit_key=AUDIT_KEY)) as session:   # a bag whose owner was due two days ago
        session.execute(update(Item).where(Item.id == stale).values(
            deposited_at=datetime.now(UTC) - timedelta(days=5), expected_pickup_at=datetime.now(UTC) - timedelta(days=2)))
    call("GET", "/items?order=urgency&overdue=true&limit=1", role="supervisor", expect=200)
    call("GET", "/items?order=urgency&cursor=5", role="supervisor", expect=422)
    call("GET", "/items.csv?kind=parcel&location=mail_shelf", role="supervisor", expect=200)
    call("GET", "/items.csv?policy=late", role="supervisor", expect=422)
    call("GET", "/supervisor/summary?kind=luggage", role="supervisor", expect=200)
    call("GET", "/supervisor/charts/held?days=90", role="supervisor", expect=200)
    call("GET", "/supervisor/charts/traffic", role="supervisor", expect=200)
    call("POST", f"/items/{parcel_id}/contacts", json={"method": "phone", "outcome": "promised_pickup",
                                                       "promised_at": "2099-01-01T09:00:00+08:00"}, expect=201)
    call("POST", f"/items/{parcel_id}/contacts", json={"method": "notice_slip", "outcome": "reached"}, expect=422)
    call("GET", f"/items/{parcel_id}/contacts", expect=200)
    call("POST", f"/items/{stale}/contacts", json={"method": "phone", "outcome": "reached",
                                                   "at": "2000-01-01T09:00:00+08:00"}, expect=422)
    call("POST", f"/items/{stale}/notify", json={"channel": "sms"}, expect=201)
    call("POST", f"/items/{stale}/notify", json={"channel": "sms"}, expect=200)   # still queued: the same one
    call("POST", f"/items/{stale}/notify", json={"channel": "notice_slip"}, expect=422)
    asked = call("POST", f"/items/{stale}/disposal-requests", role="supervisor",
                 json={"action": "lost_and_found", "reason": "coat left for weeks"}, expect=201).get_json()
    call("POST", f"/items/{stale}/disposal-requests", json={"action": "dispose", "reason": "x"}, expect=409)
    call("POST", f"/disposal-requests/{asked['id']}/approve", role="supervisor", json={}, expect=409)
    call("GET", "/disposal-requests?state=all", role="supervisor", expect=200)
    call("POST", f"/disposal-requests/{asked['id']}/approve", role="admin", json={"note": "checked"}, expect=200)
    call("POST", f"/disposal-requests/{asked['id']}/decline", role="admin", json={}, expect=409)
    listed = call("GET", "/items?status=all&limit=100", role="supervisor", expect=200).get_json()["items"]
    assert "lost_and_found" in {i["status"] for i in listed}


def test_every_code_in_the_document_reads_in_both_languages():
    doc = document()
    codes = set()
    for ops in doc["paths"].values():
        for op in ops.values():
            for answer in op["responses"].values():
                schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
                codes.update(schema.get("properties", {}).get("error", {}).get("properties", {})
                             .get("code", {}).get("enum", []))
    assert len(codes) > 30
    missing = {(code, locale) for code in codes for locale in LOCALES if not CATALOGUE.get(code, {}).get(locale)}
    assert missing == set()


def test_every_operation_declares_who_may_call_it():
    for path, ops in document()["paths"].items():
        for method, op in ops.items():
            if not path.startswith("/health"):
                assert op["security"] == [{"bearer": []}] and "401" in op["responses"], (method, path)


@pytest.mark.parametrize("language, expected", [
    ("zh-CN,zh;q=0.9", "前台不寄存现金或贵重物品。"), ("zh-Hans", "前台不寄存现金或贵重物品。"), ("zh", "前台不寄存现金或贵重物品。"),
    ("en-GB,en;q=0.8", "The desk does not hold cash or valuables."), (None, "The desk does not hold cash or valuables."),
])
def test_errors_speak_the_clients_language(api, language, expected):
    headers = {"Accept-Language": language} if language else {}
    error = api.post("/items", json=luggage(declared=["valuables"]), headers=headers).get_json()["error"]
    assert (error["code"], error["message"]) == ("refused_valuables", expected)
    assert error["suggestion"] in ("Please use a bank safe deposit box.", "建议您使用银行保险箱。")


def test_a_picture_is_decoded_without_holding_the_database(api):
    # Sanity for the own-transactions path: a blank picture reads no codes and scans nothing.
    buffer = io.BytesIO()
    Image.new("L", (64, 64), 255).save(buffer, format="PNG")
    answer = api.post("/decode?scan=true", role="kiosk", data=buffer.getvalue(), content_type="image/png")
    assert answer.status_code == 200 and answer.get_json() == {"codes": [], "scans": []}
