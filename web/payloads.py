"""JSON in (strictly checked) and JSON out (no more personal data than the role needs)."""
from __future__ import annotations

import json
from datetime import datetime

from flask import request

from kiosk import accounts, printjobs
from kiosk.models import Alert, AuditEvent, Item, PrintJob
from kiosk.privacy import mask_name, mask_phone
from kiosk.values import Collector, DepositForm, Person

from .errors import ApiError

FULL_CONTACT_ROLES = frozenset({"staff", "supervisor", "admin"})


def body(allowed: set[str]) -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field {unknown[0]!r}", field=unknown[0])
    return data


def _typed(data: dict, field: str, kind, *, required: bool = False, default=None):
    value = data.get(field, default)
    if value is None:
        if required:
            raise ApiError(422, "missing_field", f"{field} is required", field=field)
        return default
    if kind is bool and not isinstance(value, bool) or kind is not bool and not isinstance(value, kind):
        name = {str: "a string", bool: "true or false", dict: "an object", list: "a list"}[kind]
        raise ApiError(422, "invalid_type", f"{field} must be {name}", field=field)
    return value


def timestamp(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(422, "invalid_time", f"{field} must be an ISO 8601 time", field=field)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "invalid_time", f"{field} must be an ISO 8601 time", field=field) from None
    if parsed.tzinfo is None:
        raise ApiError(422, "invalid_time", f"{field} needs a time zone (e.g. +08:00)", field=field)
    return parsed


DEPOSIT_FIELDS = {
    "kind", "owner", "size", "description", "expected_pickup_at", "designated_collector", "location",
    "location_detail", "declared", "disclaimer_acknowledged", "carrier", "urgent", "printer",
}


def deposit_form() -> DepositForm:
    data = body(DEPOSIT_FIELDS)
    owner = _typed(data, "owner", dict, required=True)
    unknown = sorted(set(owner) - {"unit", "name", "phone"})
    if unknown:
        raise ApiError(422, "unknown_field", f"unknown field 'owner.{unknown[0]}'", field=f"owner.{unknown[0]}")
    designated = _typed(data, "designated_collector", dict, default={})
    declared = _typed(data, "declared", list, default=[])
    if not all(isinstance(d, str) for d in declared):
        raise ApiError(422, "invalid_type", "declared must be a list of strings", field="declared")
    return DepositForm(
        kind=_typed(data, "kind", str, required=True),
        owner=Person(unit=_typed(owner, "unit", str, default=""), name=_typed(owner, "name", str, default=""),
                     phone=_typed(owner, "phone", str, default="")),
        size=_typed(data, "size", str, default="small"),
        description=_typed(data, "description", str, default=""),
        expected_pickup_at=timestamp(data.get("expected_pickup_at"), "expected_pickup_at"),
        designated_name=_typed(designated, "name", str),
        designated_phone=_typed(designated, "phone", str),
        location=_typed(data, "location", str),
        location_detail=_typed(data, "location_detail", str),
        declared=tuple(declared),
        disclaimer_acknowledged=_typed(data, "disclaimer_acknowledged", bool, default=False),
        carrier=_typed(data, "carrier", str),
        urgent=_typed(data, "urgent", bool, default=False),
    )


def collector(data: dict) -> Collector | None:
    value = _typed(data, "collector", dict)
    if value is None:
        return None
    unknown = sorted(set(value) - {"name", "id_type", "id_last4", "phone"})
    if unknown:
        # An "id_number" field is refused here: the desk keeps only the last four characters.
        raise ApiError(422, "unknown_field", f"unknown field 'collector.{unknown[0]}'",
                       field=f"collector.{unknown[0]}")
    return Collector(name=_typed(value, "name", str, default=""), id_type=_typed(value, "id_type", str, default=""),
                     id_last4=_typed(value, "id_last4", str, default=""), phone=_typed(value, "phone", str))


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def item_summary(item: Item) -> dict:
    """What a lobby screen may show about an item: nothing that names or reaches the owner."""
    return {
        "ticket_no": item.ticket_no, "kind": item.kind, "status": item.status,
        "owner": {"unit": item.owner_unit, "name": mask_name(item.owner_name)},
        "deposited_at": _time(item.deposited_at),
    }


def item_view(item: Item, role: str, *, full_contact: bool = False) -> dict:
    if role == accounts.KIOSK:
        return item_summary(item)
    show_phone = full_contact and role in FULL_CONTACT_ROLES
    view = {
        "id": item.id, "ticket_no": item.ticket_no, "kind": item.kind, "status": item.status,
        "owner": {
            "unit": item.owner_unit, "name": item.owner_name,
            "phone_masked": mask_phone(item.owner_phone),
            **({"phone": item.owner_phone} if show_phone else {}),
        },
        "description": item.description, "size": item.size,
        "declared": [d for d in item.declared.split(",") if d],
        "disclaimer_acknowledged": item.disclaimer_acknowledged,
        "expected_pickup_at": _time(item.expected_pickup_at),
        "designated_collector": ({"name": item.designated_name, "phone_masked": mask_phone(item.designated_phone)}
                                 if item.designated_name else None),
        "carrier": item.carrier, "urgent": item.urgent,
        "location": item.location, "location_detail": item.location_detail,
        "suggested_location": item.suggested_location,
        "staff": item.staff_name, "deposited_at": _time(item.deposited_at),
        "claim_state": item.claim_state,
    }
    if item.status == "released":
        view["release"] = {
            "at": _time(item.released_at), "by": item.released_by_name, "method": item.release_method,
            "collector": {"name": item.collector_name, "id_type": item.collector_id_type,
                          "id_last4": item.collector_id_last4},
        }
    return view


def event_view(event: AuditEvent) -> dict:
    return {"seq": event.seq, "at": _time(event.at), "event": event.event, "actor": event.actor,
            "actor_role": event.actor_role, "device": event.device, "details": json.loads(event.details),
            "hash": event.hash}


def print_job_view(job: PrintJob) -> dict:
    return {"id": job.id, "item_id": job.item_id, "printer": job.printer, "reprint": job.reprint,
            "status": job.status, "stuck": job.status == "queued" and job.attempts >= printjobs.STUCK_AFTER,
            "attempts": job.attempts, "next_attempt_at": _time(job.next_attempt_at),
            "last_error": ({"code": job.last_error_code, "message": job.last_error}
                           if job.last_error_code else None),
            "created_at": _time(job.created_at), "printed_at": _time(job.printed_at)}


def alert_view(alert: Alert) -> dict:
    return {"id": alert.id, "kind": alert.kind, "item_id": alert.item_id, "at": _time(alert.at),
            "actor": alert.actor, "device": alert.device, "details": json.loads(alert.details),
            "resolved_at": _time(alert.resolved_at), "resolved_by": alert.resolved_by}
