"""What an attacker (or a confused scanner) sends: a stable 4xx naming the field, never a 5xx,
and nothing half written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kiosk.models import AuditEvent, Item
from tests.conftest import luggage
from web.schema import MAX_JSON_DEPTH, looks_like_id_number


def _count(session, model) -> int:
    value = session.scalar(select(func.count()).select_from(model))
    session.rollback()
    return value


@pytest.mark.parametrize("path", ["/items/9223372036854775808", "/items/99999999999999999999999/release",
                                  "/items/0", "/items/-1/move", "/print-jobs/18446744073709551616/retry",
                                  "/alerts/9223372036854775808/resolve"])
def test_ids_outside_the_database_range_are_404(api, path):
    method = "GET" if path.count("/") == 2 else "POST"
    response = api(method, path, role="admin", json={})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_the_largest_id_is_simply_not_found(api):
    response = api.get("/items/9223372036854775807")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path, role", [("/items", "staff"), ("/scans", "kiosk"), ("/items/1/release", "staff")])
def test_json_nested_too_deep_is_400(api, path, role):
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        body = "[" * depth + "]" * depth
        response = api.post(path, role=role, data=body, content_type="application/json")
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"
    nested = {"code": "x"}
    for _ in range(MAX_JSON_DEPTH):
        nested = {"code": nested}
    response = api.post("/scans", role="kiosk", json=nested)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("body, field", [
    (luggage(description="black\x00suitcase"), "description"),
    (luggage(owner={"unit": "12-0301", "name": "张\x1b[2J伟", "phone": "13812345678"}), "owner.name"),
    (luggage(location_detail="shelf\x00B"), "location_detail"),
    (luggage(carrier="SF\x07"), "carrier"),
])
def test_control_characters_in_text_are_refused(api, session, body, field):
    response = api.post("/items", json=body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"] == {**response.get_json()["error"], "code": "invalid_text", "field": field}
    assert _count(session, Item) == 0


def test_nul_in_a_move_is_refused_before_the_database(api):
    item = api.post("/items", json=luggage()).get_json()
    response = api.post(f"/items/{item['id']}/move", json={"location": "storeroom", "location_detail": "B\x003"})
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "location_detail"


@pytest.mark.parametrize("body, code, field", [
    (luggage(kind=3), "invalid_type", "kind"),
    (luggage(kind="bicycle"), "invalid_kind", "kind"),
    (luggage(owner={"unit": "", "name": "张伟", "phone": "13812345678"}), "missing_field", "owner.unit"),
    (luggage(owner={"unit": "   ", "name": "张伟", "phone": "13812345678"}), "missing_field", "owner.unit"),
    (luggage(owner={"unit": "1", "name": "张伟"}), "missing_field", "owner.phone"),
    (luggage(owner={"unit": "1", "name": "张伟", "phone": "call me"}), "invalid_phone", "owner.phone"),
    (luggage(owner={"unit": "1", "name": "张伟", "phone": "13812345678", "id": "x"}), "unknown_field", "owner.id"),
    (luggage(urgent="yes"), "invalid_type", "urgent"),
    (luggage(description="x" * 501), "too_long", "description"),
    (luggage(expected_pickup_at="tomorrow"), "invalid_time", "expected_pickup_at"),
    (luggage(expected_pickup_at="2099-01-01T09:00:00"), "invalid_time", "expected_pickup_at"),
    (luggage(expected_pickup_at=4102444800), "invalid_time", "expected_pickup_at"),
    (luggage(declared=["gold bars"]), "invalid_declaration", "declared.0"),
    (luggage(location="roof"), "invalid_location", "location"),
    (luggage(extra=1), "unknown_field", "extra"),
])
def test_wrong_shapes_name_the_field(api, session, body, code, field):
    response = api.post("/items", json=body)
    error = response.get_json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (422, code, field)
    assert error["message"]
    assert _count(session, Item) == 0


@pytest.mark.parametrize("text", [
    "王 110101199003071234", "110101199003071234", "11010119900307123X", "110101900307123", "E12345678",
    "EA1234567",
])
def test_id_numbers_are_recognised(text):
    assert looks_like_id_number(text)


@pytest.mark.parametrize("text", [
    "13812345678", "A-0042", "EMS EA123456789CN", "黑色拉杆箱", "110101199013071234", "110101199002301234",
    "room 1203", "SF1234567890",
])
def test_ordinary_text_is_not_an_id_number(text):
    assert not looks_like_id_number(text)


@pytest.mark.parametrize("path, body, field", [
    ("/items", luggage(owner={"unit": "1", "name": "王 110101199003071234", "phone": "13812345678"}), "owner.name"),
    ("/items", luggage(description="客户证件 110101199003071234"), "description"),
    ("/items", luggage(designated_collector={"name": "李明 13700001111"}), "designated_collector.name"),
    ("/items", luggage(owner={"unit": "1", "name": "Li E12345678", "phone": "13812345678"}), "owner.name"),
])
def test_id_numbers_are_never_stored(api, session, path, body, field):
    before = _count(session, AuditEvent)
    response = api.post(path, json=body)
    error = response.get_json()["error"]
    assert (response.status_code, error["code"], error["field"]) == (422, "id_number_not_allowed", field)
    assert _count(session, Item) == 0 and _count(session, AuditEvent) == before


def test_a_collectors_full_id_number_never_reaches_the_trail(api, session):
    item = api.post("/items", json=luggage()).get_json()
    response = api.post(f"/items/{item['id']}/release", json={
        "stub_code": item["stub_code"], "tag_code": item["tag_code"],
        "collector": {"name": "王 110101199003071234", "id_type": "resident_id", "id_last4": "1234"}})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "id_number_not_allowed"
    details = " ".join(session.scalars(select(AuditEvent.details)))
    assert "110101199003071234" not in details


def test_wrong_query_arguments_are_422_with_the_argument_named(api):
    for query, field in (("limit=abc", "limit"), ("limit=501", "limit"), ("status=lost", "status"),
                         ("cursor=9223372036854775808", "cursor"), ("kind=bike", "kind")):
        response = api.get(f"/items?{query}", role="supervisor")
        error = response.get_json()["error"]
        assert (response.status_code, error["code"], error["field"]) == (422, "invalid_query", field), query


def test_an_error_parameter_named_status_is_no_server_error(api, app):
    from web.print_worker import run_once

    job = api.post("/items", json=luggage()).get_json()["print_job"]["id"]
    assert run_once(app).printed == [job]
    again = api.post(f"/print-jobs/{job}/retry")
    error = again.get_json()["error"]
    assert (again.status_code, error["code"], error["status"]) == (409, "print_job_not_retryable", "printed")
