"""Shift handover (交接班) and the monthly key count (每月盘点): count the shelf by scanning.

DOMAIN "Shift handover": the outgoing clerk hands over every item held and every
deposit and release of the shift; the incoming clerk may question any item, and
the outgoing may not leave until it is explained. So: the outgoing opens a count
(the expected set is frozen then), the incoming scans the tags on the shelves,
every difference gets an explanation or is escalated to security, and only then
can both sign. Signed is final. The monthly key count is the same count over the
key cabinet. Reading a count (expected, found, missing, …) is kiosk.reconciliation.

A scan is a constant number of statements, whatever the size of the count: the
handover's row (locked), the item, its line, the line's write, the counters and
the audit chain. Lock order: the handover's row first, so a scan and the last
signature cannot cross; then the item rows that lines and alerts refer to
(foreign keys take share locks); the audit chain last.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, and_, false, func, insert, literal, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import alerts, audit, codes, policy, reconciliation
from .errors import (
    CodeTooLong, Conflict, DiscrepanciesUnexplained, Forbidden, HandoverSigned, InvalidInput, MalformedCode,
    NotFound,
)
from .models import Handover, HandoverLine, Item
from .reconciliation import (
    EXTRA, FOUND, MISSING, UNEXPECTED, Entry, context, context_digest, entry_of, get_handover, line_of,
    lines_digest, reconcile,
)
from .refusals import refuse
from .values import Actor, Desk

KINDS = ("shift", "key_count")
STATES = ("open", "signed", "cancelled")
# Where a scan is taken to be when the scanner does not say: keys are counted at the cabinet.
DEFAULT_LOCATION = {"key_count": "key_cabinet"}
EXPLANATION_LIMIT = 500
UNFINISHED_LIMIT = 2000


@dataclass(frozen=True)
class ScanResult:
    handover: Handover
    entry: Entry
    # The same tag scanned again at the same place: nothing changed, nothing recorded.
    duplicate: bool = False


def _digest(text: str) -> str:
    return hashlib.sha256(codes.normalise(text).encode("utf-8", "replace")).hexdigest()[:32]


def _text(value: str | None, field: str, limit: int, *, required: bool) -> str:
    value = (value or "").strip()
    if required and not value:
        raise InvalidInput(code="missing_field", field=field)
    if len(value) > limit:
        raise InvalidInput(code="too_long", field=field, limit=limit)
    return value


def _person(actor: Actor) -> None:
    """Who opens or signs a count is a person with their own login, never a kiosk device."""
    if actor.user_id is None:
        raise Forbidden(code="personal_login_required", role=actor.role)


def _for_change(session: Session, actor: Actor, handover_id: int, event: str, now: datetime,
                trace: dict) -> Handover:
    """The handover's row, locked, if it may still change. An attempt on a signed one leaves a trace."""
    handover = get_handover(session, handover_id, lock=True)
    if handover.state == "signed":
        raise refuse(HandoverSigned(id=handover.id), event, actor, now=now,
                     details={"handover_id": handover.id, **trace})
    if handover.state == "cancelled":
        raise Conflict(code="handover_cancelled", id=handover.id)
    return handover


def _changed(handover: Handover) -> list[str]:
    """Count a change; a signature given before it no longer covers what the count says."""
    handover.revision += 1
    withdrawn = [side for side, at in (("outgoing", handover.outgoing_signed_at),
                                       ("incoming", handover.incoming_signed_at)) if at is not None]
    handover.outgoing_signed_at = handover.incoming_signed_at = None
    return withdrawn


def previous_shift_end(session: Session) -> datetime | None:
    """When the last signed shift handover was signed: where the next shift starts."""
    return session.scalar(
        select(Handover.signed_at).where(Handover.kind == "shift", Handover.state == "signed")
        .order_by(Handover.signed_at.desc()).limit(1)
    )


