"""The desk's intake rules (DOMAIN.md, "Taking an item in"), as data and small checks."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from .errors import AcknowledgementRequired, DepositRefused, InvalidInput
from .values import Collector, Consent, DepositForm

KINDS = ("luggage", "key", "parcel", "mail", "short_term")
# What the monthly count (每月盘点) counts: unit keys, shop keys, resident cards, car cards.
KEY_KINDS = ("unit_key", "shop_key", "resident_card", "car_card")
# A key given without its sub-kind is a unit's key: what a residential desk holds most.
DEFAULT_KEY_KIND = "unit_key"
# Parcels and mail are claimed with a pickup notice; the rest with a stub.
NOTICE_KINDS = frozenset({"parcel", "mail"})
# Kinds with a register and checks of their own: a key needs the owner's consent (kiosk.loans),
# a parcel or letter a resident to go to (kiosk.mail). The plain deposit takes the rest.
OWN_INTAKE = {"key": "/api/v1/keys", "parcel": "/api/v1/mail", "mail": "/api/v1/mail"}
SIZES = ("small", "large")
# Held; lent (a key out on loan: still the desk's to answer for); or how the item left —
# handed out, returned to the post office, disposed of, lost-and-found. Every status that
# left sets ``released_at`` and ``release_method``.
ITEM_STATUSES = ("held", "lent", "released", "returned", "disposed", "lost_and_found")
CUSTODY = ("held", "lent")
LOCATIONS = ("front_desk", "management_office", "storeroom", "key_cabinet", "mail_shelf")
# How the desk heard the owner's consent: signed in the register, in person, by phone, in writing.
CONSENT_CHANNELS = ("signature", "in_person", "phone", "written")
LOCALES = ("zh_Hans", "en")
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

LARGE_AT_DESK = timedelta(hours=24)
SMALL_AT_DESK = timedelta(days=7)

# The longest text each field of the register holds (the columns in models.py agree; a test checks).
TEXT_LIMITS = {
    "unit": 32, "name": 64, "phone": 24, "description": 500, "location_detail": 64, "carrier": 32,
    "note": 500, "email": 254, "company": 64, "purpose": 200, "reason": 200, "slot": 64,
}
# A phone number as people write it: digits, an optional leading +, spaces and dashes.
PHONE_PATTERN = r"\+?[0-9][0-9 \-]{4,22}"
ID_LAST4_PATTERN = r"[0-9A-Z]{4}"
_ID_LAST4 = re.compile(ID_LAST4_PATTERN)
_PHONE = re.compile(PHONE_PATTERN)
# Enough to catch a typo, not an RFC 5322 parser: the mail server has the last word.
EMAIL_PATTERN = r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+"
_EMAIL = re.compile(EMAIL_PATTERN)


def check_plain_deposit(kind: str) -> None:
    """Refuse a key, parcel or letter sent to the plain deposit: it would skip the owner's
    consent or the residents register. ``kind_has_own_intake`` names where it goes."""
    if kind in OWN_INTAKE:
        raise InvalidInput(code="kind_has_own_intake", field="kind", kind=kind, path=OWN_INTAKE[kind])


def check_refusal(declared: tuple[str, ...]) -> None:
    """Raise DepositRefused for goods the desk never takes."""
    for item in declared:
        if item in REFUSED:
            raise DepositRefused(code=REFUSED[item], declared=item)


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


def check_deposit(form: DepositForm, now: datetime) -> DepositForm:
    """The desk's rules for a deposit form whose fields already have the right shape
    (the API's schema checks types, lengths and characters)."""
    if form.kind not in KINDS:
        raise InvalidInput(code="invalid_kind", field="kind", choices=KINDS)
    if form.size not in SIZES:
        raise InvalidInput(code="invalid_size", field="size", choices=SIZES)
    if form.location is not None and form.location not in LOCATIONS:
        raise InvalidInput(code="invalid_location", field="location", choices=LOCATIONS)
    key_kind = form.key_kind
    if form.kind == "key":
        key_kind = key_kind or DEFAULT_KEY_KIND
        if key_kind not in KEY_KINDS:
            raise InvalidInput(code="invalid_key_kind", field="key_kind", choices=KEY_KINDS)
    elif key_kind is not None:
        raise InvalidInput(code="invalid_key_kind", field="key_kind", choices=KEY_KINDS)
    check_key_location(form.kind, form.location)
    unknown = [d for d in form.declared if d not in DECLARABLE]
    if unknown:
        raise InvalidInput(code="invalid_declaration", field="declared", value=unknown[0])
    if form.expected_pickup_at is not None:
        if form.expected_pickup_at.tzinfo is None:
            raise InvalidInput(code="invalid_time", field="expected_pickup_at")
        if form.expected_pickup_at <= now:
            raise InvalidInput(code="time_in_past", field="expected_pickup_at")
    elif form.kind in ("luggage", "short_term"):
        # DOMAIN: ask for the expected storage time; it decides desk or storeroom.
        raise InvalidInput(code="missing_field", field="expected_pickup_at")
    if form.designated_phone and not form.designated_name:
        raise InvalidInput(code="missing_field", field="designated_collector.name")
    required = [("owner.unit", form.owner.unit), ("owner.name", form.owner.name)]
    if form.kind not in NOTICE_KINDS:
        # Mail's contact comes from the residents register; a letter to return to the post
        # office has none.
        required.append(("owner.phone", form.owner.phone))
    for field, value in required:
        if not (value or "").strip():
            raise InvalidInput(code="missing_field", field=field)
    if form.owner.email is not None:
        check_email(form.owner.email, "owner.email")
    if form.consent is not None:
        check_consent(form.consent, "consent")
    return replace(form, declared=tuple(dict.fromkeys(form.declared)), key_kind=key_kind)


def check_key_location(kind: str, location: str | None) -> None:
    """DOMAIN: keys are kept in a locked key cabinet, nowhere else."""
    if kind == "key" and location not in (None, "key_cabinet"):
        raise InvalidInput(code="key_outside_cabinet", field="location")


def check_phone(phone: str, field: str) -> str:
    phone = (phone or "").strip()
    if not phone:
        raise InvalidInput(code="missing_field", field=field)
    if not _PHONE.fullmatch(phone):
        raise InvalidInput(code="invalid_phone", field=field)
    return phone


def check_email(email: str, field: str) -> str:
    email = email.strip()
    if len(email) > TEXT_LIMITS["email"] or not _EMAIL.fullmatch(email):
        raise InvalidInput(code="invalid_email", field=field)
    return email


def check_consent(consent: Consent, field: str) -> Consent:
    if not (consent.given_by or "").strip():
        raise InvalidInput(code="missing_field", field=f"{field}.given_by")
    if consent.channel not in CONSENT_CHANNELS:
        raise InvalidInput(code="invalid_consent_channel", field=f"{field}.channel", choices=CONSENT_CHANNELS)
    return replace(consent, given_by=consent.given_by.strip())


def required_text(value: str | None, field: str, limit: str | None = None) -> str:
    """``value`` stripped; missing_field when blank, text_too_long past its TEXT_LIMITS entry."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput(code="missing_field", field=field)
    if limit is not None and len(text) > TEXT_LIMITS[limit]:
        raise InvalidInput(code="too_long", field=field, limit=TEXT_LIMITS[limit])
    return text


def check_collector(collector: Collector) -> Collector:
    """DOMAIN: a collector who is not the depositor leaves name, ID type and the last four ID characters."""
    if not (collector.name or "").strip():
        raise InvalidInput(code="missing_field", field="collector.name")
    if collector.id_type not in ID_TYPES:
        raise InvalidInput(code="invalid_id_type", field="collector.id_type", choices=ID_TYPES)
    last4 = (collector.id_last4 or "").strip().upper()
    if not _ID_LAST4.fullmatch(last4):
        # A full ID number is refused, not truncated: the desk must never receive it.
        raise InvalidInput(code="invalid_id_last4", field="collector.id_last4")
    return replace(collector, name=collector.name.strip(), id_last4=last4)


def check_acknowledgement(form: DepositForm) -> None:
    """DOMAIN: food, strong-smelling, fragile or perishable goods are held at the owner's
    risk; the desk records that the customer was told."""
    if needs_disclaimer(form.declared) and not form.disclaimer_acknowledged:
        raise AcknowledgementRequired(declared=[d for d in form.declared if d in AT_OWNERS_RISK])
