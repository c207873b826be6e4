"""The custody ledger: taking items in, handing them out, moving them, finding them.

Plain functions that take a session and values, raise domain errors and never
commit; the caller owns the transaction.

Lock order, everywhere: the item's row first (``SELECT … FOR UPDATE`` or the
conditional ``UPDATE``), then everything else. Appending to the audit trail takes
no lock at all (kiosk.audit: rows are chained afterwards by the sealer), so no
request waits on another item's events; but a print job's foreign key takes a share
lock on the item, and an operation that took that before the item's row lock would
deadlock against one that did it the other way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import String, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import audit, codes, policy
from .db import adopt
from .direct import Direct
from .errors import (
    AlreadyReleased,
    Conflict,
    DepositRefused,
    IdentityRequired,
    InvalidInput,
    KioskError,
    MalformedCode,
    NotFound,
    NotHeld,
    StubMismatch,
    StubRequired,
    StubRevoked,
    TagMismatch,
)
from .models import Item, TicketCounter
from .refusals import refuse
from .values import Actor, Collector, DepositForm, Desk


@dataclass(frozen=True)
class Deposit:
    item: Item
    tag_code: str
    claim_code: str

    @property
    def claim_role(self) -> str:
        return claim_role(self.item)


def claim_role(item: Item) -> str:
    """What the owner's half of the label is: a ``stub``, or a ``pickup`` notice for parcels and mail."""
    return "pickup" if item.kind in policy.NOTICE_KINDS else "stub"


def _claim_letter(item: Item) -> str:
    return codes.PICKUP if item.kind in policy.NOTICE_KINDS else codes.STUB


def tag_code(desk: Desk, item: Item) -> str:
    return codes.make(desk.code_key, codes.TAG, item.id)


def claim_code(desk: Desk, item: Item) -> str:
    return codes.make(desk.code_key, _claim_letter(item), item.id, item.claim_generation)


def is_claim_half(item: Item, code: codes.ClaimCode) -> bool:
    return code.role == _claim_letter(item)


@lru_cache(maxsize=2)
def _insert_item(postgres: bool) -> Direct:
    """The deposit's INSERT, a Core statement answering with the ids it made, the id and the
    ticket number (the ORM's bulk insert cost more than sending it; the rest of the row is what
    was sent).

    Ticket numbers on PostgreSQL come from the site's sequence inside this INSERT (migration 0010,
    ``next_ticket_no``): nothing is locked while the deposit's transaction goes on, and a deposit
    that rolls back leaves its number unused (README: "Ticket numbers"). On SQLite the number is
    the site's counter row, bumped in the transaction (``_next_ticket_no``): every writer there
    holds the database's one write lock to COMMIT anyway, so it costs no wait."""
    table = Item.__table__
    statement = insert(table).returning(table.c.id, table.c.ticket_no)
    if postgres:
        statement = statement.values(ticket_no=func.next_ticket_no(bindparam("ticket_site", type_=String)))
    return Direct(statement)


_COUNTERS = TicketCounter.__table__
_BUMP_TICKET = Direct(update(_COUNTERS).where(_COUNTERS.c.site == bindparam("counter_site"))
                      .values(last_value=_COUNTERS.c.last_value + 1).returning(_COUNTERS.c.last_value))


def _next_ticket_no(session: Session, site: str) -> str:
    """The site's next ticket number from its counter row (SQLite)."""
    bumped = _BUMP_TICKET.first(session, {"counter_site": site})
    if bumped is None:
        # First ticket of this site: create the counter; a concurrent first
        # deposit may create it too, which the ON CONFLICT absorbs.
        session.execute(sqlite.insert(TicketCounter).values(site=site, last_value=0).on_conflict_do_nothing())
        bumped = _BUMP_TICKET.one(session, {"counter_site": site})
    return f"{site}-{bumped['last_value']:04d}"


