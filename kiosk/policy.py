"""The desk's intake rules (DOMAIN.md, "Taking an item in"), as data and small checks."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from .errors import AcknowledgementRequired, DepositRefused, InvalidInput
from .values import DepositForm

KINDS = ("luggage", "key", "parcel", "mail", "short_term")
# Parcels and mail are claimed with a pickup notice; the rest with a stub.
NOTICE_KINDS = frozenset({"parcel", "mail"})
SIZES = ("small", "large")
LOCATIONS = ("front_desk", "management_office", "storeroom", "key_cabinet", "mail_shelf")
ID_TYPES = ("resident_id", "passport", "hk_macau_permit", "taiwan_permit", "driving_licence", "other")

# What a customer may declare about the contents, and what the desk does with it.
REFUSED = {
    "flammable": "refused_hazardous",
    "explosive": "refused_hazardous",
    "toxic": "refused_hazardous",
    "prohibited": "refused_hazardous",
    "cash": "refused_valuables",
    "valuables": "refused_valuables",
}
AT_OWNERS_RISK = ("food", "strong_smell", "fragile", "perishable")
DECLARABLE = tuple(REFUSED) + AT_OWNERS_RISK

REFUSAL_TEXT = {
    "refused_hazardous": "The desk does not hold flammable, explosive, toxic or prohibited goods.",
    "refused_valuables": "The desk does not hold cash or valuables.",
}
REFUSAL_SUGGESTION = {
    "refused_hazardous": "Please take the item with you; security can advise on disposal.",
    "refused_valuables": "Please use a bank safe deposit box.",
}

LARGE_AT_DESK = timedelta(hours=24)
SMALL_AT_DESK = timedelta(days=7)

_PHONE = re.compile(r"\+?[0-9][0-9 \-]{4,22}")
_ID_LAST4 = re.compile(r"[0-9A-Z]{4}")


def check_refusal(declared: tuple[str, ...]) -> None:
    """Raise DepositRefused for goods the desk never takes."""
    for item in declared:
        if item in REFUSED:
            code = REFUSED[item]
            raise DepositRefused(code, REFUSAL_TEXT[code], REFUSAL_SUGGESTION[code])


def needs_disclaimer(declared: tuple[str, ...]) -> bool:
    return any(item in AT_OWNERS_RISK for item in declared)


def suggest_location(kind: str, size: str, deposited_at: datetime, expected_pickup_at: datetime | None) -> str:
    """Where an item belongs: keys in the key cabinet, mail on the mail shelf, long stays
    in the storeroom (large luggage over 24 hours, small items over a week)."""
    if kind == "key":
        return "key_cabinet"
    if kind in NOTICE_KINDS:
        return "mail_shelf"
    if expected_pickup_at is None:
        return "front_desk"
    stay = expected_pickup_at - deposited_at
    limit = LARGE_AT_DESK if size == "large" else SMALL_AT_DESK
    return "storeroom" if stay > limit else "front_desk"


def _text(value: str | None, field: str, *, required: bool, limit: int) -> str | None:
    if value is None or value.strip() == "":
        if required:
            raise InvalidInput(f"{field} is required", field=field, code="missing_field")
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field, code="too_long")
    if any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise InvalidInput(f"{field} contains control characters", field=field, code="invalid_text")
    return value


def phone(value: str | None, field: str, *, required: bool) -> str | None:
    value = _text(value, field, required=required, limit=24)
    if value is not None and not _PHONE.fullmatch(value):
        raise InvalidInput(f"{field} is not a phone number", field=field, code="invalid_phone")
    return value


def check_deposit(form: DepositForm, now: datetime) -> DepositForm:
    """Validate a deposit form; returns it with text fields trimmed."""
    if form.kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}", field="kind", code="invalid_kind")
    if form.size not in SIZES:
        raise InvalidInput("size must be small or large", field="size", code="invalid_size")
    if form.location is not None and form.location not in LOCATIONS:
        raise InvalidInput(f"location must be one of {', '.join(LOCATIONS)}", field="location", code="invalid_location")
    unknown = [d for d in form.declared if d not in DECLARABLE]
    if unknown:
        raise InvalidInput(f"unknown declaration {unknown[0]!r}", field="declared", code="invalid_declaration")
    if form.expected_pickup_at is not None:
        if form.expected_pickup_at.tzinfo is None:
            raise InvalidInput("expected_pickup_at needs a time zone", field="expected_pickup_at", code="invalid_time")
        if form.expected_pickup_at <= now:
            raise InvalidInput("expected_pickup_at is in the past", field="expected_pickup_at", code="invalid_time")
    elif form.kind in ("luggage", "short_term"):
        # DOMAIN: ask for the expected storage time; it decides desk or storeroom.
        raise InvalidInput("expected_pickup_at is required for luggage and short-term items",
                           field="expected_pickup_at", code="missing_field")
    if form.designated_phone and not form.designated_name:
        raise InvalidInput("designated collector needs a name", field="designated_name", code="missing_field")

    owner = form.owner
    cleaned_owner = type(owner)(
        unit=_text(owner.unit, "owner.unit", required=True, limit=32),
        name=_text(owner.name, "owner.name", required=True, limit=64),
        phone=phone(owner.phone, "owner.phone", required=True),
    )
    return DepositForm(
        kind=form.kind,
        owner=cleaned_owner,
        size=form.size,
        description=_text(form.description, "description", required=False, limit=500) or "",
        expected_pickup_at=form.expected_pickup_at,
        designated_name=_text(form.designated_name, "designated_name", required=False, limit=64),
        designated_phone=phone(form.designated_phone, "designated_phone", required=False),
        location=form.location,
        location_detail=_text(form.location_detail, "location_detail", required=False, limit=64),
        declared=tuple(dict.fromkeys(form.declared)),
        disclaimer_acknowledged=form.disclaimer_acknowledged,
        carrier=_text(form.carrier, "carrier", required=False, limit=32),
        urgent=form.urgent,
    )


def check_collector(name: str | None, id_type: str | None, id_last4: str | None) -> tuple[str, str, str]:
    name = _text(name, "collector.name", required=True, limit=64)
    if id_type not in ID_TYPES:
        raise InvalidInput(f"collector.id_type must be one of {', '.join(ID_TYPES)}",
                           field="collector.id_type", code="invalid_id_type")
    last4 = (id_last4 or "").strip().upper()
    if not _ID_LAST4.fullmatch(last4):
        # A full ID number is refused, not truncated: the desk must never receive it.
        raise InvalidInput("collector.id_last4 takes exactly the last 4 characters of the ID",
                           field="collector.id_last4", code="invalid_id_last4")
    return name, id_type, last4


def acknowledge_or_refuse(form: DepositForm) -> None:
    check_refusal(form.declared)
    if needs_disclaimer(form.declared) and not form.disclaimer_acknowledged:
        raise AcknowledgementRequired(
            "Food, strong-smelling, fragile or perishable goods are held at the owner's risk; "
            "record that the customer was told (disclaimer_acknowledged)."
        )
