"""The ledger's tables, as SQLAlchemy 2.0 typed models.

Schema changes go through Alembic (kiosk/migrations); these classes are the
shape the code reads and writes, and a test checks they agree with the
migrations.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
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
    # Keys only: unit key, shop key, resident card or car card (the monthly count's rows).
    key_kind: Mapped[str | None] = mapped_column(String(16))
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

    # When and how the item left the desk's custody: handed out (``released``), or
    # returned to the post office, disposed of, handed to lost-and-found.
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

    # When a contact attempt last reached the owner (kiosk/contacts.py keeps it): the
    # overdue rules read this instead of searching the contact log row by row.
    owner_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # The held list and the supervisor's unclaimed/overdue views.
        Index("ix_items_status_id", "status", "id"),
        Index("ix_items_status_expected_pickup_at", "status", "expected_pickup_at"),
        Index("ix_items_owner_unit_status", "owner_unit", "status"),
        # The overdue list ranks every item in custody by the rules in kiosk/overdue.py: this partial
        # index holds each one with every column those rules and filters read, so both
        # databases rank them from the index alone (an index-only scan), not row by row.
        Index("ix_items_held", "id", "status", "kind", "size", "urgent", "location", "owner_unit", "deposited_at",
              "expected_pickup_at", "undeliverable_at", "owner_reached_at",
              postgresql_where=text("status IN ('held', 'lent')"), sqlite_where=text("status IN ('held', 'lent')")),
        # The notify worker's "whose reminder is due" scan.
        Index("ix_items_status_next_notify_at", "status", "next_notify_at"),
        # The shift's deposits and releases on the handover sheet, and the supervisor's charts
        # (what came in and what left within the last 30/90 days).
        Index("ix_items_deposited_at", "deposited_at"),
        Index("ix_items_released_at", "released_at"),
    )


class ItemContact(Base):
    """One attempt to reach an item's owner: who tried, how, when, and what came of it."""

    __tablename__ = "item_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    promised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    staff_name: Mapped[str] = mapped_column(String(64))
    logged_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_item_contacts_item_id_at", "item_id", "at"),)


class DisposalRequest(Base):
    """A request to dispose of an unclaimed item or hand it to lost-and-found.

    Two people: one asks, a supervisor who is not the one who asked approves.
    """

    __tablename__ = "disposal_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    # pending -> approved | declined
    state: Mapped[str] = mapped_column(String(12))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_disposal_requests_item_id_state", "item_id", "state"),
                      Index("ix_disposal_requests_state_id", "state", "id"))


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
    """A complaint, repair request, request for help or suggestion (投诉, 报修, 求助, 建议).

    Whoever takes it owns it until it is closed (首问责任制); a kiosk filing has
    no owner until a staff member acknowledges it.
    """

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    channel: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    # The weekly split: energy, equipment or service.
    area: Mapped[str] = mapped_column(String(12))
    # Empty only for media and online-forum complaints, where nobody may have said who they are.
    unit: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    # The language the resident wrote in (a kiosk filing), so the reply can use it.
    language: Mapped[str | None] = mapped_column(String(16))
    # What the resident wants, comma-separated: heard, respect, fix, compensation.
    wants: Mapped[str] = mapped_column(String(64), default="")
    # The desk's judgement; None until someone has judged.
    our_cause: Mapped[bool | None] = mapped_column(Boolean)
    reasonable: Mapped[bool | None] = mapped_column(Boolean)
    # A written complaint (a letter, an e-mail) gets a written reply before it closes.
    written: Mapped[bool] = mapped_column(Boolean, default=False)
    repair_scope: Mapped[str | None] = mapped_column(String(8))

    state: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner_name: Mapped[str | None] = mapped_column(String(64))
    taken_by: Mapped[str] = mapped_column(String(64))
    device: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reply_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # True when the staff member promised the time; False for the one-working-day default.
    reply_due_promised: Mapped[bool] = mapped_column(Boolean, default=False)
    first_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    written_reply_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    repeat_of: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    reply_overdue_alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))

    __table_args__ = (
        # The weekly analysis reads only indexes (no table rows): what it counts for a week or a
        # month is in this one, the medians and overdue replies in the next three.
        Index("ix_complaints_received_at_cover", "received_at", "category", "channel", "kind", "area", "unit",
              "repeat_of", "id"),
        Index("ix_complaints_closed_at_received_at", "closed_at", "received_at"),
        Index("ix_complaints_first_reply_at_reply_due_at_received_at", "first_reply_at", "reply_due_at",
              "received_at"),
        # The overdue check: only the complaints still waiting for a reply, by when it is due.
        Index("ix_complaints_awaiting_reply", "reply_due_at", "id",
              postgresql_where=text("first_reply_at IS NULL"), sqlite_where=text("first_reply_at IS NULL")),
        Index("ix_complaints_reply_due_at_first_reply_at", "reply_due_at", "first_reply_at"),
        # Repeat detection: the same unit and category within 30 days.
        Index("ix_complaints_unit_category_received_at", "unit", "category", "received_at"),
        # The desk's lists: mine, the kiosk's unowned ones, everything open.
        Index("ix_complaints_owner_id_state", "owner_id", "state"),
        Index("ix_complaints_state_id", "state", "id"),
        # A kiosk device's recent filings (its rate limit).
        Index("ix_complaints_device_received_at", "device", "received_at"),
    )


