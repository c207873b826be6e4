"""Every endpoint, every role: the allowed/denied matrix, checked against what the roles mean."""
import re

import pytest

from kiosk.accounts import PERMISSIONS
from tests.conftest import luggage
from web.openapi import document

ROLES = ("kiosk", "staff", "supervisor", "security", "admin")

# The matrix as the desk describes it, written out independently of PERMISSIONS.
EXPECTED = {
    ("post", "/items"): {"staff", "supervisor", "admin"},
    ("get", "/items"): {"supervisor", "admin"},
    ("get", "/items/{item_id}"): {"staff", "supervisor", "security", "admin"},
    ("get", "/items/lookup"): {"staff", "supervisor", "security", "admin"},
    ("post", "/scans"): {"kiosk", "staff", "supervisor", "admin"},
    ("post", "/decode"): {"kiosk", "staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/release"): {"staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/lost-stub"): {"staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/move"): {"staff", "supervisor", "admin"},
    ("get", "/items/{item_id}/events"): {"supervisor", "security", "admin"},
    ("post", "/items/{item_id}/reprint"): {"staff", "supervisor", "admin"},
    ("get", "/items/{item_id}/label.png"): {"staff", "supervisor", "admin"},
    ("get", "/print-jobs"): {"staff", "supervisor", "admin"},
    ("post", "/print-jobs/{job_id}/retry"): {"staff", "supervisor", "admin"},
    ("post", "/print-jobs/{job_id}/confirm"): {"staff", "supervisor", "admin"},
    ("post", "/print-jobs/{job_id}/reprint"): {"staff", "supervisor", "admin"},
    ("get", "/alerts"): {"supervisor", "security", "admin"},
    ("post", "/alerts/{alert_id}/resolve"): {"supervisor", "security", "admin"},
    ("get", "/audit/verify"): {"supervisor", "security", "admin"},
    # The supervisor's views; following up unclaimed items (staff call owners, a supervisor approves disposal).
    ("get", "/items.csv"): {"supervisor", "admin"},
    ("get", "/supervisor/summary"): {"supervisor", "admin"},
    ("get", "/supervisor/charts/held"): {"supervisor", "admin"},
    ("get", "/supervisor/charts/traffic"): {"supervisor", "admin"},
    ("get", "/items/{item_id}/contacts"): {"staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/contacts"): {"staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/disposal-requests"): {"staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/notify"): {"staff", "supervisor", "admin"},
    ("get", "/disposal-requests"): {"supervisor", "admin"},
    ("post", "/disposal-requests/{request_id}/approve"): {"supervisor", "admin"},
    ("post", "/disposal-requests/{request_id}/decline"): {"staff", "supervisor", "admin"},
    # Keys: desk staff lend and take back; security may see who has which key; the full phone
    # of a borrower only for those who would call them.
    ("post", "/keys"): {"staff", "supervisor", "admin"},
    ("post", "/items/{item_id}/loans"): {"staff", "supervisor", "admin"},
    ("post", "/loans/{loan_id}/return"): {"staff", "supervisor", "admin"},
    ("get", "/loans"): {"staff", "supervisor", "security", "admin"},
    ("post", "/loans/{loan_id}/phone"): {"staff", "supervisor", "admin"},
    # Mail: the desk's work; notices about an item readable by whoever may read the item.
    ("post", "/mail"): {"staff", "supervisor", "admin"},
    ("post", "/mail/{item_id}/pickup"): {"staff", "supervisor", "admin"},
    ("post", "/mail/{item_id}/undeliverable"): {"staff", "supervisor", "admin"},
    ("get", "/mail/returns"): {"staff", "supervisor", "admin"},
    ("post", "/mail/{item_id}/return-to-post"): {"staff", "supervisor", "admin"},
    ("get", "/items/{item_id}/notifications"): {"staff", "supervisor", "security", "admin"},
    # The outbox: the desk settles messages in doubt.
    ("get", "/notifications"): {"staff", "supervisor", "admin"},
    ("post", "/notifications/{message_id}/review"): {"staff", "supervisor", "admin"},
    # The complaints desk: a kiosk may file, the desk handles, supervisors reassign, analyse, keep the calendar.
    ("post", "/complaints"): {"kiosk", "staff", "supervisor", "admin"},
    ("get", "/complaints"): {"staff", "supervisor", "admin"},
    ("get", "/complaints/{complaint_id}"): {"staff", "supervisor", "admin"},
    ("post", "/complaints/{complaint_id}/transitions"): {"staff", "supervisor", "admin"},
    ("post", "/complaints/{complaint_id}/replies"): {"staff", "supervisor", "admin"},
    ("post", "/complaints/{complaint_id}/assessment"): {"staff", "supervisor", "admin"},
    ("post", "/complaints/{complaint_id}/reassign"): {"supervisor", "admin"},
    ("get", "/work-orders"): {"staff", "supervisor", "admin"},
    ("post", "/work-orders/{order_id}/transitions"): {"staff", "supervisor", "admin"},
    ("get", "/complaints/analysis"): {"supervisor", "admin"},
    ("get", "/complaints/analysis.csv"): {"supervisor", "admin"},
    ("get", "/calendar"): {"staff", "supervisor", "admin"},
    ("post", "/calendar/days"): {"supervisor", "admin"},
    ("delete", "/calendar/days/{day}"): {"supervisor", "admin"},
    ("post", "/calendar/weekdays"): {"supervisor", "admin"},
    ("post", "/handovers"): {"staff", "supervisor", "admin"},
    ("get", "/handovers"): {"staff", "supervisor", "security", "admin"},
    ("get", "/handovers/{handover_id}"): {"staff", "supervisor", "security", "admin"},
    ("post", "/handovers/{handover_id}/scans"): {"staff", "supervisor", "admin"},
    ("post", "/handovers/{handover_id}/explanations"): {"staff", "supervisor", "admin"},
    ("post", "/handovers/{handover_id}/unfinished"): {"staff", "supervisor", "admin"},
    ("post", "/handovers/{handover_id}/sign"): {"staff", "supervisor", "admin"},
    ("post", "/handovers/{handover_id}/cancel"): {"supervisor", "admin"},
}