def open_handover(session: Session, actor: Actor, *, kind: str = "shift", shift_start: datetime | None = None,
                  unfinished: str = "", now: datetime | None = None) -> Handover:
    """The outgoing clerk opens a count: every item held now is expected on the shelf.

    A shift covers deposits and releases since the previous signed shift
    handover, or since ``shift_start`` (required for the first one). A key count
    expects every key held. Keys out on loan are listed, not expected.
    """
    now = now or datetime.now(UTC)
    _person(actor)
    if kind not in KINDS:
        raise InvalidInput(code="invalid_kind", field="kind", choices=KINDS)
    unfinished = _text(unfinished, "unfinished", UNFINISHED_LIMIT, required=False)
    if kind == "shift":
        shift_start = shift_start or previous_shift_end(session)
        if shift_start is None:
            raise InvalidInput(code="missing_field", field="shift_start")
        if shift_start.tzinfo is None:
            raise InvalidInput(code="invalid_time", field="shift_start")
        if shift_start > now:
            raise InvalidInput(code="time_in_future", field="shift_start")
    else:
        shift_start = None

    already = session.scalar(select(Handover.id).where(Handover.kind == kind, Handover.state == "open"))
    if already is not None:
        raise Conflict(code="handover_open", id=already, kind=kind)
    handover = Handover(kind=kind, state="open", shift_start=shift_start, opened_at=now, outgoing_id=actor.user_id,
                        outgoing_name=actor.name, unfinished=unfinished, expected_count=0, found_count=0,
                        scanned_count=0, revision=0)
    try:
        # The partial unique index settles two clerks opening at the same moment.
        with session.begin_nested():
            session.add(handover)
            session.flush()
    except IntegrityError:
        raise Conflict(code="handover_open", kind=kind) from None

    # Held items are expected on the shelf; keys out on loan are listed, to be back or explained.
    columns = ["handover_id", "item_id", "expected", "on_loan", "expected_location", "wrong_place"]
    for status, expected in (("held", true()), ("lent", false())):
        lines = select(literal(handover.id, BigInteger), Item.id, expected, Item.status == "lent", Item.location,
                       false()).where(Item.status == status)
        if kind == "key_count":
            lines = lines.where(Item.kind == "key")
        session.execute(insert(HandoverLine).from_select(columns, lines))
    counts = dict(session.execute(
        select(HandoverLine.expected, func.count()).where(HandoverLine.handover_id == handover.id)
        .group_by(HandoverLine.expected)).all())
    handover.expected_count = counts.get(True, 0)
    audit.append(session, "handover_open", actor, now=now, details={
        "handover_id": handover.id, "kind": kind, "shift_start": shift_start, "expected": handover.expected_count,
        "on_loan": counts.get(False, 0), "unfinished": unfinished,
    })
    return handover


def note_unfinished(session: Session, actor: Actor, handover_id: int, text: str,
                    now: datetime | None = None) -> Handover:
    """Rewrite the unfinished work (《客服部工作交接表》) while the count is open."""
    now = now or datetime.now(UTC)
    text = _text(text, "unfinished", UNFINISHED_LIMIT, required=False)
    handover = _for_change(session, actor, handover_id, "handover_note", now, {})
    handover.unfinished = text
    withdrawn = _changed(handover)
    audit.append(session, "handover_note", actor, now=now,
                 details={"handover_id": handover.id, "unfinished": text, "withdrawn": withdrawn})
    return handover


def _scanned(line: HandoverLine | None, item: Item | None) -> tuple[str, str | None]:
    """What a first scan of a tag finds: (finding, reason)."""
    if item is None:
        return UNEXPECTED, "unknown"
    if item.status != "held":
        return UNEXPECTED, reconciliation.ledger_reason(item.status)
    return (FOUND, None) if line is not None and line.expected else (EXTRA, None)