class ComplaintStep(Base):
    """One step of a complaint's history, with who and when: taken, a state change,
    a reply to the resident, a follow-up visit, a reassignment, a work-order change."""

    __tablename__ = "complaint_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    # Set on replies: whether this reply was written (a letter, an e-mail).
    written: Mapped[bool | None] = mapped_column(Boolean)
    # Set on follow-up visits: whether the resident was satisfied.
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    details: Mapped[str] = mapped_column(Text, default="{}")

    __table_args__ = (
        Index("ix_complaint_steps_complaint_id_id", "complaint_id", "id"),
        # The weekly satisfaction rate: follow-up visits in a week (read from the index alone).
        Index("ix_complaint_steps_action_at_satisfied", "action", "at", "satisfied"),
    )


class WorkOrder(Base):
    """A repair order for engineering (《工程维修单》), with its own state."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), unique=True)
    # public: checked by the desk after completion; in_unit: the resident's follow-up visit confirms it.
    scope: Mapped[str] = mapped_column(String(8))
    location: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12))
    assignee: Mapped[str | None] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(64))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_work_orders_state_id", "state", "id"),)


class CalendarWeekday(Base):
    """A day of the week the site works differently from Monday-to-Friday (0 Monday … 6 Sunday).

    No row means the default: Monday to Friday are working days, Saturday and Sunday not.
    """

    __tablename__ = "calendar_weekdays"

    weekday: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    working: Mapped[bool] = mapped_column(Boolean)


class CalendarDay(Base):
    """An exception to the working week: a public holiday, or a weekend day worked instead (调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(64), default="")
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handover(Base):
    """A shift handover (交接班) or the monthly key count (每月盘点): one count of the shelf.

    The expected set is frozen into ``handover_lines`` when it is opened; scans and
    explanations fill the lines in; two signatures close it for good.
    """

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))          # shift | key_count
    state: Mapped[str] = mapped_column(String(12))         # open | signed | cancelled
    shift_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    outgoing_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    outgoing_name: Mapped[str] = mapped_column(String(64))
    # 《客服部工作交接表》: work the outgoing shift did not finish.
    unfinished: Mapped[str] = mapped_column(Text, default="")

    # Kept up to date by each scan, so progress never needs a count over the lines.
    expected_count: Mapped[int] = mapped_column(Integer, default=0)
    found_count: Mapped[int] = mapped_column(Integer, default=0)
    scanned_count: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every change; a signature given before a change is withdrawn by it.
    revision: Mapped[int] = mapped_column(Integer, default=0)

    outgoing_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    incoming_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    incoming_name: Mapped[str | None] = mapped_column(String(64))
    incoming_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The audit chain's head when both had signed: the handover_signed event itself.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))
    # What stood around the count when it was signed (alerts, print jobs, keys out, …), as JSON.
    context: Mapped[str | None] = mapped_column(Text)

    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # One count of each kind at a time: two shelves counted at once would each miss the other's items.
        Index("uq_handovers_open_kind", "kind", unique=True,
              postgresql_where=text("state = 'open'"), sqlite_where=text("state = 'open'")),
        # The previous signed handover: where this shift started.
        Index("ix_handovers_kind_state_signed_at", "kind", "state", "signed_at"),
    )


class HandoverLine(Base):
    """One item of a count: expected at opening, scanned, or both; or an unknown code scanned."""

    __tablename__ = "handover_lines"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    # A code the ledger does not know (forged, or not ours): only its digest is kept.
    code_digest: Mapped[str | None] = mapped_column(String(32))
    expected: Mapped[bool] = mapped_column(Boolean)
    # A key lent out when the count opened: not expected on the shelf, listed all the same.
    on_loan: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_location: Mapped[str | None] = mapped_column(String(24))

    # found | extra | unexpected, set by the scan; missing | gone for the unscanned, set at signing.
    finding: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(16))
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scanned_by: Mapped[str | None] = mapped_column(String(64))
    found_location: Mapped[str | None] = mapped_column(String(24))
    ledger_location: Mapped[str | None] = mapped_column(String(24))
    wrong_place: Mapped[bool] = mapped_column(Boolean, default=False)

    explanation: Mapped[str | None] = mapped_column(Text)
    explained_by: Mapped[str | None] = mapped_column(String(64))
    explained_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))

    __table_args__ = (
        UniqueConstraint("handover_id", "item_id"),
        UniqueConstraint("handover_id", "code_digest"),
    )
