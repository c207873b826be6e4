"""Mail and parcels: intake for residents, pickup with a signature, return to the post office;
the notices sent about an item."""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from kiosk import ledger, mail, outbox, policy, printjobs
from kiosk.values import Collector, MailForm

from .. import db
from ..auth import desk
from ..labels import printer
from ..schema import Answer, Body, Choice, Flag, Name, Query, Text
from . import operation
from .answers import ItemView, NotificationView, Time, item_view, notification_view
from .items import BAD_JSON, NOT_FOUND, SHAPE, CollectorIn, DepositAnswer, PrinterName, ScannedCode, deposit_answer
from .keys import ConsentIn

LIMITS = policy.TEXT_LIMITS


class RecipientIn(Body):
    unit: Text(LIMITS["unit"])
    name: Name()


class MailIntakeRequest(Body):
    kind: Choice(tuple(sorted(policy.NOTICE_KINDS)), "invalid_kind")
    recipient: RecipientIn
    carrier: Text(LIMITS["carrier"])
    mail_class: Choice(mail.MAIL_CLASSES, "invalid_mail_class") = "ordinary"
    description: Text(LIMITS["description"], multiline=True, required=False) = ""
    perishable: Flag = False
    consent: ConsentIn | None = None
    return_to_post: Flag = False
    shelf_slot: Text(LIMITS["slot"]) | None = None
    printer: PrinterName | None = None


class MailIntakeAnswer(DepositAnswer):
    notifications: list[NotificationView]


@operation("POST", "/mail", summary="Register a letter or parcel for a resident; the owner is notified",
           permission="mail", body=MailIntakeRequest, answers={201: MailIntakeAnswer}, tag="mail",
           errors={**BAD_JSON, 422: SHAPE + (
               "invalid_kind", "invalid_mail_class", "invalid_consent_channel", "not_a_resident",
               "owner_consent_required", "return_to_post_is_postal_only", "unknown_printer")})
def intake(actor, body: MailIntakeRequest):
    target = printer(body.printer)
    session = db.session()
    result = mail.intake(session, desk(), actor, MailForm(
        kind=body.kind, unit=body.recipient.unit, name=body.recipient.name, carrier=body.carrier,
        mail_class=body.mail_class, description=body.description, perishable=body.perishable,
        consent=body.consent.value() if body.consent else None, return_to_post=body.return_to_post,
        shelf_slot=body.shelf_slot))
    # The tag for the parcel and the pickup notice (《邮件接收通知单》) for the mailbox; a letter
    # going back to the post office gets its tag only.
    job = printjobs.enqueue(session, actor, result.item, target.name, target.url,
                            part="tag" if result.resident is None else None)
    return deposit_answer(MailIntakeAnswer, result.deposit, job, actor.role,
                          notifications=[notification_view(m) for m in result.notifications])


class PickupRequest(Body):
    tag_code: ScannedCode
    pickup_code: ScannedCode | None = None
    collector: CollectorIn | None = None
    # The collector types their own name at the desk: their signature in the register.
    signature: Name()


@operation("POST", "/mail/<id:item_id>/pickup",
           summary="Hand a letter or parcel out: its tag, and the pickup code or the collector's ID; signed",
           permission="release", body=PickupRequest, answers={200: ItemView}, tag="mail", errors={
               400: ("invalid_json", "malformed_code", "code_too_long"), 403: ("stub_revoked",), **NOT_FOUND,
               409: ("tag_mismatch", "stub_mismatch", "already_released", "item_changed", "item_not_held"),
               422: SHAPE + ("not_mail", "pickup_needs_code_or_id", "collector_not_of_unit", "invalid_id_type",
                             "invalid_id_last4", "invalid_phone")})
def pickup(actor, item_id, body: PickupRequest):
    who = body.collector
    item = mail.pickup(db.session(), desk(), actor, item_id, tag_code=body.tag_code, signature=body.signature,
                       pickup_code=body.pickup_code,
                       collector=Collector(name=who.name, id_type=who.id_type, id_last4=who.id_last4,
                                           phone=who.phone) if who else None)
    return item_view(item, actor.role)


class UndeliverableRequest(Body):
    reason: Choice(mail.UNDELIVERABLE_REASONS)


@operation("POST", "/mail/<id:item_id>/undeliverable", summary="Put a letter on the list for return to the post",
           permission="mail", body=UndeliverableRequest, answers={200: ItemView}, tag="mail",
           errors={**BAD_JSON, **NOT_FOUND, 409: ("already_released", "item_not_held", "already_undeliverable"),
                   422: SHAPE + ("invalid_choice", "not_mail")})
def undeliverable(actor, item_id, body: UndeliverableRequest):
    return item_view(mail.mark_undeliverable(db.session(), actor, item_id, body.reason), actor.role)


class ReturnsQuery(Query):
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class ToReturn(Answer):
    item: ItemView
    return_by: Time
    late: bool


class ReturnList(Answer):
    letters: list[ToReturn]


@operation("GET", "/mail/returns", summary="Letters to take back to the post office (within 3 days)",
           permission="mail", query=ReturnsQuery, answers={200: ReturnList}, tag="mail",
           errors={422: ("invalid_query",)})
def returns(actor, query: ReturnsQuery):
    rows = mail.for_return(db.session(), limit=query.limit)
    return ReturnList(letters=[ToReturn(item=item_view(r.item, actor.role), return_by=r.return_by, late=r.late)
                               for r in rows])


class ReturnToPostRequest(Body):
    post_worker: Name()


@operation("POST", "/mail/<id:item_id>/return-to-post",
           summary="Hand an undeliverable letter to the post worker, who is named", permission="mail",
           body=ReturnToPostRequest, answers={200: ItemView}, tag="mail",
           errors={**BAD_JSON, **NOT_FOUND, 409: ("already_released", "item_not_held", "not_undeliverable"),
                   422: SHAPE + ("not_mail",)})
def return_to_post(actor, item_id, body: ReturnToPostRequest):
    return item_view(mail.return_to_post(db.session(), actor, item_id, body.post_worker), actor.role)


class NotificationList(Answer):
    notifications: list[NotificationView]


@operation("GET", "/items/<id:item_id>/notifications", summary="Every notice about an item, attempt by attempt",
           permission="read_item", answers={200: NotificationList}, tag="mail", errors=NOT_FOUND)
def item_notifications(actor, item_id):
    session = db.session()
    ledger.get_item(session, item_id)
    return NotificationList(notifications=[notification_view(m) for m in outbox.for_item(session, item_id)])
