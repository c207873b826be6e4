"""Items: take in, list, read, hand out, report a lost stub, move, reprint, preview, history."""
from __future__ import annotations

from typing import Annotated, Literal

from flask import Response, current_app, request
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from kiosk import accounts, audit, claims, ledger, overdue, policy, printjobs
from kiosk.values import Collector, DepositForm, Person

from .. import db
from ..auth import desk, site_zone
from ..errors import ApiError
from ..labels import label_for, printer
from ..schema import (
    Answer,
    Body,
    Choice,
    Flag,
    Name,
    Pattern,
    Phone,
    Query,
    Text,
    Timestamp,
)
from ..security import now as clock
from . import operation
from .answers import (
    AlertRef,
    EventView,
    ItemView,
    PrintJobView,
    event_view,
    item_view,
    print_job_view,
)

LIMITS = policy.TEXT_LIMITS
NOT_FOUND = {404: ("not_found",)}
SHAPE = ("missing_field", "unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed")
BAD_JSON = {400: ("invalid_json",)}

# A scanned code as typed by a wedge scanner: the domain reads and records anything up to
# this length (a longer scan is refused before it reaches the ledger).
ScannedCode = Annotated[str, Field(strict=True, min_length=1, max_length=1024)]
PrinterName = Annotated[str, Field(strict=True, min_length=1, max_length=64)]


class OwnerIn(Body):
    unit: Text(LIMITS["unit"])
    name: Name()
    phone: Phone


class DesignatedCollectorIn(Body):
    name: Name()
    phone: Phone | None = None


class DepositRequest(Body):
    kind: Choice(policy.KINDS, "invalid_kind")
    owner: OwnerIn
    size: Choice(policy.SIZES, "invalid_size") = "small"
    description: Text(LIMITS["description"], multiline=True, required=False) = ""
    expected_pickup_at: Timestamp | None = None
    designated_collector: DesignatedCollectorIn | None = None
    location: Choice(policy.LOCATIONS, "invalid_location") | None = None
    location_detail: Text(LIMITS["location_detail"]) | None = None
    declared: Annotated[list[Choice(policy.DECLARABLE, "invalid_declaration")], "declared"] = []
    disclaimer_acknowledged: Flag = False
    carrier: Text(LIMITS["carrier"]) | None = None
    urgent: Flag = False
    key_kind: Choice(policy.KEY_KINDS, "invalid_key_kind") | None = None
    printer: PrinterName | None = None

    def form(self) -> DepositForm:
        designated = self.designated_collector
        return DepositForm(
            kind=self.kind, owner=Person(unit=self.owner.unit, name=self.owner.name, phone=self.owner.phone),
            size=self.size, description=self.description, expected_pickup_at=self.expected_pickup_at,
            designated_name=designated.name if designated else None,
            designated_phone=designated.phone if designated else None,
            location=self.location, location_detail=self.location_detail, declared=tuple(self.declared),
            disclaimer_acknowledged=self.disclaimer_acknowledged, carrier=self.carrier, urgent=self.urgent,
            key_kind=self.key_kind,
        )


class DepositAnswer(Answer):
    id: int
    ticket_no: str
    status: Literal["held"]
    kind: str
    tag_code: str
    stub_code: str | None = None
    pickup_code: str | None = None
    location: str
    suggested_location: str
    storeroom_suggested: bool
    item: ItemView
    print_job: PrintJobView


@operation("POST", "/items", summary="Take an item in (deposit)", permission="deposit", body=DepositRequest,
           answers={201: DepositAnswer}, errors={**BAD_JSON, 422: SHAPE + (
               "invalid_kind", "invalid_size", "invalid_time", "time_in_past", "invalid_phone", "invalid_location",
               "invalid_declaration", "refused_hazardous", "refused_valuables", "acknowledgement_required",
               "unknown_printer", "key_outside_cabinet", "invalid_key_kind", "kind_has_own_intake")})
def deposit(actor, body: DepositRequest):
    policy.check_plain_deposit(body.kind)
    target = printer(body.printer)
    session = db.session()
    result = ledger.deposit(session, desk(), actor, body.form())
    # Same transaction as the deposit: a label exists exactly when the deposit does.
    job = printjobs.enqueue(session, actor, result.item, target.name, target.url)
    return deposit_answer(DepositAnswer, result, job, actor.role)


def deposit_answer(model: type[DepositAnswer], result: ledger.Deposit, job, role: str, **extra):
    """The 201 answer of a deposit (of any kind): codes, where it goes, its label's print job."""
    item = result.item
    answer = model(
        id=item.id, ticket_no=item.ticket_no, status=item.status, kind=item.kind, tag_code=result.tag_code,
        **{f"{result.claim_role}_code": result.claim_code}, location=item.location,
        suggested_location=item.suggested_location, storeroom_suggested=item.suggested_location == "storeroom",
        item=item_view(item, role), print_job=print_job_view(job), **extra)
    return answer, 201, {"Location": f"/api/v1/items/{item.id}"}


