"""Lists people take away: the filtered item list as CSV, and as rows for a printed sheet.

The CSV is produced batch by batch from keyset queries and handed out as bytes
while it is being made: memory holds one batch, whatever the list's length. It
starts with a UTF-8 byte-order mark, so Excel reads Chinese names correctly, shows
phones masked (DOMAIN: personal data), and never lets a cell start like a formula.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo

from sqlalchemy.orm import Session

from . import contacts, overdue
from .models import Item
from .overdue import HELD, Filters
from .privacy import mask_phone

COLUMNS = (
    "ticket_no", "kind", "status", "policy_status", "policy_since", "unit", "owner_name", "owner_phone",
    "description", "size", "location", "deposited_at", "held_days", "expected_pickup_at",
    "last_contact_at", "last_contact", "last_contact_by", "contacts", "next_contact_due", "released_at",
)
# Values that are codes the reader wants in words (the web layer gives the words).
CODED = ("kind", "status", "policy_status", "size", "location", "last_contact")
BOM = "\ufeff"
# Rows per keyset query: each ranks the whole filtered list once, so fewer, larger batches
# cost less; memory holds one batch.
BATCH = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SELECTED = (Item.ticket_no, Item.kind, Item.status, Item.owner_unit, Item.owner_name, Item.owner_phone,
             Item.description, Item.size, Item.urgent, Item.location, Item.deposited_at, Item.expected_pickup_at,
             Item.released_at)

Words = Callable[[str, str], str]     # (column, code) -> the word for it


def records(session: Session, filters: Filters = HELD, *, now: datetime | None = None, tz: tzinfo = UTC,
            order: str = "urgency", batch: int = BATCH) -> Iterator[list[dict]]:
    """The filtered list as plain records (one dict per item), a batch at a time."""
    now = now or datetime.now(UTC)
    for rows in overdue.iter_rows(session, _SELECTED, filters, now=now, tz=tz, order=order, batch=batch):
        logs = contacts.contacts_by_item(session, [row._id for row in rows])
        out = []
        for row in rows:
            log = logs[row._id]
            last = log[-1] if log else None
            upcoming = contacts.next_contact(row, log, now=now, tz=tz)
            held_until = row.released_at or now
            out.append({
                "id": row._id, "ticket_no": row.ticket_no, "kind": row.kind, "status": row.status,
                "policy_status": overdue.status_name(row.rank),
                "policy_since": datetime.fromtimestamp(row.since, UTC) if row.rank != overdue.NOT_HELD else None,
                "unit": row.owner_unit, "owner_name": row.owner_name, "owner_phone": mask_phone(row.owner_phone),
                "description": row.description, "size": row.size, "urgent": row.urgent,
                "location": row.location, "deposited_at": row.deposited_at,
                "held_days": round((held_until - row.deposited_at).total_seconds() / 86400, 1),
                "expected_pickup_at": row.expected_pickup_at,
                "last_contact_at": last.at if last else None,
                "last_contact": f"{last.method}:{last.outcome}" if last else None,
                "last_contact_by": last.staff_name if last else None,
                "contacts": len(log),
                "next_contact_due": upcoming.due_at if upcoming else None,
                "released_at": row.released_at,
            })
        yield out


def _formatters(tz: tzinfo, words: Words | None) -> list[Callable[[object], str]]:
    """One function per column, chosen once, that turns a record's value into its cell."""
    if words is not None:
        # A list has a handful of codes and ten thousand rows: look each word up once.
        known: dict[tuple[str, str], str] = {}
        lookup = words

        def words(column: str, code: str) -> str:
            key = (column, code)
            if key not in known:
                known[key] = lookup(column, code)
            return known[key]

    def when(value) -> str:
        if value is None:
            return ""
        local = value.astimezone(tz)
        # Spelled out rather than strftime: this runs a few times per row of a long list.
        return "%04d-%02d-%02d %02d:%02d" % (local.year, local.month, local.day, local.hour, local.minute)

    def text(value) -> str:
        cell = "" if value is None else str(value)
        # A cell that starts like a formula is shown as text, never run (CSV injection).
        return "'" + cell if cell.startswith(_FORMULA_START) else cell

    def coded(column: str) -> Callable[[object], str]:
        if words is None:
            return text
        if column == "last_contact":
            def contact(value) -> str:
                if value is None:
                    return ""
                method, outcome = value.split(":")
                return f"{words('method', method)}: {words('outcome', outcome)}"
            return contact
        return lambda value: text(None if value is None else words(column, value))

    times = {"policy_since", "deposited_at", "expected_pickup_at", "last_contact_at", "next_contact_due",
             "released_at"}
    return [when if column in times else coded(column) if column in CODED else text for column in COLUMNS]


def csv_chunks(session: Session, filters: Filters = HELD, *, now: datetime | None = None, tz: tzinfo = UTC,
               order: str = "urgency", headers: Mapping[str, str] | None = None, words: Words | None = None,
               batch: int = BATCH) -> Iterator[bytes]:
    """The filtered list as CSV bytes: a byte-order mark and the header first, then one chunk per batch.

    ``headers`` names the columns and ``words`` turns codes into words in the reader's
    language; without them the columns and values are the codes.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> bytes:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    cells = _formatters(tz, words)
    buffer.write(BOM)
    writer.writerow([(headers or {}).get(column, column) for column in COLUMNS])
    yield flush()
    for chunk in records(session, filters, now=now, tz=tz, order=order, batch=batch):
        for record in chunk:
            writer.writerow([cell(record[column]) for cell, column in zip(cells, COLUMNS)])
        yield flush()
