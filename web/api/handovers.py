"""Shift handovers and the monthly key count: open, scan the shelf, explain, sign, read the sheet."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from flask import current_app
from pydantic import Field

from kiosk import anchors, handover, policy, reconciliation
from kiosk.models import Handover
from kiosk.privacy import mask_name
from kiosk.reconciliation import Entry, Reconciliation

from .. import db
from ..auth import desk
from ..schema import Answer, Body, Choice, Flag, Pattern, Query, Text, Timestamp
from . import operation
from .answers import Time

SHAPE = ("missing_field", "unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed")
NOT_FOUND = {404: ("not_found",)}
SIGNED = ("handover_signed", "handover_cancelled")
Finding = Literal["found", "extra", "unexpected", "missing", "gone", "on_loan"]
Id = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]


class Progress(Answer):
    """Scanned so far: expected items found, of those expected; every line scanned."""

    expected: int
    found: int
    scanned: int


class Signature(Answer):
    name: str
    signed_at: Time | None


class ChainHead(Answer):
    seq: int
    hash: str


class AnchorView(Answer):
    """The anchor outside the database that covers the signing (README: audit trail)."""
    at: Time
    position: int
    hash: str


class HandoverSummary(Answer):
    id: int
    kind: Literal[handover.KINDS]
    state: Literal[handover.STATES]
    shift_start: Time | None
    opened_at: Time
    outgoing: Signature
    incoming: Signature | None
    signed_at: Time | None
    chain_head: ChainHead | None
    unfinished: str
    progress: Progress
    counts: dict[str, int] | None = None


class Explanation(Answer):
    text: str
    by: str
    at: Time
    alert_id: int | None


class LineView(Answer):
    """One line of the count; an unknown code has no item, only the digest of what was scanned."""

    item_id: int | None
    code_digest: str | None
    ticket_no: str | None
    kind: str | None
    key_kind: str | None
    unit: str | None
    owner: str | None
    description: str | None
    expected: bool
    expected_location: str | None
    ledger_location: str | None
    found_location: str | None
    finding: Finding
    reason: str | None
    discrepancy: Literal["missing", "unexpected", "wrong_place"] | None
    scanned_at: Time | None
    scanned_by: str | None
    explanation: Explanation | None


class ContextItem(Answer):
    item_id: int
    ticket_no: str
    kind: str
    unit: str
    owner: str
    at: str | None


class ContextItems(Answer):
    items: list[ContextItem]
    truncated: bool


class KeyOut(Answer):
    item_id: int
    ticket_no: str
    borrower: str
    due_back_at: str


class Complaint(Answer):
    id: int
    reference: str
    category: str
    unit: str
    deadline: str | None


class PrintJobRef(Answer):
    id: int
    item_id: int
    printer: str
    status: str
    attempts: int
    error: str | None


class AlertBrief(Answer):
    id: int
    kind: str
    item_id: int | None
    at: str


class Context(Answer):
    """What the outgoing clerk passes on besides the shelf (a key count: the keys out only)."""

    deposits: ContextItems | None = None
    releases: ContextItems | None = None
    overdue: ContextItems | None = None
    keys_out: list[KeyOut]
    complaints: list[Complaint] | None = None
    print_jobs: list[PrintJobRef] | None = None
    alerts: list[AlertBrief] | None = None


class HandoverView(HandoverSummary):
    """The whole count: every list the sheet prints, and whether it still matches what was signed."""

    sheet_intact: bool | None
    expected: list[LineView]
    found: list[LineView]
    missing: list[LineView]
    unexpected: list[LineView]
    wrong_place: list[LineView]
    extra: list[LineView]
    gone: list[LineView]
    on_loan: list[LineView]
    key_kinds: dict[str, dict[str, int]] | None = None
    context: Context
    # Null until the sealer has sealed the signing and anchored it (about 100 ms after).
    anchor: AnchorView | None = None


def summary(row: Handover, counts: dict[str, int] | None = None, **extra) -> dict:
    answer = dict(
        id=row.id, kind=row.kind, state=row.state, shift_start=row.shift_start, opened_at=row.opened_at,
        outgoing=Signature(name=row.outgoing_name, signed_at=row.outgoing_signed_at),
        incoming=Signature(name=row.incoming_name, signed_at=row.incoming_signed_at) if row.incoming_name else None,
        signed_at=row.signed_at,
        chain_head=ChainHead(seq=row.chain_seq, hash=row.chain_hash) if row.chain_seq is not None else None,
        unfinished=row.unfinished, progress=progress(row), **extra)
    if counts is not None:
        answer["counts"] = counts
    return answer


def progress(row: Handover) -> Progress:
    return Progress(expected=row.expected_count, found=row.found_count, scanned=row.scanned_count)


def line_view(entry: Entry) -> LineView:
    line, item = entry.line, entry.item
    return LineView(
        item_id=line.item_id, code_digest=line.code_digest, ticket_no=item.ticket_no if item else None,
        kind=item.kind if item else None, key_kind=item.key_kind if item else None,
        unit=item.owner_unit if item else None, owner=mask_name(item.owner_name) if item else None,
        description=item.description if item else None, expected=line.expected,
        expected_location=line.expected_location, ledger_location=line.ledger_location,
        found_location=line.found_location, finding=entry.finding, reason=entry.reason,
        discrepancy=entry.discrepancy, scanned_at=line.scanned_at, scanned_by=line.scanned_by,
        explanation=Explanation(text=line.explanation, by=line.explained_by, at=line.explained_at,
                                alert_id=line.alert_id) if line.explanation is not None else None)


def full_view(result: Reconciliation) -> HandoverView:
    session, row = db.session(), result.handover
    lines = {id(e): line_view(e) for e in result.entries}

    def views(entries: list[Entry]) -> list[LineView]:
        return [lines[id(e)] for e in entries]

    extra = {"key_kinds": result.by_key_kind()} if row.kind == "key_count" else {}
    if row.chain_seq is not None:
        taken = anchors.covering(session, current_app.config["AUDIT_ANCHORS"], current_app.config["AUDIT_KEY"],
                                 row.chain_seq)
        extra["anchor"] = AnchorView(at=taken.at, position=taken.position, hash=taken.hash) if taken else None
    return HandoverView(
        **summary(row, result.counts(), **extra),
        sheet_intact=reconciliation.sheet_intact(session, result),
        expected=views(result.expected), found=views(result.having("found")),
        missing=views(result.having("missing")), unexpected=views(result.having("unexpected")),
        wrong_place=views(result.wrong_place), extra=views(result.having("extra")),
        gone=views(result.having("gone")), on_loan=views(result.having("on_loan")),
        context=Context.model_validate(reconciliation.context(session, row, datetime.now(UTC))))


class OpenRequest(Body):
    kind: Choice(handover.KINDS, "invalid_kind") = "shift"
    shift_start: Timestamp | None = None
    unfinished: Text(handover.UNFINISHED_LIMIT, multiline=True, required=False) = ""


@operation("POST", "/handovers", summary="Open a shift handover or a key count (the outgoing clerk)",
           permission="handover", body=OpenRequest, answers={201: HandoverSummary}, tag="handovers", errors={
               403: ("personal_login_required",), 409: ("handover_open",),
               422: SHAPE + ("invalid_kind", "invalid_time", "time_in_future")})
def open_handover(actor, body: OpenRequest):
    row = handover.open_handover(db.session(), actor, kind=body.kind, shift_start=body.shift_start,
                                 unfinished=body.unfinished)
    # The sheet itself is one GET away (Location): opening a 2,000-item count need not carry it.
    return HandoverSummary(**summary(row)), 201, {"Location": f"/api/v1/handovers/{row.id}"}


class HandoversQuery(Query):
    state: Literal[("all",) + handover.STATES] = "all"
    kind: Literal[handover.KINDS] | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 20


class HandoverList(Answer):
    handovers: list[HandoverSummary]


@operation("GET", "/handovers", summary="Handovers and key counts, newest first", permission="read_handover",
           query=HandoversQuery, answers={200: HandoverList}, tag="handovers")
def list_handovers(actor, query: HandoversQuery):
    rows = reconciliation.list_handovers(db.session(), state=None if query.state == "all" else query.state,
                                         kind=query.kind, limit=query.limit)
    return HandoverList(handovers=[HandoverSummary(**summary(row)) for row in rows])


@operation("GET", "/handovers/<id:handover_id>", summary="The count: expected, found, missing, unexpected, wrong "
           "place; what is passed on", permission="read_handover", answers={200: HandoverView}, tag="handovers",
           errors=NOT_FOUND)
def get_handover(actor, handover_id):
    return full_view(reconciliation.reconcile(db.session(), handover_id))


class ScanRequest(Body):
    # Anything a scanner may type; the domain reads it and records a digest of what it was.
    code: Annotated[str, Field(strict=True, max_length=1024)]
    location: Choice(policy.LOCATIONS, "invalid_location") | None = None


class ScanAnswer(Answer):
    duplicate: bool
    line: LineView
    progress: Progress


@operation("POST", "/handovers/<id:handover_id>/scans", summary="Count one item tag (where it was found, "
           "optionally)", permission="handover", body=ScanRequest, answers={200: ScanAnswer}, tag="handovers",
           errors={400: ("malformed_code", "code_too_long"), 409: SIGNED,
                   422: SHAPE + ("not_a_tag", "invalid_location")})
def scan_tag(actor, handover_id, body: ScanRequest):
    result = handover.scan(db.session(), desk(), actor, handover_id, body.code, location=body.location)
    return ScanAnswer(duplicate=result.duplicate, line=line_view(result.entry), progress=progress(result.handover))


class ExplanationRequest(Body):
    item_id: Id | None = None
    # An unknown code has no item: it is named by the digest its line shows.
    code_digest: Pattern("[0-9a-f]{32}", "invalid_code_digest", 32) | None = None
    text: Text(handover.EXPLANATION_LIMIT, multiline=True)
    escalate: Flag = False


@operation("POST", "/handovers/<id:handover_id>/explanations", summary="Explain a difference, or escalate it "
           "to security", permission="handover", body=ExplanationRequest, answers={200: LineView}, tag="handovers",
           errors={404: ("not_found", "not_in_handover"), 409: SIGNED + ("no_discrepancy",),
                   422: SHAPE + ("invalid_code_digest",)})
def explain_difference(actor, handover_id, body: ExplanationRequest):
    return line_view(handover.explain(db.session(), actor, handover_id, item_id=body.item_id,
                                      code_digest=body.code_digest, text=body.text, escalate=body.escalate))


class UnfinishedRequest(Body):
    text: Text(handover.UNFINISHED_LIMIT, multiline=True, required=False)


@operation("POST", "/handovers/<id:handover_id>/unfinished", summary="Rewrite the unfinished work passed on",
           permission="handover", body=UnfinishedRequest, answers={200: HandoverSummary}, tag="handovers",
           errors={409: SIGNED, 422: SHAPE})
def note_unfinished(actor, handover_id, body: UnfinishedRequest):
    return HandoverSummary(**summary(handover.note_unfinished(db.session(), actor, handover_id, body.text)))


@operation("POST", "/handovers/<id:handover_id>/sign", summary="Sign as outgoing (who opened it) or incoming "
           "clerk; both close it", permission="handover", answers={200: HandoverSummary}, tag="handovers",
           errors={403: ("personal_login_required",),
                   409: SIGNED + ("discrepancies_unexplained", "already_signed")})
def sign_handover(actor, handover_id):
    session = db.session()
    row = handover.sign(session, actor, handover_id)
    return HandoverSummary(**summary(row, reconciliation.reconcile(session, row.id).counts()))


class CancelRequest(Body):
    reason: Text(handover.EXPLANATION_LIMIT, multiline=True)


@operation("POST", "/handovers/<id:handover_id>/cancel", summary="Abandon an open count, with the reason",
           permission="cancel_handover", body=CancelRequest, answers={200: HandoverSummary}, tag="handovers",
           errors={409: SIGNED, 422: SHAPE})
def cancel_handover(actor, handover_id, body: CancelRequest):
    return HandoverSummary(**summary(handover.cancel(db.session(), actor, handover_id, body.reason)))
