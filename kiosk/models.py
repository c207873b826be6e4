"""The ledger's tables, as SQLAlchemy 2.0 typed models.

Schema changes go through Alembic (kiosk/migrations); these classes are the
shape the code reads and writes, and a test checks they agree with the
migrations.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL wants room for
# years of scans.
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(256))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A bearer token: for a user, or for a kiosk device (which has no user)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Only a digest is kept: a copy of the database does not give working tokens.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    device: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TicketCounter(Base):
    __tablename__ = "ticket_counters"

    site: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger, default=0)


class Item(Base):
    """One deposit: a row of the deposit register (《行李寄存登记表》)."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    site: Mapped[str] = mapped_column(String(8))
    ticket_no: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))

    owner_unit: Mapped[str] = mapped_column(String(32))
    owner_name: Mapped[str] = mapped_column(String(64))
    owner_phone: Mapped[str] = mapped_column(String(24))
    owner_email: Mapped[str | None] = mapped_column(String(254))
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[str] = mapped_column(String(8))
    declared: Mapped[str] = mapped_column(String(200), default="")
    disclaimer_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    designated_name: Mapped[str | None] = mapped_column(String(64))
    designated_phone: Mapped[str | None] = mapped_column(String(24))
    carrier: Mapped[str | None] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    mail_class: Mapped[str | None] = mapped_column(String(16))
    perishable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The owner's consent: to a key deposit (the signed key register), or to the desk
    # signing for a courier parcel.
    consent_by: Mapped[str | None] = mapped_column(String(64))
    consent_channel: Mapped[str | None] = mapped_column(String(16))
    # Keys: an owner's spare key of a handed-over unit is lent only with the owner's consent.
    key_handed_over: Mapped[bool | None] = mapped_column(Boolean)
    # Mail and parcels: when the owner is next to be notified (None: no more reminders).
    next_notify_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Letters that cannot be delivered go back to the post office within three days.
    undeliverable_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undeliverable_reason: Mapped[str | None] = mapped_column(String(24))

    location: Mapped[str] = mapped_column(String(24))
    location_detail: Mapped[str | None] = mapped_column(String(64))
    suggested_location: Mapped[str] = mapped_column(String(24))

    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    staff_name: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))
    deposited_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The claim half (stub, or pickup notice for mail) can be revoked and
    # reissued; the generation is part of the code, so an old code stops
    # matching without storing any code.
    claim_generation: Mapped[int] = mapped_column(Integer, default=0)
    claim_state: Mapped[str] = mapped_column(String(8), default="active")

    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_by_name: Mapped[str | None] = mapped_column(String(64))
    release_method: Mapped[str | None] = mapped_column(String(16))
    collector_name: Mapped[str | None] = mapped_column(String(64))
    collector_id_type: Mapped[str | None] = mapped_column(String(24))
    # Never more than the last four characters of an ID number (DOMAIN: personal data).
    collector_id_last4: Mapped[str | None] = mapped_column(String(4))
    # The name the collector typed at the desk as their signature for mail and parcels.
    collector_signature: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        # The held list and the supervisor's unclaimed/overdue views.
        Index("ix_items_status_id", "status", "id"),
        Index("ix_items_status_expected_pickup_at", "status", "expected_pickup_at"),
        Index("ix_items_owner_unit_status", "owner_unit", "status"),
        # The notify worker's "whose reminder is due" scan.
        Index("ix_items_status_next_notify_at", "status", "next_notify_at"),
    )


class AuditEvent(Base):
    """Append-only record of every change of custody.

    A row is written with a number from a sequence and a hash of its own content
    keyed by the audit key (derived from the site secret, never stored here), and
    takes no lock; the sealer chains it afterwards (``AuditSeal``). Rows written
    before the keyed chain keep their old SHA-256 link in ``prev_hash``.
    """

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    event: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(BigInteger)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    device: Mapped[str | None] = mapped_column(String(64))
    # Canonical JSON text, hashed exactly as stored.
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_events_item_id_seq", "item_id", "seq"),)


