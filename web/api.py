"""The JSON API under /api/v1. Views parse input, call the domain, and shape the answer."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, current_app, jsonify, request

import printing
import scanning
from kiosk import audit, claims, ledger, policy, printjobs
from kiosk.errors import KioskError

from . import db, openapi
from .auth import desk, endpoint
from .errors import ApiError
from .labels import label_for, printer
from .payloads import (
    alert_view, body, collector, deposit_form, event_view, item_summary, item_view, print_job_view,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Shown on the kiosk screen; the UI translates by `next`, this is the English fallback.
NEXT_MESSAGES = {
    claims.NEXT_PRESENT_AT_DESK: "Please show this stub at the desk; staff will bring your item.",
    claims.NEXT_SCAN_CLAIM: "Item tag read. Now scan the owner's stub.",
    claims.NEXT_NONE: "This item has already been collected.",
    claims.NEXT_WAIT_FOR_STAFF: "Please wait, staff will help you.",
}


@bp.get("/health")
def health():
    return jsonify({"status": "ok"})


@bp.post("/items")
@endpoint("deposit")
def deposit(actor):
    form = deposit_form()
    target = printer(request.get_json().get("printer"))
    result = ledger.deposit(db.session(), desk(), actor, form)
    item = result.item
    # Same transaction as the deposit: a label exists exactly when the deposit does.
    job = printjobs.enqueue(db.session(), actor, item, target.name, target.url)
    payload = {
        "id": item.id, "ticket_no": item.ticket_no, "status": item.status, "kind": item.kind,
        "tag_code": result.tag_code, f"{result.claim_role}_code": result.claim_code,
        "location": item.location, "suggested_location": item.suggested_location,
        "storeroom_suggested": item.suggested_location == "storeroom",
        "item": item_view(item, actor.role),
        "print_job": print_job_view(job),
    }
    return jsonify(payload), 201, {"Location": f"/api/v1/items/{item.id}"}


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(422, "invalid_query", f"{name} must be a whole number from {low} to {high}", field=name)
    return int(raw)


def _choice_arg(name: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = request.args.get(name, default)
    if value is not None and value not in choices:
        raise ApiError(422, "invalid_query", f"{name} is one of {', '.join(choices)}", field=name)
    return value


FLAG = ("true", "false")


@bp.get("/items")
@endpoint("list_items")
def list_items(actor):
    status = _choice_arg("status", ("held", "released", "all"), "held")
    kind = _choice_arg("kind", policy.KINDS, None)
    overdue = _choice_arg("overdue", FLAG, "false")
    rows, cursor = ledger.list_items(
        db.session(), status=None if status == "all" else status, kind=kind, unit=request.args.get("unit"),
        overdue_at=datetime.now(UTC) if overdue == "true" else None,
        limit=_int_arg("limit", 50, 1, 500), before_id=_int_arg("cursor", None, 1, 2**62),
    )
    return jsonify({"items": [item_view(item, actor.role) for item in rows],
                    "next_cursor": str(cursor) if cursor else None})


@bp.get("/items/<int:item_id>")
@endpoint("read_item")
def get_item(actor, item_id):
    return jsonify(item_view(ledger.get_item(db.session(), item_id), actor.role, full_contact=True))


def scan_payload(actor, outcome) -> dict:
    payload = {"role": outcome.role, "next": outcome.next, "message": NEXT_MESSAGES[outcome.next]}
    if outcome.next == claims.NEXT_WAIT_FOR_STAFF:
        # The lobby screen learns nothing; staff learn why and that security was called.
        if actor.role == "kiosk":
            del payload["role"]
            return payload
        payload["alert"] = {"id": outcome.alert.id, "kind": outcome.alert.kind}
    payload["item"] = item_view(outcome.item, actor.role) if actor.role != "kiosk" else item_summary(outcome.item)
    return payload


@bp.post("/scans")
@endpoint("scan")
def scan(actor):
    data = body({"code"})
    code = data.get("code")
    if not isinstance(code, str):
        raise ApiError(422, "missing_field", "code is required (the scanned text)", field="code")
    return jsonify(scan_payload(actor, claims.scan(db.session(), desk(), actor, code)))


def _uploaded_image() -> bytes:
    if request.files:
        upload = request.files.get("image")
        if upload is None:
            raise ApiError(400, "missing_image", "send the picture as the form field 'image'")
        return upload.read()
    if request.mimetype.startswith("image/"):
        return request.get_data()
    raise ApiError(415, "unsupported_media_type",
                   "send an image as multipart/form-data field 'image' or as an image/* body")


@bp.post("/decode")
@endpoint("scan")
def decode(actor):
    """A camera frame or phone photo in; the codes read out, and with ?scan=true scanned too."""
    scan_too = _choice_arg("scan", FLAG, "false")
    try:
        frame = scanning.load_image(_uploaded_image())
    except scanning.ScanError as error:
        raise ApiError(413 if isinstance(error, scanning.ImageTooLarge) else 422, error.code, str(error)) from None
    found = scanning.decode(frame, budget_ms=800.0)
    payload = {"codes": [{"text": c.text, "points": c.points.round(1).tolist(), "decoder": c.decoder}
                         for c in found]}
    if scan_too == "true":
        payload["scans"] = []
        for c in found:
            try:
                payload["scans"].append({"code": c.text, **scan_payload(
                    actor, claims.scan(db.session(), desk(), actor, c.text))})
            except KioskError as error:
                if not error.recorded:
                    raise
                # Recorded misses are kept like any scan's; the other codes still count.
                payload["scans"].append({"code": c.text, "error": {"code": error.code, "message": error.message}})
    return jsonify(payload)


@bp.post("/items/<int:item_id>/release")
@endpoint("release")
def release(actor, item_id):
    data = body({"stub_code", "pickup_code", "tag_code", "collector"})
    item = ledger.release(db.session(), desk(), actor, item_id, tag_code=data.get("tag_code"),
                          stub_code=data.get("stub_code") or data.get("pickup_code"),
                          collector=collector(data))
    return jsonify(item_view(item, actor.role))


@bp.post("/items/<int:item_id>/lost-stub")
@endpoint("report_lost")
def lost_stub(actor, item_id):
    data = body({"unit", "name", "reissue"})
    for field in ("unit", "name"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise ApiError(422, "missing_field", f"{field} is required (the reporter's)", field=field)
    reissue = data.get("reissue", False)
    if not isinstance(reissue, bool):
        raise ApiError(422, "invalid_type", "reissue must be true or false", field="reissue")
    report = claims.report_lost_stub(db.session(), desk(), actor, item_id, unit=data["unit"],
                                     name=data["name"], reissue=reissue)
    payload = {"item": item_view(report.item, actor.role), "claim_state": report.item.claim_state,
               "already_released": report.item.status == "released"}
    if report.new_claim_code:
        payload[f"{ledger.claim_role_name(report.item)}_code"] = report.new_claim_code
    if report.alert:
        payload["alert"] = {"id": report.alert.id, "kind": report.alert.kind}
    return jsonify(payload)


@bp.post("/items/<int:item_id>/move")
@endpoint("move")
def move(actor, item_id):
    data = body({"location", "location_detail"})
    if not isinstance(data.get("location"), str):
        raise ApiError(422, "missing_field", "location is required", field="location")
    detail = data.get("location_detail")
    if detail is not None and (not isinstance(detail, str) or len(detail) > 64):
        raise ApiError(422, "invalid_type", "location_detail is text of at most 64 characters", field="location_detail")
    item = ledger.move(db.session(), actor, item_id, data["location"], detail)
    return jsonify(item_view(item, actor.role))


@bp.post("/items/<int:item_id>/reprint")
@endpoint("print")
def reprint(actor, item_id):
    data = body({"printer"})
    target = printer(data.get("printer"))
    item = ledger.get_item(db.session(), item_id)
    job = printjobs.enqueue(db.session(), actor, item, target.name, target.url, reprint=True)
    return jsonify(print_job_view(job)), 202


@bp.get("/items/<int:item_id>/label.png")
@endpoint("print")
def label_png(actor, item_id):
    item = ledger.get_item(db.session(), item_id)
    label = label_for(item, desk(), reprint=False, timezone=current_app.config["TIMEZONE"])
    profile = printing.parse_printer_url(printer(request.args.get("printer")).url).profile
    png = printing.preview_png(label, profile)
    # The picture carries the stub's code: never cache it anywhere.
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@bp.get("/print-jobs")
@endpoint("print")
def print_jobs(actor):
    jobs = printjobs.list_jobs(db.session(), state=request.args.get("state", "open"),
                               limit=_int_arg("limit", 100, 1, 500))
    return jsonify({"print_jobs": [print_job_view(job) for job in jobs]})


@bp.post("/print-jobs/<int:job_id>/retry")
@endpoint("print")
def retry_print_job(actor, job_id):
    return jsonify(print_job_view(printjobs.retry(db.session(), job_id)))


@bp.get("/items/<int:item_id>/events")
@endpoint("read_events")
def events(actor, item_id):
    ledger.get_item(db.session(), item_id)
    return jsonify({"events": [event_view(e) for e in audit.events_for(db.session(), item_id)]})


@bp.get("/alerts")
@endpoint("alerts")
def alerts(actor):
    state = _choice_arg("state", ("open", "all"), "open")
    rows = claims.list_alerts(db.session(), open_only=state == "open", limit=_int_arg("limit", 100, 1, 500))
    return jsonify({"alerts": [alert_view(a) for a in rows]})


@bp.post("/alerts/<int:alert_id>/resolve")
@endpoint("alerts")
def resolve_alert(actor, alert_id):
    data = body({"note"})
    note = data.get("note", "")
    if not isinstance(note, str):
        raise ApiError(422, "invalid_type", "note must be a string", field="note")
    return jsonify(alert_view(claims.resolve_alert(db.session(), actor, alert_id, note)))


@bp.get("/audit/verify")
@endpoint("audit")
def audit_verify(actor):
    verdict = audit.verify(db.session())
    return jsonify({"ok": verdict.ok, "rows": verdict.rows, "problems": list(verdict.problems)})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.add_url_rule("/api/openapi.json", "openapi", lambda: jsonify(openapi.document()))
