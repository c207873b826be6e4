"""Mail and parcels: taken in for residents, handed to them, or returned to the post office.

DOMAIN "Mail and parcels" and the desk's procedures (seed 003): register every
letter and parcel; a courier parcel for someone not living here is refused (the
courier takes it back); a non-postal courier's parcel (DHL, UPS, FedEx, any
courier not the state post) is signed for only with the owner's consent; the
owner is told at once, express items again and again (kiosk.notices); the
collector is identified by the pickup code or by ID, and signs; letters that
cannot be delivered go back to the post office within three days, signed for
by the post worker.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import audit, ledger, notices, outbox, policy, residents
from .errors import Conflict, ConsentRequired, InvalidInput, NotAResident
from .models import Item, Notification, Resident
from .refusals import refuse
from .values import Actor, Collector, DepositForm, Desk, MailForm, Person

# 快件 express, 挂号信 registered letter, 包裹单 parcel slip, 汇款单 remittance slip: urgent.
EXPRESS_CLASSES = ("express", "registered", "parcel_slip", "remittance_slip")
MAIL_CLASSES = ("ordinary",) + EXPRESS_CLASSES
# The state post office's services: taken in without asking the owner. Every other carrier
# is a private courier (the desk's procedure names DHL, FedEx and UPS).
POSTAL_CARRIERS = ("post", "ems", "registered", "中国邮政", "邮政", "china post")
UNDELIVERABLE_REASONS = ("not_a_resident", "moved_out", "refused_by_addressee", "unclaimed", "address_unclear")
RETURN_WITHIN = timedelta(days=3)


def is_postal(carrier: str) -> bool:
    return carrier.strip().casefold() in POSTAL_CARRIERS


@dataclass(frozen=True)
class Intake:
    deposit: ledger.Deposit
    notifications: list[Notification]
    resident: Resident | None

    @property
    def item(self) -> Item:
        return self.deposit.item


def _check(form: MailForm) -> MailForm:
    if form.kind not in policy.NOTICE_KINDS:
        raise InvalidInput(code="invalid_kind", field="kind", choices=sorted(policy.NOTICE_KINDS))
    if form.mail_class not in MAIL_CLASSES:
        raise InvalidInput(code="invalid_mail_class", field="mail_class", choices=MAIL_CLASSES)
    carrier = policy.required_text(form.carrier, "carrier", "carrier")
    unit = policy.required_text(form.unit, "unit", "unit")
    name = policy.required_text(form.name, "name", "name")
    consent = policy.check_consent(form.consent, "consent") if form.consent else None
    if form.return_to_post and not is_postal(carrier):
        raise InvalidInput(code="return_to_post_is_postal_only", field="return_to_post")
    return MailForm(kind=form.kind, unit=residents.unit_key(unit), name=" ".join(name.split()), carrier=carrier,
                    mail_class=form.mail_class, description=form.description, perishable=form.perishable,
                    consent=consent, return_to_post=form.return_to_post, shelf_slot=form.shelf_slot)


def intake(session: Session, desk: Desk, actor: Actor, form: MailForm, now: datetime | None = None) -> Intake:
    """Register a letter or parcel for a resident and queue the owner's notice (in this transaction).

    Not a resident: refused (422 ``not_a_resident``, recorded), unless a postal
    letter is registered for return to the post office (``return_to_post``).
    """
    now = now or datetime.now(UTC)
    form = _check(form)
    resident = residents.find(session, form.unit, form.name)
    postal = is_postal(form.carrier)
    if resident is None and not form.return_to_post:
        former = residents.former(session, form.unit, form.name) is not None
        raise refuse(NotAResident(unit=form.unit, former_resident=former, postal=postal), "refusal", actor,
                     now=now, details={"kind": form.kind, "unit": form.unit, "carrier": form.carrier})
    if resident is not None and not postal and form.consent is None and not resident.courier_consent:
        raise ConsentRequired(field="consent", carrier=form.carrier)

    owner = (Person(resident.unit, resident.name, resident.phone, resident.email) if resident
             else Person(form.unit, form.name, ""))
    result = ledger.deposit(session, desk, actor, DepositForm(
        kind=form.kind, owner=owner, description=form.description, carrier=form.carrier,
        urgent=form.mail_class in EXPRESS_CLASSES, mail_class=form.mail_class, perishable=form.perishable,
        consent=None if postal else form.consent, location_detail=form.shelf_slot,
    ), now=now)
    item = result.item
    if resident is None:
        item.undeliverable_at, item.undeliverable_reason = now, "not_a_resident"
        audit.append(session, "undeliverable", actor, item_id=item.id, now=now,
                     details={"ticket_no": item.ticket_no, "reason": "not_a_resident"})
        return Intake(result, [], None)
    messages = notices.start(session, item, desk.zone, now, locale=resident.locale)
    return Intake(result, messages, resident)


def _mail_item(session: Session, item_id: int, *, lock: bool = False) -> Item:
    item = ledger.get_item(session, item_id, lock=lock)
    if item.kind not in policy.NOTICE_KINDS:
        raise InvalidInput(code="not_mail", field="item_id")
    return item


def pickup(session: Session, desk: Desk, actor: Actor, item_id: int, *, tag_code: str, signature: str,
           pickup_code: str | None = None, collector: Collector | None = None,
           now: datetime | None = None) -> Item:
    """Hand a letter or parcel to its owner: staff scan the item's tag, and either the
    pickup code (from the notice or the message) or check the collector's ID. Without
    the code the collector must be the addressee or live in the same unit — a parcel
    is never handed to a neighbour. The collector types their name as their signature.
    """
    now = now or datetime.now(UTC)
    signature = " ".join(policy.required_text(signature, "signature", "name").split())
    item = _mail_item(session, item_id)
    if not pickup_code:
        if collector is None:
            raise InvalidInput(code="pickup_needs_code_or_id", field="collector")
        collector = policy.check_collector(collector)
        household = {residents.name_key(r.name) for r in residents.of_unit(session, item.owner_unit)}
        household.add(residents.name_key(item.owner_name))
        if residents.name_key(collector.name) not in household:
            raise refuse(InvalidInput(code="collector_not_of_unit", field="collector.name"), "release_refused",
                         actor, item_id=item.id, now=now, details={"ticket_no": item.ticket_no})
    return ledger.release(session, desk, actor, item_id, tag_code=tag_code, stub_code=pickup_code or None,
                          collector=collector, signature=signature, identity_pickup=not pickup_code, now=now)


def mark_undeliverable(session: Session, actor: Actor, item_id: int, reason: str,
                       now: datetime | None = None) -> Item:
    """A letter that will not reach its addressee (moved out, refused, unclaimed) joins the
    list for return to the post office; its notices stop."""
    now = now or datetime.now(UTC)
    if reason not in UNDELIVERABLE_REASONS:
        raise InvalidInput(code="invalid_choice", field="reason", choices=UNDELIVERABLE_REASONS)
    item = _mail_item(session, item_id, lock=True)
    ledger.check_held(item)
    if item.undeliverable_at is not None:
        raise Conflict(code="already_undeliverable", ticket_no=item.ticket_no)
    item.undeliverable_at, item.undeliverable_reason, item.next_notify_at = now, reason, None
    outbox.cancel_for_item(session, item.id, "undeliverable")
    audit.append(session, "undeliverable", actor, item_id=item.id, now=now,
                 details={"ticket_no": item.ticket_no, "reason": reason})
    return item


@dataclass(frozen=True)
class ToReturn:
    item: Item
    return_by: datetime
    late: bool


def for_return(session: Session, now: datetime | None = None, limit: int = 200) -> list[ToReturn]:
    """Letters waiting to go back to the post office, the most pressing first."""
    now = now or datetime.now(UTC)
    items = session.scalars(
        select(Item).where(Item.status == "held", Item.undeliverable_at.is_not(None))
        .order_by(Item.undeliverable_at, Item.id).limit(limit))
    return [ToReturn(item, item.undeliverable_at + RETURN_WITHIN, now > item.undeliverable_at + RETURN_WITHIN)
            for item in items]


def return_to_post(session: Session, actor: Actor, item_id: int, post_worker: str,
                   now: datetime | None = None) -> Item:
    """Hand an undeliverable letter back to the post office; the post worker's name is recorded."""
    now = now or datetime.now(UTC)
    post_worker = " ".join(policy.required_text(post_worker, "post_worker", "name").split())
    item = _mail_item(session, item_id, lock=True)
    ledger.check_held(item)
    if item.undeliverable_at is None:
        raise Conflict(code="not_undeliverable", ticket_no=item.ticket_no)
    session.execute(
        update(Item).where(Item.id == item.id, Item.status == "held")
        .values(status="returned", released_at=now, released_by_id=actor.user_id, released_by_name=actor.name,
                release_method="returned_to_post", collector_name=post_worker, collector_signature=post_worker,
                next_notify_at=None)
        .execution_options(synchronize_session=False))
    session.refresh(item)
    late = now > item.undeliverable_at + RETURN_WITHIN
    audit.append(session, "returned_to_post", actor, item_id=item.id, now=now, details={
        "ticket_no": item.ticket_no, "post_worker": post_worker, "reason": item.undeliverable_reason,
        "late": late})
    return item
