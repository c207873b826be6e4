"""The OpenAPI 3.1 document for /api/v1, served at /api/openapi.json.

Written by hand next to the views; tests check that every route is described
and that the answers the tests receive match the schemas named here.
"""
from __future__ import annotations

from kiosk import policy
from kiosk.accounts import PERMISSIONS


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _error(description: str, codes: list[str]) -> dict:
    return {"description": f"{description}. Codes: {', '.join(codes)}", **_json(_ref("Error"))}


def _op(summary: str, permission: str, responses: dict, *, body: dict | None = None,
        params: list | None = None, tag: str = "items") -> dict:
    roles = ", ".join(sorted(PERMISSIONS[permission]))
    op = {
        "summary": summary,
        "description": f"Roles: {roles}.",
        "tags": [tag],
        "x-permission": permission,
        "security": [{"bearer": []}],
        "responses": {
            **responses,
            "401": _error("Missing, unknown or revoked token", ["unauthorized"]),
            "403": _error("This role may not do this", ["forbidden"]),
        },
    }
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    if params:
        op["parameters"] = params
    return op


ITEM_ID = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}

SCHEMAS = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string"}}}},
    },
    "Person": {
        "type": "object", "required": ["unit", "name", "phone"], "additionalProperties": False,
        "properties": {"unit": {"type": "string", "maxLength": 32}, "name": {"type": "string", "maxLength": 64},
                       "phone": {"type": "string", "maxLength": 24}},
    },
    "DepositRequest": {
        "type": "object", "required": ["kind", "owner"], "additionalProperties": False,
        "properties": {
            "kind": {"enum": list(policy.KINDS)},
            "owner": _ref("Person"),
            "size": {"enum": list(policy.SIZES), "default": "small"},
            "description": {"type": "string", "maxLength": 500},
            "expected_pickup_at": {"type": "string", "format": "date-time",
                                   "description": "Required for luggage and short_term; with a time zone."},
            "designated_collector": {"type": "object", "additionalProperties": False,
                                     "properties": {"name": {"type": "string"}, "phone": {"type": "string"}}},
            "location": {"enum": list(policy.LOCATIONS)},
            "location_detail": {"type": "string", "maxLength": 64},
            "declared": {"type": "array", "items": {"enum": list(policy.DECLARABLE)},
                         "description": "Flammable, explosive, toxic, prohibited goods, cash and valuables are "
                                        "refused; food, strong_smell, fragile, perishable need "
                                        "disclaimer_acknowledged."},
            "disclaimer_acknowledged": {"type": "boolean"},
            "carrier": {"type": "string", "maxLength": 32},
            "urgent": {"type": "boolean", "description": "Express mail: call the owner until reached."},
            "printer": {"type": "string", "description": "A printer name from KIOSK_PRINTERS; default printer if absent."},
        },
    },
    "PrintJob": {
        "type": "object", "required": ["id", "item_id", "printer", "status", "attempts"],
        "properties": {
            "id": {"type": "integer"}, "item_id": {"type": "integer"}, "printer": {"type": "string"},
            "reprint": {"type": "boolean"}, "status": {"enum": ["queued", "sending", "printed", "failed"]},
            "stuck": {"type": "boolean", "description": "Still retrying after several attempts: check the printer."},
            "attempts": {"type": "integer"}, "next_attempt_at": {"type": "string"},
            "last_error": {"type": ["object", "null"]}, "created_at": {"type": "string"},
            "printed_at": {"type": ["string", "null"]},
        },
    },
    "DepositResult": {
        "type": "object", "required": ["id", "ticket_no", "status", "tag_code"],
        "properties": {
            "id": {"type": "integer"}, "ticket_no": {"type": "string"}, "status": {"enum": ["held"]},
            "kind": {"type": "string"}, "tag_code": {"type": "string"},
            "stub_code": {"type": "string", "description": "luggage, key, short_term"},
            "pickup_code": {"type": "string", "description": "parcel, mail"},
            "location": {"type": "string"}, "suggested_location": {"type": "string"},
            "storeroom_suggested": {"type": "boolean"}, "item": _ref("Item"),
            "print_job": _ref("PrintJob"),
        },
    },
    "Item": {
        "type": "object", "required": ["ticket_no", "kind", "status", "owner"],
        "description": "Kiosk tokens get only ticket_no, kind, status, owner.unit, a masked owner.name "
                       "and deposited_at. owner.phone is only in the single-item view for desk roles.",
        "properties": {
            "id": {"type": "integer"}, "ticket_no": {"type": "string"}, "kind": {"type": "string"},
            "status": {"enum": ["held", "released"]},
            "owner": {"type": "object", "properties": {
                "unit": {"type": "string"}, "name": {"type": "string"},
                "phone_masked": {"type": "string"}, "phone": {"type": "string"}}},
            "location": {"type": "string"}, "claim_state": {"enum": ["active", "lost"]},
            "deposited_at": {"type": "string", "format": "date-time"},
            "release": {"type": "object"},
        },
    },
    "ItemList": {
        "type": "object", "required": ["items", "next_cursor"],
        "properties": {"items": {"type": "array", "items": _ref("Item")},
                       "next_cursor": {"type": ["string", "null"]}},
    },
    "ScanResult": {
        "type": "object", "required": ["next", "message"],
        "properties": {
            "role": {"enum": ["tag", "stub", "pickup"]},
            "next": {"enum": ["present_at_desk", "scan_claim", "none", "wait_for_staff"]},
            "message": {"type": "string"}, "item": _ref("Item"), "alert": {"type": "object"},
        },
    },
    "ReleaseRequest": {
        "type": "object", "required": ["tag_code"], "additionalProperties": False,
        "properties": {
            "tag_code": {"type": "string", "maxLength": 256},
            "stub_code": {"type": "string", "maxLength": 256},
            "pickup_code": {"type": "string", "maxLength": 256},
            "collector": {"type": "object", "required": ["name", "id_type", "id_last4"], "additionalProperties": False,
                          "description": "When the collector is not the depositor, or the stub was lost. "
                                         "Only the last 4 characters of the ID are accepted.",
                          "properties": {"name": {"type": "string"}, "id_type": {"enum": list(policy.ID_TYPES)},
                                         "id_last4": {"type": "string", "pattern": "^[0-9A-Za-z]{4}$"},
                                         "phone": {"type": "string"}}},
        },
    },
    "Event": {
        "type": "object", "required": ["seq", "at", "event", "actor", "hash"],
        "properties": {"seq": {"type": "integer"}, "at": {"type": "string"}, "event": {"type": "string"},
                       "actor": {"type": "string"}, "actor_role": {"type": "string"},
                       "device": {"type": ["string", "null"]}, "details": {"type": "object"},
                       "hash": {"type": "string"}},
    },
    "Alert": {
        "type": "object", "required": ["id", "kind", "at"],
        "properties": {"id": {"type": "integer"}, "kind": {"type": "string"}, "item_id": {"type": ["integer", "null"]},
                       "at": {"type": "string"}, "actor": {"type": "string"}, "details": {"type": "object"},
                       "resolved_at": {"type": ["string", "null"]}},
    },
}


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Lobby custody kiosk", "version": "1",
                 "description": "The front desk's custody ledger. Every error is "
                                "{\"error\": {\"code\", \"message\"}} with a stable code."},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "`kiosk token create NAME` or `--kiosk DEVICE`"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/health": {"get": {"summary": "Liveness for load balancers", "tags": ["meta"], "security": [],
                                "responses": {"200": {"description": "Up"}}}},
            "/items": {
                "post": _op("Take an item in (deposit)", "deposit", {
                    "201": {"description": "Registered; codes for the two-part label", **_json(_ref("DepositResult"))},
                    "400": _error("Body is not a JSON object", ["invalid_json"]),
                    "422": _error("Invalid, refused or incomplete", [
                        "missing_field", "unknown_field", "invalid_type", "invalid_kind", "invalid_size",
                        "invalid_time", "invalid_phone", "invalid_location", "invalid_declaration", "too_long",
                        "invalid_text", "refused_hazardous", "refused_valuables", "acknowledgement_required"]),
                }, body=_ref("DepositRequest")),
                "get": _op("List items, newest first (keyset pagination)", "list_items", {
                    "200": {"description": "A page", **_json(_ref("ItemList"))},
                    "422": _error("Bad query", ["invalid_query"]),
                }, params=[
                    {"name": "status", "in": "query", "schema": {"enum": ["held", "released", "all"], "default": "held"}},
                    {"name": "kind", "in": "query", "schema": {"enum": list(policy.KINDS)}},
                    {"name": "unit", "in": "query", "schema": {"type": "string"}},
                    {"name": "overdue", "in": "query", "schema": {"enum": ["true", "false"]}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ]),
            },
            "/items/{item_id}": {"get": _op("One item", "read_item", {
                "200": {"description": "The item", **_json(_ref("Item"))},
                "404": _error("No such item", ["not_found"]),
            }, params=[ITEM_ID])},
            "/scans": {"post": _op("Say what a scanned code is and what happens next", "scan", {
                "200": {"description": "A code of this desk", **_json(_ref("ScanResult"))},
                "400": _error("Not a claim code", ["malformed_code", "code_too_long", "invalid_json"]),
                "404": _error("Forged or unknown code (recorded in the audit trail)", ["unknown_code"]),
            }, body={"type": "object", "required": ["code"], "additionalProperties": False,
                     "properties": {"code": {"type": "string"}}}, tag="scans")},
            "/decode": {"post": {**_op("Read the QR codes in a camera frame or phone photo; with scan=true scan them",
                                       "scan", {
                "200": {"description": "Codes read (possibly none) and, with scan=true, one scan answer per code",
                        **_json({"type": "object", "required": ["codes"], "properties": {
                            "codes": {"type": "array", "items": {"type": "object", "properties": {
                                "text": {"type": "string"}, "decoder": {"type": "string"},
                                "points": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}}}},
                            "scans": {"type": "array", "items": {"type": "object"}}}})},
                "400": _error("No image field", ["missing_image"]),
                "413": _error("Upload or picture too large", ["payload_too_large", "image_too_large"]),
                "415": _error("Not an image upload", ["unsupported_media_type"]),
                "422": _error("Not a whole image", ["invalid_image", "invalid_query"]),
            }, params=[{"name": "scan", "in": "query", "schema": {"enum": ["true", "false"]}}], tag="scans"),
                "requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "image": {"type": "string", "format": "binary"}}}},
                    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                    "image/png": {"schema": {"type": "string", "format": "binary"}}}}}},
            "/items/{item_id}/release": {"post": _op("Hand an item out when tag and stub match", "release", {
                "200": {"description": "Released", **_json(_ref("Item"))},
                "403": _error("The stub was reported lost; security alerted", ["stub_revoked", "forbidden"]),
                "404": _error("No such item", ["not_found"]),
                "409": _error("Halves do not match, or already handed out",
                              ["tag_mismatch", "stub_mismatch", "already_released", "conflict"]),
                "422": _error("Missing proof", ["stub_required", "identity_required", "invalid_id_type",
                                                "invalid_id_last4", "missing_field", "unknown_field"]),
                "400": _error("Unreadable code", ["malformed_code", "code_too_long", "invalid_json"]),
            }, body=_ref("ReleaseRequest"), params=[ITEM_ID])},
            "/items/{item_id}/lost-stub": {"post": _op("Report the stub lost; optionally issue a new one",
                                                       "report_lost", {
                "200": {"description": "Marked lost (and the new stub_code/pickup_code when reissued)"},
                "404": _error("No such item", ["not_found"]),
                "422": _error("Reporter does not match the owner", ["owner_mismatch", "missing_field"]),
            }, body={"type": "object", "required": ["unit", "name"], "additionalProperties": False,
                     "properties": {"unit": {"type": "string"}, "name": {"type": "string"},
                                    "reissue": {"type": "boolean"}}}, params=[ITEM_ID])},
            "/items/{item_id}/move": {"post": _op("Move an item to another storage place", "move", {
                "200": {"description": "Moved", **_json(_ref("Item"))},
                "404": _error("No such item", ["not_found"]),
                "409": _error("Already handed out", ["already_released"]),
                "422": _error("Bad location", ["invalid_location", "missing_field"]),
            }, body={"type": "object", "required": ["location"], "additionalProperties": False,
                     "properties": {"location": {"enum": list(policy.LOCATIONS)},
                                    "location_detail": {"type": "string"}}}, params=[ITEM_ID])},
            "/items/{item_id}/reprint": {"post": _op("Queue a reprint of the label, marked REPRINT", "print", {
                "202": {"description": "Queued", **_json(_ref("PrintJob"))},
                "404": _error("No such item", ["not_found"]),
                "409": _error("Already handed out", ["already_released"]),
                "422": _error("Unknown printer", ["unknown_printer", "unknown_field"]),
            }, body={"type": "object", "additionalProperties": False, "properties": {"printer": {"type": "string"}}},
                params=[ITEM_ID], tag="printing")},
            "/items/{item_id}/label.png": {"get": _op("Preview of exactly what would print", "print", {
                "200": {"description": "PNG", "content": {"image/png": {"schema": {"type": "string",
                                                                                   "format": "binary"}}}},
                "404": _error("No such item", ["not_found"]),
                "422": _error("Unknown printer", ["unknown_printer"]),
            }, params=[ITEM_ID, {"name": "printer", "in": "query", "schema": {"type": "string"}}], tag="printing")},
            "/print-jobs": {"get": _op("Print jobs not yet printed (or by state)", "print", {
                "200": {"description": "Jobs, newest first", **_json(
                    {"type": "object", "properties": {"print_jobs": {"type": "array", "items": _ref("PrintJob")}}})},
                "422": _error("Bad query", ["invalid_query"]),
            }, params=[{"name": "state", "in": "query",
                        "schema": {"enum": ["open", "queued", "sending", "printed", "failed"]}}], tag="printing")},
            "/print-jobs/{job_id}/retry": {"post": _op("Send a failed job again now", "print", {
                "200": {"description": "Queued", **_json(_ref("PrintJob"))},
                "404": _error("No such job", ["not_found"]),
                "409": _error("Already printed or being sent", ["conflict"]),
            }, params=[{"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                tag="printing")},
            "/items/{item_id}/events": {"get": _op("The item's audit trail", "read_events", {
                "200": {"description": "Events, oldest first", **_json(
                    {"type": "object", "properties": {"events": {"type": "array", "items": _ref("Event")}}})},
                "404": _error("No such item", ["not_found"]),
            }, params=[ITEM_ID])},
            "/alerts": {"get": _op("Security alerts", "alerts", {
                "200": {"description": "Alerts, newest first", **_json(
                    {"type": "object", "properties": {"alerts": {"type": "array", "items": _ref("Alert")}}})},
            }, params=[{"name": "state", "in": "query", "schema": {"enum": ["open", "all"]}}], tag="security")},
            "/alerts/{alert_id}/resolve": {"post": _op("Close an alert", "alerts", {
                "200": {"description": "Resolved", **_json(_ref("Alert"))},
                "404": _error("No such alert", ["not_found"]),
            }, body={"type": "object", "additionalProperties": False, "properties": {"note": {"type": "string"}}},
                params=[{"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                tag="security")},
            "/audit/verify": {"get": _op("Check the audit chain end to end", "audit", {
                "200": {"description": "Verdict", **_json({"type": "object", "properties": {
                    "ok": {"type": "boolean"}, "rows": {"type": "integer"},
                    "problems": {"type": "array", "items": {"type": "string"}}}})},
            }, tag="security")},
        },
    }
