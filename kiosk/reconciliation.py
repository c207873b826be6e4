"""Reading a handover or key count: expected, found, missing, unexpected, in the wrong place.

The writing side (opening, scans, explanations, signatures) is kiosk.handover.
Each line of a count is classified by one pure function, so the page, the
signing check and the frozen record at signing never disagree.

While a count is open, an expected line not scanned yet is *missing* if the
ledger still holds the item, and *gone* (not a difference) if the item was
handed out or lent since the count opened: the release or loan is on the
audit trail. At signing every line's finding is frozen, so the sheet of a
signed handover reads the same years later.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import alerts, printjobs
from .audit import canonical
from .errors import NotFound
from .models import AuditEvent, Handover, HandoverLine, Item, KeyLoan
from .privacy import mask_name

# How a line stands. found/extra/unexpected come from a scan; the rest from not being scanned.
FOUND, EXTRA, UNEXPECTED = "found", "extra", "unexpected"
MISSING, GONE, ON_LOAN = "missing", "gone", "on_loan"
# The differences someone must explain before both may sign.
DISCREPANCIES = ("missing", "unexpected", "wrong_place")
CONTEXT_LIMIT = 500


@dataclass(frozen=True)
class KeyOut:
    """A key lent out and not back yet (kiosk.loans), as the handover passes it on."""

    item_id: int
    ticket_no: str
    borrower: str           # name and company as the loan records them; never the phone
    due_back_at: datetime


def keys_out(session: Session) -> list[KeyOut]:
    """Keys out on loan now, due back first: the one place the handover asks kiosk.loans."""
    rows = session.execute(
        select(KeyLoan, Item.ticket_no).join(Item, Item.id == KeyLoan.item_id).where(KeyLoan.state == "out")
        .order_by(KeyLoan.due_back_at, KeyLoan.id).limit(CONTEXT_LIMIT)
    ).all()
    return [KeyOut(item_id=loan.item_id, ticket_no=ticket_no, due_back_at=loan.due_back_at,
                   borrower=" ".join(filter(None, (loan.borrower_name, loan.borrower_company))))
            for loan, ticket_no in rows]


def ledger_reason(status: str) -> str:
    """Why an item is not on the shelf, in the count's words: a lent key is ``on_loan``."""
    return "on_loan" if status == "lent" else status


@dataclass(frozen=True)
class OpenComplaint:
    """A complaint or request still open, with the deadline promised to the customer."""

    id: int
    reference: str
    category: str
    unit: str
    deadline: datetime | None


def open_complaints(session: Session) -> list[OpenComplaint]:
    """Open complaints with their deadlines: none until the complaints model lands."""
    return []


@dataclass(frozen=True)
class ItemBrief:
    """What a count shows of an item: no phone, nothing the sheet does not print."""

    id: int
    ticket_no: str
    kind: str
    key_kind: str | None
    status: str
    location: str
    owner_unit: str
    owner_name: str
    description: str

    @classmethod
    def of(cls, item: Item) -> ItemBrief:
        return cls(**{name: getattr(item, name) for name in BRIEF})


BRIEF = tuple(f.name for f in fields(ItemBrief))


@dataclass(frozen=True)
class Entry:
    """One line of a count as the sheet shows it."""

    line: HandoverLine
    item: ItemBrief | None
    finding: str
    reason: str | None

    @property
    def discrepancy(self) -> str | None:
        if self.finding in (MISSING, UNEXPECTED):
            return self.finding
        return "wrong_place" if self.line.wrong_place else None

    @property
    def unexplained(self) -> bool:
        return self.discrepancy is not None and self.line.explanation is None


def classify(line: HandoverLine, item: ItemBrief | None) -> tuple[str, str | None]:
    """(finding, reason) of one line, from its scan or, unscanned, from the ledger now."""
    if line.finding is not None:
        return line.finding, line.reason
    if line.on_loan:
        return ON_LOAN, None
    if item is not None and item.status != "held":
        return GONE, ledger_reason(item.status)
    return MISSING, None


