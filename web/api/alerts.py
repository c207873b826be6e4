"""Security: alerts and the audit chain's verdict."""
from __future__ import annotations

from typing import Annotated, Literal

from flask import current_app
from pydantic import Field

from kiosk import alerts, anchors, audit, policy

from .. import db
from ..sealer import anchor_path
from ..schema import Answer, Body, Query, Text
from . import operation
from .answers import AlertView, alert_view


class AlertsQuery(Query):
    state: Literal["open", "all"] = "open"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


class AlertList(Answer):
    alerts: list[AlertView]


@operation("GET", "/alerts", summary="Security alerts, newest first", permission="alerts", query=AlertsQuery,
           answers={200: AlertList}, tag="security", errors={422: ("invalid_query",)})
def list_alerts(actor, query: AlertsQuery):
    rows = alerts.list_alerts(db.session(), open_only=query.state == "open", limit=query.limit)
    return AlertList(alerts=[alert_view(a) for a in rows])


class ResolveRequest(Body):
    note: Text(policy.TEXT_LIMITS["note"], multiline=True, required=False) = ""


@operation("POST", "/alerts/<id:alert_id>/resolve", summary="Close an alert", permission="alerts",
           body=ResolveRequest, answers={200: AlertView}, tag="security", errors={
               400: ("invalid_json",), 404: ("not_found",), 409: ("alert_already_resolved",),
               422: ("unknown_field", "invalid_type", "too_long", "invalid_text", "id_number_not_allowed")})
def resolve_alert(actor, alert_id, body: ResolveRequest):
    return alert_view(alerts.resolve_alert(db.session(), actor, alert_id, body.note))


class Verdict(Answer):
    """``rows`` = ``sealed`` + ``unsealed``: rows the sealer has not chained yet (it does within
    ~100 ms) are checked and counted apart; ``anchors`` were compared with the chain."""

    ok: bool
    rows: int
    sealed: int
    unsealed: int
    anchors: int
    problems: list[str]


def check_trail(session) -> audit.Verdict:
    """The chain checked with this site's key against its anchor file (the API and the security page)."""
    key = current_app.config["AUDIT_KEY"]
    return audit.verify(session, key, anchors=anchors.read(anchor_path(current_app), key))


@operation("GET", "/audit/verify", summary="Check the audit chain end to end, and against its anchors",
           permission="audit", answers={200: Verdict}, tag="security")
def audit_verify(actor):
    verdict = check_trail(db.session())
    return Verdict(ok=verdict.ok, rows=verdict.rows, sealed=verdict.sealed, unsealed=verdict.unsealed,
                   anchors=verdict.anchors, problems=list(verdict.problems))