def scan(session: Session, desk: Desk, actor: Actor, handover_id: int, text: str, *,
         location: str | None = None, now: datetime | None = None) -> ScanResult:
    """Count one item tag, optionally saying where it was found.

    Every well-formed tag counts: a tag of an item the ledger handed out, or a
    code the ledger does not know (forged, or another desk's), is *unexpected*;
    a held item found elsewhere than the ledger says is in the *wrong place*.
    A stub or an unreadable text is refused. The same tag at the same place
    again changes nothing; at another place, it updates where it was found.
    """
    now = now or datetime.now(UTC)
    trace = {"handover_id": handover_id, "length": len(text), "digest": _digest(text)[:16]}
    if location is not None and location not in policy.LOCATIONS:
        raise InvalidInput(code="invalid_location", field="location", choices=policy.LOCATIONS)
    try:
        code = codes.parse(text)
    except (CodeTooLong, MalformedCode) as error:
        error.params["field"] = "code"
        raise refuse(error, "handover_scan", actor, now=now, details=trace) from None
    if code.role != codes.TAG:
        raise refuse(InvalidInput(code="not_a_tag", field="code", role=code.role_name), "handover_scan", actor,
                     now=now, details={**trace, "role": code.role_name})

    handover = _for_change(session, actor, handover_id, "handover_scan", now, trace)
    location = location or DEFAULT_LOCATION.get(handover.kind)
    forged = not codes.authentic(desk.code_key, code)
    item = line = None
    if not forged:
        # The item and its line (if any) in one round trip: a scan is the hot path of a count.
        item, line = session.execute(
            select(Item, HandoverLine).outerjoin(HandoverLine, and_(
                HandoverLine.handover_id == handover.id, HandoverLine.item_id == Item.id))
            .where(Item.id == code.item_id)
        ).first() or (None, None)
    if item is None:
        line = line_of(session, handover, code_digest=_digest(text))

    if line is not None and line.scanned_at is not None:
        if location is None or location == line.found_location:
            return ScanResult(handover, entry_of(session, line), duplicate=True)
        relocated = True
    else:
        relocated = False
        finding, reason = _scanned(line, item)
        if line is None:
            line = HandoverLine(handover_id=handover.id, item_id=item.id if item else None,
                                code_digest=None if item else _digest(text), expected=False, on_loan=False)
            session.add(line)
        line.finding, line.reason, line.scanned_at, line.scanned_by = finding, reason, now, actor.name
        handover.scanned_count += 1
        if finding == FOUND:
            handover.found_count += 1
    line.found_location = location
    line.ledger_location = item.location if item is not None else None
    line.wrong_place = bool(location and item is not None and item.status == "held" and location != item.location)
    withdrawn = _changed(handover)
    session.flush()

    details = {"handover_id": handover.id, "finding": line.finding, "reason": line.reason, "location": location,
               "wrong_place": line.wrong_place, "relocated": relocated, "withdrawn": withdrawn}
    if item is not None:
        details.update(ticket_no=item.ticket_no, ledger_location=item.location)
    else:
        details.update(digest=trace["digest"], forged=forged)
    audit.append(session, "handover_scan", actor, item_id=item.id if item else None, now=now, details=details)
    return ScanResult(handover, entry_of(session, line))


def explain(session: Session, actor: Actor, handover_id: int, *, text: str, item_id: int | None = None,
            code_digest: str | None = None, escalate: bool = False, now: datetime | None = None) -> Entry:
    """Explain one difference (by item, or by the digest of an unknown code); or escalate it.

    Escalating raises a security alert: ``item_missing`` for an item not on the
    shelf, ``count_discrepancy`` for anything else. An escalated difference
    counts as handled for signing: security owns it now.
    """
    now = now or datetime.now(UTC)
    text = _text(text, "text", EXPLANATION_LIMIT, required=True)
    if (item_id is None) == (code_digest is None):
        raise InvalidInput(code="missing_field", field="item_id")
    target = {"item_id": item_id} if item_id is not None else {"code_digest": code_digest}
    handover = _for_change(session, actor, handover_id, "handover_explain", now, target)
    line = line_of(session, handover, item_id=item_id, code_digest=code_digest)
    if line is None:
        raise NotFound(code="not_in_handover", id=handover.id, **target)
    entry = entry_of(session, line)
    if entry.discrepancy is None:
        raise Conflict(code="no_discrepancy", id=handover.id, **target)

    line.explanation, line.explained_by, line.explained_at = text, actor.name, now
    ticket_no = entry.item.ticket_no if entry.item is not None else None
    if escalate and line.alert_id is None:
        kind = "item_missing" if entry.discrepancy == MISSING else "count_discrepancy"
        alert = alerts.raise_alert(session, actor, kind, line.item_id, now, {
            "handover_id": handover.id, "ticket_no": ticket_no, "discrepancy": entry.discrepancy,
            "code_digest": line.code_digest, "note": text,
        })
        line.alert_id = alert.id
    withdrawn = _changed(handover)
    audit.append(session, "handover_explain", actor, item_id=line.item_id, now=now, details={
        "handover_id": handover.id, **target, "ticket_no": ticket_no, "discrepancy": entry.discrepancy,
        "text": text, "alert_id": line.alert_id, "withdrawn": withdrawn,
    })
    return Entry(line, entry.item, entry.finding, entry.reason)


