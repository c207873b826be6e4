"""The people a unit is known by: the desk's suggestions when a returning resident leaves something.

Issue 12: a deposit for a returning resident should take less typing than the paper
form. Staff type the unit; the desk offers the unit's current residents (the register,
kiosk.residents) and the owners of its earlier deposits. Picking one fills the name and
takes the phone from where it is kept, so the full number is never typed, shown or sent
back to the screen: a suggestion carries a reference and a masked phone only.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import policy, residents
from .models import Item, Resident

# Kinds whose owner left a phone of their own (mail takes its contact from the register).
_DEPOSIT_KINDS = ("luggage", "short_term", "key")
# How many earlier deposits of a unit are read for their owners.
_RECENT = 50


@dataclass(frozen=True)
class KnownOwner:
    ref: str          # "r<resident id>" or "i<item id>": what the form sends back instead of the phone
    unit: str
    name: str
    phone: str
    source: str       # "register" or "deposit"


def _of_resident(row: Resident) -> KnownOwner:
    return KnownOwner(ref=f"r{row.id}", unit=row.unit, name=row.name, phone=row.phone, source="register")


def _of_item(row: Item) -> KnownOwner:
    return KnownOwner(ref=f"i{row.id}", unit=residents.unit_key(row.owner_unit), name=row.owner_name,
                      phone=row.owner_phone, source="deposit")


def suggest(session: Session, unit: str, name: str = "", limit: int = 8) -> list[KnownOwner]:
    """The unit's known owners whose name starts with ``name`` (any, if blank): residents
    first, then earlier depositors, newest first; one entry per name and phone. Only a
    whole unit number finds anyone, so the list cannot be walked by typing "1"."""
    unit = (unit or "").strip()
    if not unit or len(unit) > policy.TEXT_LIMITS["unit"]:
        return []
    key = residents.unit_key(unit)
    prefix = residents.name_key(name)
    found: list[KnownOwner] = [_of_resident(r) for r in residents.of_unit(session, key)]
    items = session.scalars(
        select(Item).where(Item.owner_unit.in_({unit, key}), Item.kind.in_(_DEPOSIT_KINDS), Item.owner_phone != "")
        .order_by(Item.id.desc()).limit(_RECENT))
    found += [_of_item(i) for i in items]
    seen, owners = set(), []
    for owner in found:
        marker = (residents.name_key(owner.name), "".join(ch for ch in owner.phone if ch.isdigit()))
        if marker in seen or not residents.name_key(owner.name).startswith(prefix):
            continue
        seen.add(marker)
        owners.append(owner)
    return owners[:limit]


def resolve(session: Session, ref: str | None, unit: str, name: str) -> KnownOwner | None:
    """The owner a form's reference points to, if it still says the unit and name the form
    says (staff may have picked someone and then typed another name: then nobody)."""
    ref = (ref or "").strip()
    if len(ref) < 2 or ref[0] not in "ri" or not ref[1:].isdigit() or len(ref) > 19:
        return None
    row = session.get(Resident if ref[0] == "r" else Item, int(ref[1:]))
    if row is None:
        return None
    if isinstance(row, Resident):
        if row.moved_out_at is not None:
            return None
        owner = _of_resident(row)
    else:
        if row.kind not in _DEPOSIT_KINDS or not row.owner_phone:
            return None
        owner = _of_item(row)
    same = (owner.unit == residents.unit_key(unit)
            and residents.name_key(owner.name) == residents.name_key(name))
    return owner if same else None
