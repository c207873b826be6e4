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
    description: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[str] = mapped_column(String(8))
    declared: Mapped[str] = mapped_column(String(200), default="")
    disclaimer_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    expected_pickup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    designated_name: Mapped[str | None] = mapped_column(String(64))
    designated_phone: Mapped[str | None] = mapped_column(String(24))
    carrier: Mapped[str | None] = mapped_column(String(32))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)

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

    __table_args__ = (
        # The held list and the supervisor's unclaimed/overdue views.
        Index("ix_items_status_id", "status", "id"),
        Index("ix_items_status_expected_pickup_at", "status", "expected_pickup_at"),
        Index("ix_items_owner_unit_status", "owner_unit", "status"),
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