def deposit(session: Session, desk: Desk, actor: Actor, form: DepositForm,
            now: datetime | None = None) -> Deposit:
    """Take an item in: register it, number it and make its tag and claim codes."""
    now = now or datetime.now(UTC)
    form = policy.check_deposit(form, now)
    try:
        policy.check_refusal(form.declared)
    except DepositRefused as refusal:
        raise refuse(refusal, "refusal", actor, now=now, details={
            "kind": form.kind, "unit": form.owner.unit, "declared": list(form.declared),
        }) from None
    policy.check_acknowledgement(form)

    suggested = policy.suggest_location(form.kind, form.size, now, form.expected_pickup_at)
    postgres = session.get_bind().dialect.name == "postgresql"
    values = dict(
        site=desk.site, **({"ticket_site": desk.site} if postgres else {"ticket_no": _next_ticket_no(session, desk.site)}),
        kind=form.kind, key_kind=form.key_kind,
        status="held",
        owner_unit=form.owner.unit, owner_name=form.owner.name, owner_phone=form.owner.phone or "",
        owner_email=form.owner.email,
        description=form.description, size=form.size, declared=",".join(form.declared),
        disclaimer_acknowledged=form.disclaimer_acknowledged, expected_pickup_at=form.expected_pickup_at,
        designated_name=form.designated_name, designated_phone=form.designated_phone,
        carrier=form.carrier, urgent=form.urgent, mail_class=form.mail_class, perishable=form.perishable,
        consent_by=form.consent.given_by if form.consent else None,
        consent_channel=form.consent.channel if form.consent else None, key_handed_over=form.key_handed_over,
        location=form.location or suggested, location_detail=form.location_detail,
        suggested_location=suggested, staff_id=actor.user_id, staff_name=actor.name,
        device=actor.device, deposited_at=now, claim_generation=0, claim_state="active",
    )
    # One statement that numbers the item (on PostgreSQL); the item is what it wrote, with those numbers.
    written = _insert_item(postgres).one(session, values)
    values.pop("ticket_site", None)
    item = adopt(session, Item, {**values, **written})
    audit.append(session, "deposit", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "kind": item.kind, "unit": item.owner_unit, "size": item.size,
        "location": item.location, "suggested_location": suggested, "declared": list(form.declared),
        "disclaimer_acknowledged": form.disclaimer_acknowledged,
        **_deposit_extras(item),
    })
    return Deposit(item=item, tag_code=tag_code(desk, item), claim_code=claim_code(desk, item))


def _deposit_extras(item: Item) -> dict:
    """What a key or mail deposit records beyond the common fields, only where it applies."""
    extras = {
        "consent": {"by": item.consent_by, "channel": item.consent_channel} if item.consent_by else None,
        "key_kind": item.key_kind, "key_handed_over": item.key_handed_over, "carrier": item.carrier, "mail_class": item.mail_class,
        "urgent": item.urgent or None, "perishable": item.perishable or None,
    }
    return {key: value for key, value in extras.items() if value is not None}


@lru_cache(maxsize=8)
def _read_item(columns: tuple[str, ...] | None) -> Direct:
    table = Item.__table__
    return Direct(select(*(table.c[name] for name in columns) if columns else table.c)
                  .where(table.c.id == bindparam("item_id")))


def get_item(session: Session, item_id: int, *, lock: bool = False) -> Item:
    """The item; with ``lock``, its row locked for this transaction (take it before any audit append)."""
    if lock:
        item = session.get(Item, item_id, with_for_update=True, populate_existing=True)
    else:
        item = find_item(session, item_id)
    if item is None:
        raise NotFound(id=item_id)
    return item


def find_item(session: Session, item_id: int, columns: tuple[str, ...] | None = None) -> Item | None:
    """The item as this session knows it, or as a plain read gives it (one Core SELECT: a scan
    reads one item, and the ORM's query machinery cost more than the read); None if there is none.
    ``columns``: only these are read now (with ``id``), any other when first used."""
    known = session.identity_map.get(Item.__mapper__.identity_key_from_primary_key((item_id,)))
    if known is not None:
        return known
    row = _read_item(columns and ("id", *columns)).first(session, {"item_id": item_id})
    return adopt(session, Item, row, whole=columns is None) if row is not None else None


def check_held(item: Item) -> None:
    """Raise unless the item is on the desk's shelf (or in its key cabinet) now."""
    if item.status == "released":
        raise AlreadyReleased(ticket_no=item.ticket_no)
    if item.status != "held":
        # A key lent out, a letter gone back to the post office: not here.
        raise NotHeld(ticket_no=item.ticket_no, state=item.status)


def _code_for(desk: Desk, text: str | None, field: str) -> codes.ClaimCode | None:
    """Parse a code given to release; None when it is not authentic."""
    if text is None:
        return None
    try:
        code = codes.parse(text)
    except MalformedCode as error:
        error.params["field"] = field
        raise
    return code if codes.authentic(desk.code_key, code) else None


