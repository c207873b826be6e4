"""Health checks for load balancers and monitoring."""
from __future__ import annotations

from typing import Literal

from kiosk import audit, printjobs

from .. import db
from ..schema import Answer
from . import operation


class Live(Answer):
    status: Literal["ok"]


@operation("GET", "/health/live", summary="The process answers (touches nothing else)", permission=None,
           answers={200: Live}, tag="meta")
def live(actor):
    return Live(status="ok")


class PrintQueue(Answer):
    queued: int
    sending: int
    failed: int
    in_doubt: int
    stuck: int
    oldest_waiting_seconds: int | None


class Chain(Answer):
    """The sealed chain's head: its last seal's position and hash."""

    head_seq: int
    head_hash: str


class Health(Answer):
    status: Literal["ok", "degraded"]
    database: Literal["ok"]
    print_queue: PrintQueue
    audit: Chain


@operation("GET", "/health", summary="Ready to serve: the database answers; print queue and audit chain state",
           permission=None, answers={200: Health}, tag="meta", errors={503: ("unavailable",)})
def health(actor):
    """503 ``unavailable`` when the database does not answer, so a load balancer takes this
    server out of rotation; ``degraded`` when labels are failing, stuck or in doubt."""
    session = db.session()
    queue = printjobs.queue_state(session)
    seq, digest = audit.head(session)
    status = "degraded" if queue["failed"] or queue["stuck"] or queue["in_doubt"] else "ok"
    return Health(status=status, database="ok", print_queue=PrintQueue(**queue),
                  audit=Chain(head_seq=seq, head_hash=digest))
