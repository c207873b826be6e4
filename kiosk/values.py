"""Plain values passed into the domain operations."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Desk:
    """The site this ledger serves and the secret its claim codes are made with."""

    site: str
    code_key: bytes
    site_name: str = ""
    # The desk's wall clock: "the same day", "the end of the day" and calling hours are local.
    timezone: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


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
    email: str | None = None


@dataclass(frozen=True)
class Consent:
    """The owner's consent, as the desk recorded it: who gave it and how."""

    given_by: str
    channel: str            # one of policy.CONSENT_CHANNELS


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
    # Keys: the owner's own consent to the deposit (the signed key register), and whether
    # the unit is already handed over to its owner (its spare key is then lent only with consent).
    consent: Consent | None = None
    key_handed_over: bool | None = None
    # Mail and parcels: the class of item (kiosk.mail.MAIL_CLASSES) and a perishable flag.
    mail_class: str | None = None
    perishable: bool = False


@dataclass(frozen=True)
class KeyDeposit:
    """A key left at the desk: the owner signs the key register (《顾客委托钥匙登记表》)."""

    owner: Person
    consent: Consent
    handed_over: bool
    description: str = ""
    collector_name: str | None = None
    collector_phone: str | None = None
    cabinet_slot: str | None = None


@dataclass(frozen=True)
class Borrower:
    name: str
    phone: str
    company: str = ""


@dataclass(frozen=True)
class LoanForm:
    borrower: Borrower
    purpose: str
    due_back_at: datetime
    owner_consent: Consent | None = None
    approval_reason: str | None = None


@dataclass(frozen=True)
class MailForm:
    """One letter or parcel received at the desk (《邮件签收登记表》)."""

    kind: str               # parcel or mail
    unit: str
    name: str
    carrier: str
    mail_class: str = "ordinary"
    description: str = ""
    perishable: bool = False
    consent: Consent | None = None
    # A postal letter for someone not living here is registered for return to the post office.
    return_to_post: bool = False
    shelf_slot: str | None = None


@dataclass(frozen=True)
class ResidentForm:
    unit: str
    name: str
    phone: str
    email: str | None = None
    locale: str = "zh_Hans"
    # Standing consent: the desk may sign for courier parcels for this resident.
    courier_consent: bool = False