def release(session: Session, desk: Desk, actor: Actor, item_id: int, *, tag_code: str,
            stub_code: str | None = None, collector: Collector | None = None,
            signature: str | None = None, identity_pickup: bool = False,
            now: datetime | None = None) -> Item:
    """Hand an item out when both halves match: its tag, and its stub (or pickup code).

    Without the stub only if the owner reported it lost and staff checked the
    collector's identity, or (``identity_pickup``, mail and parcels: the notice
    went into a mailbox) staff checked the collector's identity instead of the
    pickup code. The state change is one conditional UPDATE, so two desks
    releasing the same item at once give exactly one success.
    """
    now = now or datetime.now(UTC)
    if collector is None and not identity_pickup:
        item = _release_by_both_halves(session, desk, actor, item_id, tag_code, stub_code, signature, now)
        if item is not None:
            return item
    item = get_item(session, item_id)
    trace = {"ticket_no": item.ticket_no}

    def refused(error: KioskError, **details) -> KioskError:
        return refuse(error, "release_refused", actor, item_id=item.id, now=now, details={**trace, **details})

    if not tag_code:
        raise InvalidInput(code="missing_field", field="tag_code")
    tag = _code_for(desk, tag_code, "tag_code")
    if tag is None or tag.role != codes.TAG or tag.item_id != item.id:
        raise refused(TagMismatch(), forged=tag is None)
    if item.status == "released":
        raise refused(AlreadyReleased(ticket_no=item.ticket_no))
    check_held(item)

    if collector is not None:
        collector = policy.check_collector(collector)

    if stub_code:
        stub = _code_for(desk, stub_code, "stub_code")
        if stub is None or not is_claim_half(item, stub) or stub.item_id != item.id:
            raise refused(StubMismatch(), forged=stub is None)
        if stub.generation != item.claim_generation or item.claim_state != "active":
            raise revoked_stub_presented(actor, item, stub.generation, now)
        method, expected_state = "stub", "active"
    else:
        by_identity = identity_pickup and item.kind in policy.NOTICE_KINDS
        if item.claim_state != "lost" and not by_identity:
            raise StubRequired()
        if collector is None:
            raise IdentityRequired()
        method, expected_state = "identity", item.claim_state

    released = {
        "status": "released", "released_at": now.astimezone(UTC), "released_by_id": actor.user_id, "released_by_name": actor.name,
        "release_method": method, "collector_name": collector.name if collector else item.owner_name,
        "collector_id_type": collector.id_type if collector else None,
        "collector_id_last4": collector.id_last4 if collector else None,
        "collector_signature": signature, "next_notify_at": None,
    }
    won = session.execute(
        update(Item)
        .where(Item.id == item.id, Item.status == "held",
               Item.claim_generation == item.claim_generation, Item.claim_state == expected_state)
        .values(**released)
        .returning(Item.id)
        .execution_options(synchronize_session=False)
    ).first()
    if won is not None:
        # The row is now exactly what we read plus what we wrote: no need to read it back.
        for name, value in released.items():
            set_committed_value(item, name, value)
    else:
        # Someone else got there first: released it, or revoked the stub meanwhile.
        session.refresh(item)
        if item.status == "released":
            raise refused(AlreadyReleased(ticket_no=item.ticket_no))
        if item.status != "held":
            raise NotHeld(ticket_no=item.ticket_no, state=item.status)
        if method == "stub":
            raise revoked_stub_presented(actor, item, item.claim_generation - 1, now)
        raise Conflict(code="item_changed")
    _record_release(session, actor, item, method, collector is None, signature, now)
    return item


def _record_release(session: Session, actor: Actor, item: Item, method: str, by_depositor: bool,
                    signature: str | None, now: datetime) -> None:
    """The trail's row of a release, as the item now holds it (either way of releasing)."""
    audit.append(session, "release", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "method": method, "collector_is_depositor": by_depositor,
        "collector_name": item.collector_name, "collector_id_type": item.collector_id_type,
        "collector_id_last4": item.collector_id_last4,
        **({"signature": signature} if signature else {}),
    })


@lru_cache(maxsize=2)
def _release_statement(pickup: bool) -> Direct:
    """Hand out a held item whose claim half is of this kind and generation, in one statement that
    answers with the row: the owner collects, so the collector is the owner."""
    table = Item.__table__
    c = table.c
    # Spelled out rather than IN (…): an IN list is an "expanding" parameter, its SQL rebuilt at
    # every execution.
    kinds = or_(*(c.kind == kind for kind in policy.NOTICE_KINDS)) if pickup \
        else and_(*(c.kind != kind for kind in policy.NOTICE_KINDS))
    return Direct(
        update(table)
        .where(c.id == bindparam("item_id"), c.status == "held", c.claim_generation == bindparam("generation"),
               c.claim_state == "active", kinds)
        .values(status="released", released_at=bindparam("now"), released_by_id=bindparam("by_id"),
                released_by_name=bindparam("by_name"), release_method="stub", collector_name=c.owner_name,
                collector_id_type=None, collector_id_last4=None, collector_signature=bindparam("signature"),
                next_notify_at=None)
        .returning(*table.c)
    )