class AuditSeal(Base):
    """One row per sealed audit row: the chain, in the order the sealer saw rows commit.

    ``position`` runs 1, 2, 3… without gaps; ``hash`` is keyed and covers the seal
    before it, the row's number and the row's own hash. Only the sealer writes
    here (INSERT only, like the trail itself).
    """

    __tablename__ = "audit_seals"

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScanMiss(Base):
    """Wrong codes scanned by one actor in one minute: a count, not a row per attempt."""

    __tablename__ = "scan_misses"

    actor: Mapped[str] = mapped_column(String(64), primary_key=True)
    minute: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    device: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """Something security must look at now (e.g. a revoked stub presented)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    # A burst (wrong codes from one device) is one alert that counts on, not one per attempt.
    count: Mapped[int | None] = mapped_column(Integer)
    last_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_alerts_resolved_at_id", "resolved_at", "id"),)


class PrintJob(Base):
    """A label waiting for, or sent to, a printer.

    Written in the same transaction as the deposit (or the reprint request), so
    no label exists for a deposit that was not saved and no saved deposit
    loses its label when a printer is offline.
    """

    __tablename__ = "print_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    printer: Mapped[str] = mapped_column(String(64))
    printer_url: Mapped[str] = mapped_column(String(500))
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    # Only this part of the label (e.g. "notice": a pickup notice for the mailbox); None: all of it.
    part: Mapped[str | None] = mapped_column(String(12))
    # queued -> sending -> printed; or failed (needs staff), which a retry puts back to queued;
    # or in_doubt (the worker died after the label went out), which staff confirm or reprint.
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A worker that dies before sending loses its lease and another worker sends the job;
    # one that dies after ``send_started_at`` leaves the job in doubt: it is never re-sent
    # by itself, since it carries a claim code that may already be on paper.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_print_jobs_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_print_jobs_item_id", "item_id"),
    )


class Resident(Base):
    """Who lives here: the register the desk checks mail and parcels against.

    A resident who moves out keeps the row (``moved_out_at``): mail for a former
    resident is recognised as such, and the desk may call them.
    """

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    # The name as compared: case and spacing folded, so "Alice  Wong" finds "alice wong".
    name_key: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(24))
    email: Mapped[str | None] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(8), default="zh_Hans")
    courier_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(64))
    moved_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_residents_unit_name_key", "unit", "name_key"),)


class KeyLoan(Base):
    """A held key lent out (to a contractor, for a repair) and, the same day, returned."""

    __tablename__ = "key_loans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    state: Mapped[str] = mapped_column(String(12))          # out, returned
    borrower_name: Mapped[str] = mapped_column(String(64))
    # Shown masked; the full number only through an audited reveal.
    borrower_phone: Mapped[str] = mapped_column(String(24))
    borrower_company: Mapped[str] = mapped_column(String(64), default="")
    purpose: Mapped[str] = mapped_column(String(200))
    lent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_back_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lent_by_name: Mapped[str] = mapped_column(String(64))
    consent_by: Mapped[str | None] = mapped_column(String(64))
    consent_channel: Mapped[str | None] = mapped_column(String(16))
    # A supervisor's approval of a loan the rules refuse: who, which rules, why.
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_name: Mapped[str | None] = mapped_column(String(64))
    approved_rules: Mapped[str | None] = mapped_column(String(64))
    approval_reason: Mapped[str | None] = mapped_column(String(200))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_name: Mapped[str | None] = mapped_column(String(64))
    overdue_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    end_of_day_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))

    __table_args__ = (
        Index("ix_key_loans_state_due_back_at", "state", "due_back_at"),
        Index("ix_key_loans_item_id", "item_id"),
    )


class Notification(Base):
    """The outbox: one message to an owner, written in the transaction of the event
    that causes it and sent later by the notify worker.

    queued -> claimed (a worker holds a lease) -> sending (past the point of no
    return) -> sent; or failed (staff), in_doubt (a sender that cannot take its
    idempotency key may have delivered it: staff review), cancelled (the item
    was collected first, or a later reminder superseded it).
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    channel: Mapped[str] = mapped_column(String(8))         # email, sms, slip
    address: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(8))
    params: Mapped[str] = mapped_column(Text, default="{}")
    # Which attempt of the item's notice schedule this message belongs to (0: at intake).
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    # Sent with the message, so a gateway that saw it before drops the repeat.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12))
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_notifications_status_next_try_at", "status", "next_try_at"),
        Index("ix_notifications_item_id_attempt", "item_id", "attempt"),
    )


class KioskEnrolment(Base):
    """A one-time link that binds one browser to a kiosk device.

    Only the link's digest is kept. Opening it once makes a device token that
    the browser keeps as a cookie; the link then stops working.
    """

    __tablename__ = "kiosk_enrolments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device: Mapped[str] = mapped_column(String(64))
    link_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Complaint(Base):
    """A resident's complaint or request (投诉, 报修, 求助), as first taken in.

    Minimal on purpose: unit, name, phone, category and text, where and when
    it was filed. The complaint-handling process (first-contact owner, promised
    time, follow-up visit) builds on these rows.
    """

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    unit: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text)
    # The language the resident wrote in, so the reply can use it.
    language: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    received_by: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_complaints_status_id", "status", "id"),)