def _cursor(value: str) -> str:
    """``ID`` (newest first) or ``RANK.SINCE.ID`` (by urgency), each a whole number in range."""
    parts = value.split(".")
    if len(parts) not in (1, 3) or not all(p.isdigit() and len(p) <= 19 and int(p) <= 2**63 - 1 for p in parts) \
            or int(parts[-1]) < 1:
        raise PydanticCustomError("invalid_cursor", "not a cursor this list gave")
    return value


Cursor = Annotated[str, Field(max_length=64), AfterValidator(_cursor)]


# Spelled out here: inside ItemsQuery the names ``policy`` and ``overdue`` are fields, not the modules.
StatusArg = Literal[(*overdue.STATUS_FILTERS, "all")]
KindArg = Literal[policy.KINDS]
LocationArg = Literal[policy.LOCATIONS]
PolicyArg = Literal[overdue.STATUSES]
OrderArg = Literal[overdue.ORDERS]


UnitArg = Annotated[str, Field(max_length=LIMITS["unit"])]


class ItemsQuery(Query):
    """The list's filters; the CSV takes the same."""

    status: StatusArg = "held"
    kind: KindArg | None = None
    unit: UnitArg | None = None
    location: LocationArg | None = None
    policy: PolicyArg | None = None
    overdue: Literal["true", "false"] = "false"
    order: OrderArg = "newest"
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Cursor | None = None

    def filters(self) -> overdue.Filters:
        return overdue.Filters(status=None if self.status == "all" else self.status, kind=self.kind, unit=self.unit,
                               location=self.location, policy=(self.policy,) if self.policy else (),
                               overdue=self.overdue == "true")


class ItemList(Answer):
    items: list[ItemView]
    next_cursor: str | None


@operation("GET", "/items", summary="List items with their policy status, newest or most urgent first "
                                    "(keyset pagination)", permission="list_items",
           query=ItemsQuery, answers={200: ItemList}, errors={422: ("invalid_query", "invalid_cursor")})
def list_items(actor, query: ItemsQuery):
    page = overdue.list_items(db.session(), query.filters(), now=clock(), tz=site_zone(),
                              order=query.order, limit=query.limit, after=query.cursor)
    return ItemList(items=[item_view(row.item, actor.role, standing=row) for row in page.rows],
                    next_cursor=page.next_cursor)


class LookupQuery(Query):
    ticket_no: Annotated[str, Field(min_length=1, max_length=24)] | None = None
    unit: Annotated[str, Field(min_length=1, max_length=LIMITS["unit"])] | None = None


class Found(Answer):
    items: list[ItemView]


@operation("GET", "/items/lookup", summary="Find items by ticket number, or the items a unit has at the desk",
           permission="find_item", query=LookupQuery, answers={200: Found}, limit="lookup",
           errors={422: ("invalid_query",)})
def lookup(actor, query: LookupQuery):
    """Staff find an item by what the person in front of them has: a ticket number, a unit (or a
    scan, POST /scans). Exactly one of ``ticket_no`` or ``unit``."""
    if (query.ticket_no is None) == (query.unit is None):
        raise ApiError(422, "invalid_query", field="ticket_no", choices=("ticket_no", "unit"))
    rows = ledger.find_items(db.session(), ticket_no=query.ticket_no, unit=query.unit)
    return Found(items=[item_view(item, actor.role) for item in rows])


class ItemQuery(Query):
    reveal: Literal["phone"] | None = None


@operation("GET", "/items/<id:item_id>", summary="One item; ?reveal=phone shows the owner's full phone (audited)",
           permission="read_item", query=ItemQuery, answers={200: ItemView}, errors=NOT_FOUND, limit="read_item",
           writes=lambda: "reveal" in request.args)
def get_item(actor, item_id, query: ItemQuery):
    session = db.session()
    item = ledger.get_item(session, item_id)
    if query.reveal is None:
        return item_view(item, actor.role)
    if not accounts.may(actor.role, "reveal_phone"):
        raise ApiError(403, "forbidden", role=actor.role, action="reveal_phone")
    # Seeing a full phone number is itself a trace in the trail (DOMAIN: personal data).
    audit.append(session, "reveal", actor, item_id=item.id, details={"ticket_no": item.ticket_no,
                                                                     "field": "owner.phone"})
    return item_view(item, actor.role, full_contact=True)


class CollectorIn(Body):
    name: Name()
    id_type: Choice(policy.ID_TYPES, "invalid_id_type")
    id_last4: Pattern("[0-9A-Za-z]{4}", "invalid_id_last4", 4, too_long=False)
    phone: Phone | None = None


class ReleaseRequest(Body):
    tag_code: ScannedCode
    stub_code: ScannedCode | None = None
    pickup_code: ScannedCode | None = None
    collector: CollectorIn | None = None