def _release_by_both_halves(session: Session, desk: Desk, actor: Actor, item_id: int, tag_code: str | None,
                            stub_code: str | None, signature: str | None, now: datetime) -> Item | None:
    """The common release, its tag and its stub both authentic and current, in one conditional
    UPDATE … RETURNING and the audit row: nothing read first. None when anything is not as the
    common case has it; the caller then reads the item and says exactly what is wrong."""
    if not (tag_code and stub_code):
        return None
    try:
        tag, stub = codes.parse(tag_code), codes.parse(stub_code)
    except MalformedCode:
        return None
    if tag.role != codes.TAG or tag.item_id != item_id or stub.item_id != item_id \
            or stub.role not in (codes.STUB, codes.PICKUP) \
            or not (codes.authentic(desk.code_key, tag) and codes.authentic(desk.code_key, stub)):
        return None
    row = _release_statement(stub.role == codes.PICKUP).first(session, {
        "item_id": item_id, "generation": stub.generation, "now": now.astimezone(UTC), "by_id": actor.user_id,
        "by_name": actor.name, "signature": signature})
    if row is None:
        return None
    item = adopt(session, Item, row)
    _record_release(session, actor, item, "stub", True, signature, now)
    return item


def revoked_stub_presented(actor: Actor, item: Item, generation: int, now: datetime) -> StubRevoked:
    """DOMAIN: someone shows a stub reported lost — keep them there and alert security."""
    return refuse(StubRevoked(), "release_refused", actor, item_id=item.id, now=now,
                  details={"ticket_no": item.ticket_no, "generation": generation, "at": "release"},
                  alert="revoked_stub_presented")


def move(session: Session, actor: Actor, item_id: int, location: str, detail: str | None = None,
         now: datetime | None = None) -> Item:
    now = now or datetime.now(UTC)
    if location not in policy.LOCATIONS:
        raise InvalidInput(code="invalid_location", field="location", choices=policy.LOCATIONS)
    item = get_item(session, item_id, lock=True)
    policy.check_key_location(item.kind, location)
    check_held(item)
    before = item.location
    item.location, item.location_detail = location, detail
    audit.append(session, "move", actor, item_id=item.id, now=now,
                 details={"ticket_no": item.ticket_no, "from": before, "to": location, "detail": detail})
    return item


def list_items(session: Session, *, status: str | None = "held", kind: str | None = None,
               unit: str | None = None, overdue_at: datetime | None = None, limit: int = 50,
               before_id: int | None = None) -> tuple[list[Item], int | None]:
    """Newest first, keyset-paginated: pass the returned cursor as ``before_id``."""
    query = select(Item)
    if status is not None:
        query = query.where(Item.status == status)
    if kind is not None:
        query = query.where(Item.kind == kind)
    if unit is not None:
        query = query.where(Item.owner_unit == unit)
    if overdue_at is not None:
        query = query.where(Item.expected_pickup_at < overdue_at)
    if before_id is not None:
        query = query.where(Item.id < before_id)
    rows = list(session.scalars(query.order_by(Item.id.desc()).limit(limit + 1)))
    cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], cursor


def search(session: Session, desk: Desk, text: str, limit: int = 50) -> list[Item]:
    """Items by ticket number, owner's unit or name (any status), or by one of their scanned codes; newest first."""
    text = text.strip()
    if not text:
        return []
    try:
        code = codes.parse(text)
    except MalformedCode:
        code = None
    if code is not None:
        item = session.get(Item, code.item_id) if codes.authentic(desk.code_key, code) else None
        return [item] if item is not None else []
    query = select(Item).where(or_(Item.ticket_no == text.upper(), Item.owner_unit == text, Item.owner_name == text))
    return list(session.scalars(query.order_by(Item.id.desc()).limit(limit)))


def by_ticket(session: Session, desk: Desk, ticket_no: str) -> Item | None:
    """This site's item with the ticket number written on both halves (typed when the stub is lost)."""
    return session.scalars(select(Item).where(Item.site == desk.site,
                                              Item.ticket_no == ticket_no.strip().upper())).first()


def find_items(session: Session, *, ticket_no: str | None = None, unit: str | None = None,
               limit: int = 20) -> list[Item]:
    """What staff look up: the item with this ticket number, or the items a unit has at the desk
    (held, newest first). Not a way to walk the register."""
    if ticket_no is not None:
        return list(session.scalars(select(Item).where(Item.ticket_no == ticket_no.strip().upper())))
    return list(session.scalars(select(Item).where(Item.owner_unit == unit.strip(), Item.status == "held")
                                .order_by(Item.id.desc()).limit(limit)))