@dataclass(frozen=True)
class Reconciliation:
    handover: Handover
    entries: tuple[Entry, ...]

    def having(self, *findings: str) -> list[Entry]:
        return [e for e in self.entries if e.finding in findings]

    @property
    def expected(self) -> list[Entry]:
        return [e for e in self.entries if e.line.expected]

    @property
    def wrong_place(self) -> list[Entry]:
        return [e for e in self.entries if e.line.wrong_place]

    @property
    def discrepancies(self) -> list[Entry]:
        return [e for e in self.entries if e.discrepancy is not None]

    @property
    def unexplained(self) -> list[Entry]:
        return [e for e in self.entries if e.unexplained]

    def counts(self) -> dict[str, int]:
        counts = {"expected": len(self.expected), "wrong_place": len(self.wrong_place),
                  "unexplained": len(self.unexplained)}
        for finding in (FOUND, EXTRA, UNEXPECTED, MISSING, GONE, ON_LOAN):
            counts[finding] = len(self.having(finding))
        return counts

    def by_key_kind(self) -> dict[str, dict[str, int]]:
        """The monthly key count's sheet: per sub-kind, expected, found, missing and unexpected."""
        rows: dict[str, dict[str, int]] = {}
        for entry in self.entries:
            key_kind = entry.item.key_kind if entry.item is not None else None
            row = rows.setdefault(key_kind or "unknown", dict.fromkeys(
                ("expected", FOUND, MISSING, UNEXPECTED, "wrong_place"), 0))
            row["expected"] += entry.line.expected
            row["wrong_place"] += entry.line.wrong_place
            if entry.finding in row:
                row[entry.finding] += 1
        return rows


def get_handover(session: Session, handover_id: int, *, lock: bool = False) -> Handover:
    handover = session.get(Handover, handover_id, with_for_update=lock or None, populate_existing=lock)
    if handover is None:
        raise NotFound(id=handover_id)
    return handover


def list_handovers(session: Session, *, state: str | None = None, kind: str | None = None,
                   limit: int = 50) -> list[Handover]:
    """Newest first: the open count to continue, or the signed sheets to read again."""
    query = select(Handover)
    if state is not None:
        query = query.where(Handover.state == state)
    if kind is not None:
        query = query.where(Handover.kind == kind)
    return list(session.scalars(query.order_by(Handover.id.desc()).limit(limit)))


def reconcile(session: Session, handover_id: int) -> Reconciliation:
    """Every line of the count, classified. Reads all lines: for the page and the signing, not per scan."""
    handover = get_handover(session, handover_id)
    # The items as plain columns: hydrating thousands of full ledger rows would cost more than the rest.
    rows = session.execute(
        select(HandoverLine, *(getattr(Item, name) for name in BRIEF))
        .outerjoin(Item, Item.id == HandoverLine.item_id)
        .where(HandoverLine.handover_id == handover.id).order_by(HandoverLine.id)
    ).all()
    entries = []
    for line, *columns in rows:
        item = ItemBrief(*columns) if columns[0] is not None else None
        entries.append(Entry(line, item, *classify(line, item)))
    return Reconciliation(handover, tuple(entries))


def line_of(session: Session, handover: Handover, *, item_id: int | None = None,
            code_digest: str | None = None) -> HandoverLine | None:
    query = select(HandoverLine).where(HandoverLine.handover_id == handover.id)
    if item_id is not None:
        query = query.where(HandoverLine.item_id == item_id)
    else:
        query = query.where(HandoverLine.code_digest == code_digest)
    return session.scalars(query).one_or_none()


