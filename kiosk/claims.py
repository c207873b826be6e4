"""What happens around the claim half: scans at the kiosk or desk, and lost stubs."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from . import audit, codes
from .alerts import raise_alert
from .errors import CodeTooLong, InvalidInput, MalformedCode, UnknownCode
from .ledger import claim_code, find_item, get_item, is_claim_half
from .models import Alert, Item
from .refusals import refuse
from .values import Actor, Desk

# What the person in front of the kiosk should do next.
NEXT_PRESENT_AT_DESK = "present_at_desk"    # a valid stub: staff will bring the item
NEXT_SCAN_CLAIM = "scan_claim"              # a tag: staff now scan the owner's stub
NEXT_NONE = "none"                          # already handed out
NEXT_WAIT_FOR_STAFF = "wait_for_staff"      # say nothing more; security is on its way


@dataclass(frozen=True)
class ScanOutcome:
    role: str               # tag, stub or pickup
    item: Item
    next: str
    alert: Alert | None = None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


# What a scan reads of its item: what it decides by, and what the lobby's screen and the desk's
# pending pickups show (web/api/answers.item_summary, web/events.py). Anything else is read if used.
SCAN_COLUMNS = ("site", "ticket_no", "kind", "status", "claim_generation", "claim_state", "owner_unit", "owner_name",
                "deposited_at", "location")


def scan(session: Session, desk: Desk, actor: Actor, text: str, now: datetime | None = None,
         source: str | None = None) -> ScanOutcome:
    """Say what a scanned code is and what may happen next; record every scan.

    Unreadable, forged and unknown codes raise errors that are counted per minute
    (kiosk.misses; ``source`` is the client's address), and a burst of them alerts
    security once. A stub that was reported lost raises an alert and answers
    neutrally: the person holding it must not learn that it was reported.
    """
    now = now or datetime.now(UTC)
    # Only a digest of what was scanned is kept: scanned text is untrusted and may be anything.
    trace = {"length": len(text), "digest": _digest(text), **({"source": source} if source else {})}
    try:
        code = codes.parse(text)
    except (CodeTooLong, MalformedCode) as error:
        raise refuse(error, "scan", actor, now=now, details=trace, tally=True) from None

    item = find_item(session, code.item_id, SCAN_COLUMNS) if codes.authentic(desk.code_key, code) else None
    if item is None:
        raise refuse(UnknownCode(), "scan", actor, now=now, details={**trace, "forged": True}, tally=True)

    outcome_details = {"ticket_no": item.ticket_no, "role": code.role_name}
    if code.role == codes.TAG:
        outcome = ScanOutcome("tag", item, NEXT_NONE if item.status == "released" else NEXT_SCAN_CLAIM)
    elif not is_claim_half(item, code):
        raise refuse(UnknownCode(), "scan", actor, now=now, details={**trace, "forged": True}, tally=True)
    elif code.generation != item.claim_generation or item.claim_state != "active":
        alert = raise_alert(session, actor, "revoked_stub_presented", item.id, now,
                            {"ticket_no": item.ticket_no, "generation": code.generation, "at": "scan"})
        outcome = ScanOutcome(code.role_name, item, NEXT_WAIT_FOR_STAFF, alert)
        outcome_details["alert_id"] = alert.id
    elif item.status == "released":
        outcome = ScanOutcome(code.role_name, item, NEXT_NONE)
    else:
        outcome = ScanOutcome(code.role_name, item, NEXT_PRESENT_AT_DESK)
    audit.append(session, "scan", actor, item_id=item.id, now=now, details={**outcome_details, "next": outcome.next},
                 subject=item)
    return outcome


@dataclass(frozen=True)
class LostReport:
    item: Item
    new_claim_code: str | None
    alert: Alert | None


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def report_lost_stub(session: Session, desk: Desk, actor: Actor, item_id: int, *, unit: str, name: str,
                     reissue: bool = False, now: datetime | None = None) -> LostReport:
    """DOMAIN "Lost claim part": mark the stub lost; optionally print a new one.

    The reporter gives unit and name, which must match the owner (or the
    designated collector). If the item is already gone, whoever took it used
    the lost stub: security is alerted.
    """
    now = now or datetime.now(UTC)
    item = get_item(session, item_id, lock=True)
    if not _same(unit, item.owner_unit) or not (_same(name, item.owner_name) or _same(name, item.designated_name)):
        raise InvalidInput(code="owner_mismatch")

    if item.status == "released":
        alert = raise_alert(session, actor, "lost_stub_after_release", item.id, now,
                            {"ticket_no": item.ticket_no, "released_at": item.released_at.isoformat()})
        audit.append(session, "lost", actor, item_id=item.id, now=now,
                     details={"ticket_no": item.ticket_no, "already_released": True, "alert_id": alert.id})
        return LostReport(item, None, alert)

    item.claim_state = "lost"
    audit.append(session, "lost", actor, item_id=item.id, now=now,
                 details={"ticket_no": item.ticket_no, "generation": item.claim_generation})
    new_code = None
    if reissue:
        item.claim_generation += 1
        item.claim_state = "active"
        audit.append(session, "reissue", actor, item_id=item.id, now=now,
                     details={"ticket_no": item.ticket_no, "generation": item.claim_generation})
        new_code = claim_code(desk, item)
    session.flush()
    return LostReport(item, new_code, None)
