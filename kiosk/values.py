"""Plain values passed into the domain operations."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Desk:
    """The site this ledger serves and the secret its claim codes are made with."""

    site: str
    code_key: bytes
    site_name: str = ""


@dataclass(frozen=True)
class Actor:
    """Who acts, from where. A kiosk device acts with role ``kiosk`` and no user."""

    name: str
    role: str
    user_id: int | None = None
    device: str | None = None


@dataclass(frozen=True)
class Person:
    unit: str
    name: str
    phone: str


@dataclass(frozen=True)
class Collector:
    """Someone collecting an item. Only the last four ID characters are ever taken."""

    name: str
    id_type: str
    id_last4: str
    phone: str | None = None


@dataclass(frozen=True)
class DepositForm:
    kind: str
    owner: Person
    size: str = "small"
    description: str = ""
    expected_pickup_at: datetime | None = None
    designated_name: str | None = None
    designated_phone: str | None = None
    location: str | None = None
    location_detail: str | None = None
    declared: tuple[str, ...] = field(default_factory=tuple)
    disclaimer_acknowledged: bool = False
    carrier: str | None = None
    urgent: bool = False


@dataclass(frozen=True)
class ComplaintForm:
    """A complaint or request as the desk (or the kiosk) takes it down."""

    kind: str
    category: str
    channel: str
    content: str
    unit: str | None = None
    name: str | None = None
    contact: str | None = None
    # energy, equipment or service; by default equipment for the equipment category, else service.
    area: str | None = None
    wants: tuple[str, ...] = field(default_factory=tuple)
    our_cause: bool | None = None
    reasonable: bool | None = None
    # Whether it came in writing; by default, letters and e-mails did.
    written: bool | None = None
    # The reply time the staff member promised; by default one working day.
    reply_due_at: datetime | None = None
    # Repairs only: public area or inside the unit, and where.
    repair_scope: str | None = None
    repair_location: str | None = None