def sign(session: Session, actor: Actor, handover_id: int, now: datetime | None = None) -> Handover:
    """Sign as the outgoing clerk (who opened it) or as the incoming (anyone else, with their own login).

    Refused while any difference is neither explained nor escalated. When both
    have signed, the count is closed: every line's finding is frozen, the
    context is kept as it stood, and the handover_signed audit event records
    digests of both; its place in the chain is the head this handover anchors.
    """
    now = now or datetime.now(UTC)
    _person(actor)
    handover = _for_change(session, actor, handover_id, "handover_sign", now, {})
    side = "outgoing" if actor.user_id == handover.outgoing_id else "incoming"
    if side == "incoming" and handover.incoming_signed_at is not None and handover.incoming_id != actor.user_id:
        raise Conflict(code="already_signed", id=handover.id, by=handover.incoming_name)
    if (handover.outgoing_signed_at if side == "outgoing" else handover.incoming_signed_at) is not None:
        return handover

    reconciliation = reconcile(session, handover.id)
    unexplained = reconciliation.unexplained
    if unexplained:
        raise refuse(
            DiscrepanciesUnexplained(id=handover.id, count=len(unexplained),
                                     item_ids=[e.line.item_id for e in unexplained[:20] if e.line.item_id]),
            "handover_sign", actor, now=now, details={"handover_id": handover.id, "as": side,
                                                      "unexplained": len(unexplained)})
    if side == "outgoing":
        handover.outgoing_signed_at = now
    else:
        handover.incoming_id, handover.incoming_name, handover.incoming_signed_at = actor.user_id, actor.name, now
    audit.append(session, "handover_sign", actor, now=now,
                 details={"handover_id": handover.id, "as": side, "revision": handover.revision})
    if handover.outgoing_signed_at is not None and handover.incoming_signed_at is not None:
        _close(session, actor, handover, reconciliation, now)
    return handover


def _close(session: Session, actor: Actor, handover: Handover, reconciliation, now: datetime) -> None:
    for entry in reconciliation.entries:
        if entry.line.finding is None:
            entry.line.finding, entry.line.reason = entry.finding, entry.reason
    handover.state, handover.signed_at = "signed", now
    handover.context = audit.canonical(context(session, handover, now))
    event = audit.append(session, "handover_signed", actor, now=now, details={
        "handover_id": handover.id, "kind": handover.kind, "outgoing": handover.outgoing_name,
        "incoming": handover.incoming_name, "counts": reconciliation.counts(),
        "lines_digest": lines_digest(reconciliation), "context_digest": context_digest(handover.context),
    })
    # The sheet prints this row's number and hash; the sealer anchors the chain outside the
    # database as soon as it has sealed the row (kiosk.audit.ANCHORED_EVENTS).
    handover.chain_seq, handover.chain_hash = event.seq, event.hash


def cancel(session: Session, actor: Actor, handover_id: int, reason: str, now: datetime | None = None) -> Handover:
    """Abandon an open count (a supervisor's call, with a reason), so the next can be opened."""
    now = now or datetime.now(UTC)
    reason = _text(reason, "reason", EXPLANATION_LIMIT, required=True)
    handover = _for_change(session, actor, handover_id, "handover_cancel", now, {})
    handover.state, handover.cancelled_at, handover.cancelled_by = "cancelled", now, actor.name
    handover.cancel_reason = reason
    audit.append(session, "handover_cancel", actor, now=now, details={"handover_id": handover.id, "reason": reason})
    return handover
