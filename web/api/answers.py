"""Answer shapes shared by several areas: items, print jobs, events, alerts.

Each is built from the ledger's rows here and nowhere else, and shows no more
personal data than the asking role needs (DOMAIN: personal information).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import PlainSerializer

from kiosk import accounts, mail, overdue, policy, printjobs
from kiosk.models import Alert, AuditEvent, Item, Notification, PrintJob
from kiosk.privacy import mask_email, mask_name, mask_phone

from ..schema import Answer

# ISO 8601 with the offset written out (+00:00), as the API has always answered.
Time = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]

FULL_CONTACT_ROLES = frozenset({"staff", "supervisor", "admin"})


class OwnerSummary(Answer):
    unit: str
    name: str


# held; lent (a key out on loan); released; returned (a letter given back to the post office);
# disposed of; handed to lost-and-found (kiosk/unclaimed.py).
ItemStatus = Literal[policy.ITEM_STATUSES]


class ItemSummary(Answer):
    """What a lobby screen may show about an item: nothing that names or reaches the owner."""

    ticket_no: str
    kind: str
    status: ItemStatus
    owner: OwnerSummary
    deposited_at: Time


class Owner(Answer):
    unit: str
    name: str
    phone_masked: str
    phone: str | None = None
    email_masked: str | None = None


class Consent(Answer):
    given_by: str
    channel: str


class Undeliverable(Answer):
    at: Time
    reason: str
    return_by: Time


class DesignatedCollector(Answer):
    name: str
    phone_masked: str


class Collector(Answer):
    name: str | None
    id_type: str | None
    id_last4: str | None


class Release(Answer):
    at: Time | None
    by: str | None
    method: str | None
    collector: Collector
    signature: str | None = None


class PolicyView(Answer):
    """Where the item stands by the desk's rules (kiosk/overdue.py); ``status`` is null once it left."""

    status: Literal[overdue.STATUSES] | None
    overdue: bool
    since: Time | None


class ItemView(Answer):
    id: int
    ticket_no: str
    kind: str
    # Keys only: unit_key, shop_key, resident_card or car_card.
    key_kind: str | None = None
    status: ItemStatus
    owner: Owner
    description: str
    size: str
    declared: list[str]
    disclaimer_acknowledged: bool
    expected_pickup_at: Time | None
    designated_collector: DesignatedCollector | None
    carrier: str | None
    urgent: bool
    location: str
    location_detail: str | None
    suggested_location: str
    staff: str
    deposited_at: Time
    claim_state: Literal["active", "lost"]
    release: Release | None = None
    # Keys: the owner's signed consent, and whether the unit is handed over (its spare key is
    # then lent only with the owner's consent). Mail: a courier parcel's consent.
    consent: Consent | None = None
    key_handed_over: bool | None = None
    # Mail and parcels.
    mail_class: str | None = None
    perishable: bool | None = None
    next_notice_at: Time | None = None
    undeliverable: Undeliverable | None = None
    # In the supervisor's lists: where the item stands by the desk's rules.
    policy: PolicyView | None = None


def policy_view(listed: overdue.Listed) -> PolicyView:
    return PolicyView(status=listed.status, overdue=listed.status in overdue.OVERDUE,
                      since=listed.since if listed.status else None)


def item_summary(item: Item) -> ItemSummary:
    return ItemSummary(ticket_no=item.ticket_no, kind=item.kind, status=item.status,
                       owner=OwnerSummary(unit=item.owner_unit, name=mask_name(item.owner_name)),
                       deposited_at=item.deposited_at)


def item_view(item: Item, role: str, *, full_contact: bool = False,
              standing: overdue.Listed | None = None) -> ItemView | ItemSummary:
    if role == accounts.KIOSK:
        return item_summary(item)
    contact = {"email_masked": mask_email(item.owner_email)} if item.owner_email else {}
    if full_contact and role in FULL_CONTACT_ROLES:
        contact["phone"] = item.owner_phone
    owner = Owner(unit=item.owner_unit, name=item.owner_name, phone_masked=mask_phone(item.owner_phone), **contact)
    view = dict(
        id=item.id, ticket_no=item.ticket_no, kind=item.kind, status=item.status, owner=owner,
        description=item.description, size=item.size, declared=[d for d in item.declared.split(",") if d],
        disclaimer_acknowledged=item.disclaimer_acknowledged, expected_pickup_at=item.expected_pickup_at,
        designated_collector=(DesignatedCollector(name=item.designated_name,
                                                  phone_masked=mask_phone(item.designated_phone))
                              if item.designated_name else None),
        carrier=item.carrier, urgent=item.urgent, location=item.location, location_detail=item.location_detail,
        suggested_location=item.suggested_location, staff=item.staff_name, deposited_at=item.deposited_at,
        claim_state=item.claim_state,
    )
    if standing is not None:
        view["policy"] = policy_view(standing)
    if item.status not in policy.CUSTODY:
        # Handed out, returned to the post office (collector: the post worker), disposed of, lost-and-found.
        view["release"] = Release(at=item.released_at, by=item.released_by_name, method=item.release_method,
                                  collector=Collector(name=item.collector_name, id_type=item.collector_id_type,
                                                      id_last4=item.collector_id_last4),
                                  **({"signature": item.collector_signature} if item.collector_signature else {}))
    view.update(_key_and_mail_fields(item))
    return ItemView(**view)


