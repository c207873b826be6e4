"""Scans: what a code is and what happens next, typed by a wedge scanner or read from a picture."""
from __future__ import annotations

from typing import Annotated, Literal

from flask import request
from pydantic import Field

from kiosk import accounts, claims
from kiosk.db import unit_of_work
from kiosk.errors import KioskError

from .. import db
from ..auth import desk
from ..errors import ApiError
from ..limits import client_address
from ..messages import message
from .. import uploads
from ..schema import Answer, Body, Query
from . import operation
from .answers import AlertRef, ErrorRef, ItemSummary, ItemView, item_summary, item_view

Next = Literal["present_at_desk", "scan_claim", "none", "wait_for_staff"]


class ScanRequest(Body):
    # Anything a scanner may type; the ledger reads it and records a digest of what it was.
    code: Annotated[str, Field(strict=True, max_length=1024)]


class ScanAnswer(Answer):
    role: Literal["tag", "stub", "pickup"] | None = None
    next: Next
    message: str
    item: ItemView | ItemSummary | None = None
    alert: AlertRef | None = None


def scan_fields(actor, outcome: claims.ScanOutcome) -> dict:
    """What a scan's answer says, but its sentence. The kiosk's live event carries this (each page
    words it in its own language), so it is made without looking up a sentence it would drop."""
    fields = {"next": outcome.next}
    kiosk = actor.role == accounts.KIOSK
    if outcome.next == claims.NEXT_WAIT_FOR_STAFF:
        # The lobby screen learns nothing; staff learn why and that security was called.
        if kiosk:
            return fields
        fields["alert"] = AlertRef(id=outcome.alert.id, kind=outcome.alert.kind)
    fields["role"] = outcome.role
    fields["item"] = item_summary(outcome.item) if kiosk else item_view(outcome.item, actor.role)
    return fields


def scan_answer(actor, outcome: claims.ScanOutcome) -> ScanAnswer:
    return ScanAnswer(message=message(f"next.{outcome.next}"), **scan_fields(actor, outcome))


@operation("POST", "/scans", summary="Say what a scanned code is and what happens next", permission="scan",
           body=ScanRequest, answers={200: ScanAnswer}, tag="scans", limit="scan", errors={
               400: ("malformed_code", "code_too_long", "invalid_json"),
               404: ("unknown_code",),
               422: ("missing_field", "unknown_field", "invalid_type", "too_long")})
def scan(actor, body: ScanRequest):
    return scan_answer(actor, claims.scan(db.session(), desk(), actor, body.code, source=client_address()))


class DecodeQuery(Query):
    scan: Literal["true", "false"] = "false"


class DecodedCode(Answer):
    text: str
    points: list[list[float]]
    decoder: str


class DecodeScan(Answer):
    code: str
    role: Literal["tag", "stub", "pickup"] | None = None
    next: Next | None = None
    message: str | None = None
    item: ItemView | ItemSummary | None = None
    alert: AlertRef | None = None
    error: ErrorRef | None = None


class DecodeAnswer(Answer):
    codes: list[DecodedCode]
    scans: list[DecodeScan] | None = None


def _uploaded_image() -> bytes:
    if request.files:
        upload = request.files.get("image")
        if upload is None:
            raise ApiError(400, "missing_image", field="image")
        return upload.read()
    if request.mimetype.startswith("image/"):
        return request.get_data()
    raise ApiError(415, "unsupported_media_type")


IMAGE_BODY = {
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "image": {"type": "string", "format": "binary"}}}},
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
    "image/png": {"schema": {"type": "string", "format": "binary"}},
}


@operation("POST", "/decode", summary="Read the QR codes in a camera frame or phone photo; with scan=true scan them",
           permission="scan", query=DecodeQuery, answers={200: DecodeAnswer}, tag="scans", limit="decode",
           request_media=IMAGE_BODY, own_transactions=True, errors={
               400: ("missing_image",), 413: ("payload_too_large", "image_too_large"),
               415: ("unsupported_media_type",), 422: ("invalid_image", "invalid_query"), 503: ("busy",)})
def decode(actor, query: DecodeQuery):
    """No transaction is open while the picture is decoded; each code found is then scanned
    in a unit of work of its own, so a forged one is recorded without undoing the others.

    Pictures over 12 MP are refused from their header (JPEGs are decoded reduced instead);
    pictures are decoded in decoding processes of their own, a few at a time: beyond that,
    ``503 busy`` with Retry-After (web/uploads.py)."""
    read = uploads.read(_uploaded_image(), budget_ms=800.0)
    if "error" in read:
        raise ApiError(413 if read["error"] == "image_too_large" else 422, read["error"])
    found = [DecodedCode(text=text, points=points, decoder=decoder) for text, points, decoder in read["codes"]]
    answer = {"codes": found}
    if query.scan == "true":
        session, scans = db.session(), []
        for c in found:
            try:
                with unit_of_work(session):
                    scanned = scan_answer(actor, claims.scan(session, desk(), actor, c.text,
                                                             source=client_address()))
                scans.append(DecodeScan(code=c.text, **{k: getattr(scanned, k) for k in scanned.model_fields_set}))
            except KioskError as error:
                if error.record is None:
                    raise
                scans.append(DecodeScan(code=c.text, error=ErrorRef(code=error.code,
                                                                    message=message(error.code, **error.params))))
        answer["scans"] = scans
    return DecodeAnswer(**answer)