@operation("POST", "/items/<id:item_id>/release", summary="Hand an item out when tag and stub match",
           permission="release", body=ReleaseRequest, answers={200: ItemView}, errors={
               400: ("invalid_json", "malformed_code", "code_too_long"),
               403: ("stub_revoked",), **NOT_FOUND,
               409: ("tag_mismatch", "stub_mismatch", "already_released", "item_changed", "item_not_held"),
               422: SHAPE + ("stub_required", "identity_required", "invalid_id_type", "invalid_id_last4",
                             "invalid_phone")})
def release(actor, item_id, body: ReleaseRequest):
    collector = body.collector
    item = ledger.release(db.session(), desk(), actor, item_id, tag_code=body.tag_code,
                          stub_code=body.stub_code or body.pickup_code,
                          collector=Collector(name=collector.name, id_type=collector.id_type,
                                              id_last4=collector.id_last4, phone=collector.phone)
                          if collector else None)
    return item_view(item, actor.role)


class LostStubRequest(Body):
    unit: Text(LIMITS["unit"])
    name: Name()
    reissue: Flag = False


class LostStubAnswer(Answer):
    item: ItemView
    claim_state: Literal["active", "lost"]
    already_released: bool
    stub_code: str | None = None
    pickup_code: str | None = None
    alert: AlertRef | None = None


@operation("POST", "/items/<id:item_id>/lost-stub", summary="Report the stub lost; optionally issue a new one",
           permission="report_lost", body=LostStubRequest, answers={200: LostStubAnswer},
           errors={**BAD_JSON, **NOT_FOUND, 422: SHAPE + ("owner_mismatch",)})
def lost_stub(actor, item_id, body: LostStubRequest):
    report = claims.report_lost_stub(db.session(), desk(), actor, item_id, unit=body.unit, name=body.name,
                                     reissue=body.reissue)
    extra = {}
    if report.new_claim_code:
        extra[f"{ledger.claim_role(report.item)}_code"] = report.new_claim_code
    if report.alert:
        extra["alert"] = AlertRef(id=report.alert.id, kind=report.alert.kind)
    return LostStubAnswer(item=item_view(report.item, actor.role), claim_state=report.item.claim_state,
                          already_released=report.item.status == "released", **extra)


class MoveRequest(Body):
    location: Choice(policy.LOCATIONS, "invalid_location")
    location_detail: Text(LIMITS["location_detail"]) | None = None


@operation("POST", "/items/<id:item_id>/move", summary="Move an item to another storage place", permission="move",
           body=MoveRequest, answers={200: ItemView},
           errors={**BAD_JSON, **NOT_FOUND, 409: ("already_released", "item_not_held"),
                   422: SHAPE + ("invalid_location", "key_outside_cabinet")})
def move(actor, item_id, body: MoveRequest):
    return item_view(ledger.move(db.session(), actor, item_id, body.location, body.location_detail), actor.role)


class ReprintRequest(Body):
    # Why the label is printed again (torn, wet, lost tag): recorded with the reprint.
    reason: Text(LIMITS["reason"])
    printer: PrinterName | None = None


@operation("POST", "/items/<id:item_id>/reprint", summary="Queue a reprint of the label, marked REPRINT, with a reason",
           permission="print", body=ReprintRequest, answers={202: PrintJobView}, tag="printing",
           errors={**BAD_JSON, **NOT_FOUND, 409: ("already_released", "item_not_held"),
                   422: SHAPE + ("unknown_printer",)})
def reprint(actor, item_id, body: ReprintRequest):
    target = printer(body.printer)
    session = db.session()
    item = ledger.get_item(session, item_id, lock=True)
    return print_job_view(printjobs.enqueue(session, actor, item, target.name, target.url, reprint=True,
                                            reason=body.reason)), 202


class LabelQuery(Query):
    printer: PrinterName | None = None


@operation("GET", "/items/<id:item_id>/label.png",
           summary="Preview of the label as it prints, with the claim code left out (audited)",
           permission="print", query=LabelQuery, answers={200: "image/png"}, tag="printing", limit="label",
           errors={**NOT_FOUND, 422: ("unknown_printer", "invalid_query")}, writes=True)
def label_png(actor, item_id, query: LabelQuery):
    """The stub's (or pickup notice's) code is on paper only: a screen that showed it would hand
    whoever sees it the owner's proof of collection. Every view is in the audit trail."""
    import printing

    session = db.session()
    item = ledger.get_item(session, item_id)
    label = label_for(item, desk(), reprint=False, timezone=current_app.config["TIMEZONE"])
    profile = printing.parse_printer_url(printer(query.printer).url).profile
    audit.append(session, "label_view", actor, item_id=item.id, details={"ticket_no": item.ticket_no,
                                                                         "claim_code": "redacted"})
    return Response(printing.preview_png(label, profile, redact_claim=True), mimetype="image/png",
                    headers={"Cache-Control": "no-store"})


class EventList(Answer):
    events: list[EventView]


@operation("GET", "/items/<id:item_id>/events", summary="The item's audit trail", permission="read_events",
           answers={200: EventList}, errors=NOT_FOUND)
def events(actor, item_id):
    session = db.session()
    ledger.get_item(session, item_id)
    return EventList(events=[event_view(e) for e in audit.events_for(session, item_id)])
