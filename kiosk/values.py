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
    key_kind: str | None = None
