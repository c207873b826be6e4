"""The outbox for staff: messages not yet sent, failed or in doubt; settling one."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from kiosk import outbox, policy

from .. import db
from ..schema import Body, Choice, Query, Text
from . import operation
from .answers import NotificationView, notification_view
from .items import BAD_JSON, NOT_FOUND, SHAPE
from .mail import NotificationList


class NotificationsQuery(Query):
    state: Literal[("open", "all") + outbox.STATES] = "open"
    limit: Annotated[int, Field(ge=1, le=500)] = 100


@operation("GET", "/notifications", summary="Owner notifications: open (unsent, failed, in doubt), or by state",
           permission="notifications", query=NotificationsQuery, answers={200: NotificationList},
           tag="notifications", errors={422: ("invalid_query",)})
def list_notifications(actor, query: NotificationsQuery):
    rows = outbox.list_messages(db.session(), state=query.state, limit=query.limit)
    return NotificationList(notifications=[notification_view(m) for m in rows])


class ReviewRequest(Body):
    outcome: Choice(outbox.REVIEW_OUTCOMES)
    note: Text(policy.TEXT_LIMITS["note"], multiline=True, required=False) = ""


@operation("POST", "/notifications/<id:message_id>/review",
           summary="Settle a message in doubt or failed: delivered, or resend under the same key",
           permission="notifications", body=ReviewRequest, answers={200: NotificationView}, tag="notifications",
           errors={**BAD_JSON, **NOT_FOUND, 409: ("notification_not_reviewable",), 422: SHAPE + ("invalid_choice",)})
def review(actor, message_id, body: ReviewRequest):
    return notification_view(outbox.review(db.session(), actor, message_id, body.outcome, body.note))