def entry_of(session: Session, line: HandoverLine) -> Entry:
    """One line, classified as ``reconcile`` would: what an explanation is about."""
    item = session.get(Item, line.item_id) if line.item_id is not None else None
    item = ItemBrief.of(item) if item is not None else None
    return Entry(line, item, *classify(line, item))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def lines_digest(reconciliation: Reconciliation) -> str:
    """A digest of every line as signed; the handover_signed audit event carries it."""
    lines = [
        [e.line.item_id, e.line.code_digest, e.line.expected, e.finding, e.reason, e.line.wrong_place,
         e.line.found_location, e.line.explanation, e.line.alert_id]
        for e in reconciliation.entries
    ]
    return _sha256(canonical({"lines": lines}))


def context_digest(context_text: str) -> str:
    return _sha256(context_text)


def sheet_intact(session: Session, reconciliation: Reconciliation) -> bool | None:
    """Do the lines and context read now match what the audit trail recorded at signing?

    None before signing. A line edited in the database after signing shows here,
    and the audit chain shows an edit of the recorded digests.
    """
    handover = reconciliation.handover
    if handover.chain_seq is None:
        return None
    event = session.get(AuditEvent, handover.chain_seq)
    recorded = json.loads(event.details) if event is not None else {}
    return (recorded.get("lines_digest") == lines_digest(reconciliation)
            and recorded.get("context_digest") == context_digest(handover.context or ""))


# What stood around the count: passed on at the handover, frozen when it is signed.

def _item_row(item: Item, at: datetime | None) -> dict:
    return {"item_id": item.id, "ticket_no": item.ticket_no, "kind": item.kind, "unit": item.owner_unit,
            "owner": mask_name(item.owner_name), "at": at.isoformat() if at else None}


def _listed(session: Session, query, at_column) -> dict:
    items = list(session.scalars(query.limit(CONTEXT_LIMIT + 1)))
    return {"items": [_item_row(i, getattr(i, at_column.key)) for i in items[:CONTEXT_LIMIT]],
            "truncated": len(items) > CONTEXT_LIMIT}


def _between(column, start: datetime, end: datetime):
    return select(Item).where(column >= start, column < end).order_by(column, Item.id)


def context(session: Session, handover: Handover, now: datetime) -> dict:
    """What the outgoing clerk passes on besides the shelf; a signed handover answers what was frozen.

    A shift: its deposits and releases, items held past their pickup time (DOMAIN:
    contact the depositor), keys out, open complaints, print jobs needing
    attention and open alerts. A key count: the keys out.
    """
    if handover.context is not None:
        return json.loads(handover.context)
    lent = {"keys_out": [{"item_id": k.item_id, "ticket_no": k.ticket_no, "borrower": k.borrower,
                          "due_back_at": k.due_back_at.isoformat()} for k in keys_out(session)]}
    if handover.kind != "shift":
        return lent
    end = handover.signed_at or now
    overdue = select(Item).where(Item.status == "held", Item.expected_pickup_at < end).order_by(
        Item.expected_pickup_at, Item.id)
    return {
        "deposits": _listed(session, _between(Item.deposited_at, handover.shift_start, end), Item.deposited_at),
        "releases": _listed(session, _between(Item.released_at, handover.shift_start, end), Item.released_at),
        "overdue": _listed(session, overdue, Item.expected_pickup_at),
        **lent,
        "complaints": [{"id": c.id, "reference": c.reference, "category": c.category, "unit": c.unit,
                        "deadline": c.deadline.isoformat() if c.deadline else None}
                       for c in open_complaints(session)],
        "print_jobs": [{"id": j.id, "item_id": j.item_id, "printer": j.printer, "status": j.status,
                        "attempts": j.attempts, "error": j.last_error_code}
                       for j in printjobs.needing_attention(session, CONTEXT_LIMIT)],
        "alerts": [{"id": a.id, "kind": a.kind, "item_id": a.item_id, "at": a.at.isoformat()}
                   for a in alerts.list_alerts(session, open_only=True, limit=CONTEXT_LIMIT)],
    }