def _key_and_mail_fields(item: Item) -> dict:
    """The fields only keys, or only mail and parcels, have: left out for everything else."""
    fields: dict = {}
    if item.consent_by:
        fields["consent"] = Consent(given_by=item.consent_by, channel=item.consent_channel)
    if item.kind == "key":
        fields["key_handed_over"] = bool(item.key_handed_over)
        fields["key_kind"] = item.key_kind
    if item.kind in ("parcel", "mail"):
        fields.update(mail_class=item.mail_class, perishable=bool(item.perishable), next_notice_at=item.next_notify_at)
        if item.undeliverable_at is not None:
            fields["undeliverable"] = Undeliverable(at=item.undeliverable_at, reason=item.undeliverable_reason,
                                                    return_by=item.undeliverable_at + mail.RETURN_WITHIN)
    return fields


class ErrorRef(Answer):
    code: str
    message: str


class PrintJobView(Answer):
    id: int
    item_id: int
    printer: str
    reprint: bool
    status: Literal[printjobs.STATES]
    stuck: bool
    attempts: int
    next_attempt_at: Time
    last_error: ErrorRef | None
    created_at: Time
    printed_at: Time | None


def print_job_view(job: PrintJob) -> PrintJobView:
    return PrintJobView(
        id=job.id, item_id=job.item_id, printer=job.printer, reprint=job.reprint, status=job.status,
        stuck=job.status == "queued" and job.attempts >= printjobs.STUCK_AFTER, attempts=job.attempts,
        next_attempt_at=job.next_attempt_at,
        last_error=ErrorRef(code=job.last_error_code, message=job.last_error or "") if job.last_error_code else None,
        created_at=job.created_at, printed_at=job.printed_at)


class EventView(Answer):
    seq: int
    at: Time
    event: str
    actor: str
    actor_role: str
    device: str | None
    details: dict
    hash: str


def event_view(event: AuditEvent) -> EventView:
    return EventView(seq=event.seq, at=event.at, event=event.event, actor=event.actor, actor_role=event.actor_role,
                     device=event.device, details=json.loads(event.details), hash=event.hash)


class AlertView(Answer):
    id: int
    kind: str
    item_id: int | None
    at: Time
    actor: str
    device: str | None
    details: dict
    resolved_at: Time | None
    resolved_by: str | None
    # A burst (wrong codes from one device): how many so far, and the latest.
    count: int | None = None
    last_at: Time | None = None


def alert_view(alert: Alert) -> AlertView:
    extra = {"count": alert.count, "last_at": alert.last_at} if alert.count is not None else {}
    return AlertView(id=alert.id, kind=alert.kind, item_id=alert.item_id, at=alert.at, actor=alert.actor,
                     device=alert.device, details=json.loads(alert.details), resolved_at=alert.resolved_at,
                     resolved_by=alert.resolved_by, **extra)


class AlertRef(Answer):
    id: int
    kind: str


class NotificationView(Answer):
    """One message to an owner and how it went: the log of notices shown on the item."""

    id: int
    item_id: int | None
    channel: Literal["email", "sms", "slip"]
    address_masked: str
    template: str
    locale: str
    attempt: int
    status: Literal["queued", "claimed", "sending", "sent", "failed", "in_doubt", "cancelled"]
    tries: int
    idempotency_key: str
    last_error: ErrorRef | None
    created_at: Time
    sent_at: Time | None
    reviewed_by: str | None


def _masked_address(message: Notification) -> str:
    if message.channel == "email":
        return mask_email(message.address)
    if message.channel == "sms":
        return mask_phone(message.address)
    return message.address  # a slip goes to a unit's mailbox


def notification_view(message: Notification) -> NotificationView:
    return NotificationView(
        id=message.id, item_id=message.item_id, channel=message.channel, address_masked=_masked_address(message),
        template=message.template, locale=message.locale, attempt=message.attempt, status=message.status,
        tries=message.tries, idempotency_key=message.idempotency_key,
        last_error=(ErrorRef(code=message.last_error_code, message=message.last_error or "")
                    if message.last_error_code else None),
        created_at=message.created_at, sent_at=message.sent_at, reviewed_by=message.reviewed_by)
