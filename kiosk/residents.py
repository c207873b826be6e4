"""Who lives here: the register mail and parcels are checked against.

DOMAIN "Mail and parcels": parcels for someone not living here are refused;
the sorter checks the name on each letter against who lives in that unit now.
The register holds units and names with a contact (phone, optional email), the
language notices go out in, and a standing consent for the desk to sign for
courier parcels. Residents who move out stay in the register, marked, so mail
for a former resident is recognised and the desk can call them.

Sites fill it with `kiosk resident add` / `kiosk resident import FILE.csv`;
the demo adds the residents its sample parcels are for.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, policy
from .errors import Conflict, InvalidInput, NotFound
from .models import Resident
from .values import Actor, ResidentForm


def name_key(name: str) -> str:
    """A name as compared: case and runs of spaces folded ("Alice  WONG" = "alice wong")."""
    return " ".join((name or "").split()).casefold()


def unit_key(unit: str) -> str:
    return (unit or "").strip().upper()


def check_form(form: ResidentForm) -> ResidentForm:
    unit = policy.required_text(form.unit, "unit", "unit")
    name = " ".join(policy.required_text(form.name, "name", "name").split())
    phone = policy.check_phone(form.phone, "phone")
    email = policy.check_email(form.email, "email") if form.email else None
    if form.locale not in policy.LOCALES:
        raise InvalidInput(code="invalid_locale", field="locale", choices=policy.LOCALES)
    return ResidentForm(unit=unit_key(unit), name=name, phone=phone, email=email, locale=form.locale,
                        courier_consent=bool(form.courier_consent))


def find(session: Session, unit: str, name: str) -> Resident | None:
    """The current resident of ``unit`` called ``name``, if there is one."""
    return session.scalar(select(Resident).where(
        Resident.unit == unit_key(unit), Resident.name_key == name_key(name), Resident.moved_out_at.is_(None)))


def former(session: Session, unit: str, name: str) -> Resident | None:
    """Someone of that name who lived in ``unit`` and moved out (the latest)."""
    return session.scalar(select(Resident).where(
        Resident.unit == unit_key(unit), Resident.name_key == name_key(name), Resident.moved_out_at.is_not(None)
    ).order_by(Resident.moved_out_at.desc()).limit(1))


def of_unit(session: Session, unit: str) -> list[Resident]:
    return list(session.scalars(select(Resident).where(
        Resident.unit == unit_key(unit), Resident.moved_out_at.is_(None)).order_by(Resident.id)))


def add(session: Session, actor: Actor, form: ResidentForm, now: datetime | None = None) -> Resident:
    now = now or datetime.now(UTC)
    form = check_form(form)
    if find(session, form.unit, form.name) is not None:
        raise Conflict(code="resident_exists", unit=form.unit, name=form.name)
    resident = Resident(unit=form.unit, name=form.name, name_key=name_key(form.name), phone=form.phone,
                        email=form.email, locale=form.locale, courier_consent=form.courier_consent,
                        added_at=now, added_by=actor.name)
    session.add(resident)
    session.flush()
    audit.append(session, "resident_added", actor, now=now, details={
        "resident_id": resident.id, "unit": resident.unit, "courier_consent": resident.courier_consent})
    return resident


def update(session: Session, actor: Actor, resident_id: int, form: ResidentForm,
           now: datetime | None = None) -> Resident:
    """Change a current resident's contact, language or standing courier consent (not unit or name:
    someone who moves is a move-out and an add)."""
    now = now or datetime.now(UTC)
    resident = _get(session, resident_id, lock=True)
    form = check_form(form)
    if (form.unit, name_key(form.name)) != (resident.unit, resident.name_key):
        raise InvalidInput(code="resident_identity_fixed", field="name")
    changed = {field: getattr(form, field) for field in ("phone", "email", "locale", "courier_consent")
               if getattr(form, field) != getattr(resident, field)}
    for field, value in changed.items():
        setattr(resident, field, value)
    audit.append(session, "resident_changed", actor, now=now, details={
        "resident_id": resident.id, "unit": resident.unit, "fields": sorted(changed)})
    return resident


def move_out(session: Session, actor: Actor, resident_id: int, now: datetime | None = None) -> Resident:
    now = now or datetime.now(UTC)
    resident = _get(session, resident_id, lock=True)
    if resident.moved_out_at is not None:
        raise Conflict(code="resident_moved_out", id=resident_id)
    resident.moved_out_at = now
    audit.append(session, "resident_moved_out", actor, now=now,
                 details={"resident_id": resident.id, "unit": resident.unit})
    return resident


def list_residents(session: Session, *, unit: str | None = None, current: bool = True,
                   limit: int = 500) -> list[Resident]:
    query = select(Resident)
    if unit is not None:
        query = query.where(Resident.unit == unit_key(unit))
    if current:
        query = query.where(Resident.moved_out_at.is_(None))
    return list(session.scalars(query.order_by(Resident.unit, Resident.id).limit(limit)))


def _get(session: Session, resident_id: int, *, lock: bool = False) -> Resident:
    resident = session.get(Resident, resident_id, with_for_update=lock or None)
    if resident is None:
        raise NotFound(id=resident_id)
    return resident