def operations():
    for path, methods in document()["paths"].items():
        for method, op in methods.items():
            if "x-permission" in op:
                yield method, path, op


def test_the_matrix_covers_every_protected_operation():
    assert {(m, p) for m, p, _ in operations()} == set(EXPECTED)
    for method, path, op in operations():
        assert set(PERMISSIONS[op["x-permission"]]) == EXPECTED[(method, path)], (method, path)


@pytest.fixture
def existing(api):
    body = api.post("/items", json=luggage()).get_json()
    api.post(f"/items/{body['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟"})
    api.post("/scans", role="staff", json={"code": body["stub_code"]})  # raises alert 1
    return body


def test_every_endpoint_with_every_role(api, existing):
    bodies = {
        "/items": luggage(),
        "/scans": {"code": existing["tag_code"]},
        "/items/{item_id}/release": {"tag_code": existing["tag_code"], "stub_code": existing["stub_code"]},
        "/items/{item_id}/lost-stub": {"unit": "12-0301", "name": "张伟"},
        "/items/{item_id}/move": {"location": "storeroom"},
        "/alerts/{alert_id}/resolve": {"note": "checked"},
        "/complaints": {"kind": "help", "category": "other", "channel": "visit", "unit": "1-0101", "name": "王芳",
                        "contact": "13900000000", "content": "a parcel is too heavy"},
        "/complaints/{complaint_id}/transitions": {"to": "acknowledged"},
        "/complaints/{complaint_id}/replies": {"text": "on our way"},
        "/complaints/{complaint_id}/assessment": {"our_cause": False},
        "/complaints/{complaint_id}/reassign": {"owner": "staff-1", "reason": "back from leave"},
        "/work-orders/{order_id}/transitions": {"to": "in_progress"},
        "/calendar/days": {"day": "2026-10-01", "working": False},
        "/calendar/weekdays": {"weekday": 5, "working": False},
        "/items/{item_id}/contacts": {"method": "phone", "outcome": "no_answer"},
        "/items/{item_id}/disposal-requests": {"action": "dispose", "reason": "mouldy"},
        "/items/{item_id}/notify": {"channel": "sms"},
        "/disposal-requests/{request_id}/approve": {},
        "/disposal-requests/{request_id}/decline": {},
        "/items/{item_id}/reprint": {"reason": "label torn"},
        "/print-jobs/{job_id}/reprint": {"reason": "jammed"},
    }
    seen = 0
    for method, path, _ in operations():
        url = re.sub(r"\{item_id\}", str(existing["id"]), path)
        for name in ("alert_id", "job_id", "loan_id", "message_id", "handover_id", "request_id"):
            url = url.replace("{" + name + "}", "1")
        for name in ("complaint_id", "order_id"):
            url = url.replace("{" + name + "}", "1")
        url = url.replace("{day}", "2026-10-01")
        anonymous = api(method.upper(), url, role=None, json=bodies.get(path))
        assert anonymous.status_code == 401 and anonymous.get_json()["error"]["code"] == "unauthorized"
        for role in ROLES:
            response = api(method.upper(), url, role=role, json=bodies.get(path))
            error = (response.get_json() or {}).get("error", {}).get("code")
            if role in EXPECTED[(method, path)]:
                assert error != "forbidden" and response.status_code != 401, (method, path, role, error)
                assert response.status_code < 500
            else:
                assert (response.status_code, error) == (403, "forbidden"), (method, path, role)
            seen += 1
    assert seen == len(EXPECTED) * len(ROLES)


def test_revoked_and_unknown_tokens_are_401(api, app, tokens):
    from kiosk import accounts

    with app.extensions["kiosk.sessions"]() as session:
        accounts.revoke_token(session, tokens["staff"])
        session.commit()
    assert api.post("/scans", role="staff", json={"code": "x"}).status_code == 401
    bogus = api.client.post("/api/v1/scans", json={"code": "x"}, headers={"Authorization": "Bearer ku_nope"})
    assert bogus.status_code == 401 and bogus.headers["WWW-Authenticate"].startswith("Bearer")


def test_openapi_describes_every_api_route(app, client):
    served = client.get("/api/openapi.json").get_json()
    assert served["openapi"].startswith("3.1")
    described = {(m.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", p))
                 for p, methods in served["paths"].items() for m in methods}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
            routed |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == described


def test_view_permissions_agree_with_the_document(app):
    by_path = {(m.upper(), "/api/v1" + re.sub(r"\{(\w+)\}", r"<\1>", p)): op.get("x-permission")
               for p, methods in document()["paths"].items() for m, op in methods.items()}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert getattr(view, "permission", None) == by_path[(method, path)], rule.rule
