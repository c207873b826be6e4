"""The live event channel: what just happened in the ledger, pushed to the pages that may see it.

Events are read off the audit trail, so every path into the ledger (API, /decode,
`kiosk scan`, worker) feeds the channel without telling it, and nothing is announced
that was not committed:

* on PostgreSQL the audit sealer announces them (``announce``): each pass of the one
  sealer (web/sealer.py) describes the rows it chains and sends their events with
  ``NOTIFY``, a statement per hundred, in the transaction that writes their seals. An app
  server LISTENs while a page of its is open, and while none is open anywhere the sealer
  describes nothing (``listen``). A row's events go out once, when it is sealed (within about 0.1 s),
  in the order the chain takes; an app server that dies after its commit loses none, and
  the requests themselves do no work for the live pages (issue 9: it was a tenth of a scan
  and release's CPU);
* on SQLite (one app server) they go to an in-process hub after the commit, and only
  while a page is open.

Pages read the channel as server-sent events from ``GET /events``. The event id
is the audit row's sequence number, so a page that reconnects with
``Last-Event-ID`` gets what it missed in the last moments.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Flask, Response, current_app, request
from pydantic import BaseModel
from sqlalchemy import event as orm_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import accounts, audit, claims
from kiosk.models import AuditEvent, Handover, HandoverLine, Item
from kiosk.values import Actor

from . import db
from .auth import current_actor
from .errors import ApiError

log = logging.getLogger(__name__)

CHANNEL = "kiosk_events"
DESK = frozenset({"staff", "supervisor", "admin"})
ALERTED = frozenset(accounts.PERMISSIONS["alerts"])
# Alerts the desk sees live beside security (issue 12: a revoked stub presented, a code flood;
# issue 13: keys out too long). Complaint and handover alerts reach their own pages.
DESK_ALERTS = frozenset({"key_loan_overdue", "key_out_at_end_of_day", "revoked_stub_presented", "wrong_code_burst",
                         "lost_stub_after_release"})
# Who reads a handover or key count: both clerks' pages follow it as it is counted and signed.
COUNTERS = frozenset(accounts.PERMISSIONS["read_handover"])
HANDOVER_EVENTS = frozenset({"handover_open", "handover_scan", "handover_explain", "handover_note", "handover_sign",
                             "handover_signed", "handover_cancel"})
# The complaints desk's audit events (kiosk/complaints.py, work_orders.py) and its overdue alert.
COMPLAINT_EVENTS = frozenset({"complaint_taken", "complaint_changed", "complaint_reply", "complaint_reassigned",
                              "work_order_changed"})
OVERDUE_COMPLAINT_ALERT = "complaint_reply_overdue"
# NOTIFY payloads are limited to 8000 bytes; ours are a few hundred.
MAX_PAYLOAD = 7900
NOTIFY_BATCH = 100    # events per NOTIFY statement
# Rows sealed long after they were written (the sealer was down) are sealed without a word: a
# page opened since read its lists afresh, and one open all along would be told stale news.
ANNOUNCE_WITHIN = timedelta(seconds=60)
# Held (shared) by every LISTEN connection for as long as it listens: the sealer describes and sends
# nothing while nobody holds it (``listen``, ``announcer``). Any app server's, or a tool's.
LISTENERS_LOCK = 0x6B696F736B_6C  # "kiosk" + "l"


@dataclass(frozen=True)
class LiveEvent:
    id: int                     # the audit row's sequence number
    type: str
    data: dict
    roles: tuple[str, ...]      # who may see it
    device: str | None = None   # a kiosk sees only events addressed to its own device

    def visible_to(self, actor: Actor) -> bool:
        if actor.role not in self.roles:
            return False
        return actor.role != accounts.KIOSK or (self.device is not None and self.device == actor.device)

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "type": self.type, "data": self.data, "roles": self.roles,
                           "device": self.device}, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> LiveEvent:
        data = json.loads(text)
        return cls(id=data["id"], type=data["type"], data=data["data"], roles=tuple(data["roles"]),
                   device=data.get("device"))

    def sse(self) -> str:
        return f"id: {self.id}\nevent: {self.type}\ndata: {json.dumps(self.data, ensure_ascii=False)}\n\n"


# An audit row read back (a page reconnecting) or one this process just wrote.
Row = AuditEvent | audit.Written


def _at(row: Row) -> str:
    return row.at.isoformat()


def events_for(session: Session, row: Row) -> list[LiveEvent]:
    """What one audit row means to the pages that are open."""
    details = json.loads(row.details)
    if row.event == "scan":
        return _scan_events(session, row, details)
    if row.event in HANDOVER_EVENTS:
        return _handover_events(session, row, details)
    if row.event in COMPLAINT_EVENTS:
        return [_complaint_event(row, details)]
    if row.event == "alert":
        # The desk sees its own (DESK_ALERTS); the rest are security's and the supervisors'.
        roles = ALERTED | DESK if details.get("kind") in DESK_ALERTS else ALERTED
        extra = [_complaint_event(row, details)] if details.get("kind") == OVERDUE_COMPLAINT_ALERT else []
        return extra + [LiveEvent(row.seq, "alert", {"alert_id": details.get("alert_id"), "kind": details.get("kind"),
                                             "ticket_no": details.get("ticket_no"), "device": row.device,
                                             "at": _at(row)}, tuple(roles))]
    data = {"event": row.event, "item_id": row.item_id, "ticket_no": details.get("ticket_no"), "at": _at(row)}
    if row.event == "in_hand":
        data["by"] = row.actor  # the clerk fetching it: the other desks stop walking
    return [LiveEvent(row.seq, "ledger", data, tuple(DESK))]


def _complaint_event(row: Row, details: dict) -> LiveEvent:
    """A complaint changed (taken, moved on, replied to, reassigned, its work order, its reply
    overdue): the desk's complaint pages refresh. No name or contact: the audit row holds none."""
    return LiveEvent(row.seq, "complaint", {
        "complaint_id": details.get("complaint_id"), "action": details.get("action") or details.get("kind"),
        "to": details.get("to"), "owner": details.get("owner"), "at": _at(row)}, tuple(DESK))


def _scan_events(session: Session, row: Row, details: dict) -> list[LiveEvent]:
    from .api.scans import scan_fields

    if row.actor_role != accounts.KIOSK:
        return []
    kiosk = Actor(name=row.actor, role=row.actor_role, device=row.device)
    if "refused" in details:
        # Unknown, forged or unreadable: the kiosk's screen says so, nobody else needs to know now.
        return [LiveEvent(row.seq, "scan", {"error": {"code": details["refused"]}}, (accounts.KIOSK,), row.device)]
    item = getattr(row, "subject", None) or session.get(Item, row.item_id)
    outcome = claims.ScanOutcome(details["role"], item, details["next"])
    # The kiosk's own answer, as POST /scans gives it; without the sentence, which each page
    # writes in its own language from the catalogue.
    answer = {name: value.model_dump(mode="json", exclude_unset=True) if isinstance(value, BaseModel) else value
              for name, value in scan_fields(kiosk, outcome).items()}
    events = [LiveEvent(row.seq, "scan", answer, (accounts.KIOSK,), row.device)]
    if outcome.next == claims.NEXT_PRESENT_AT_DESK:
        # The item as the kiosk's answer shows it (web.api.answers.item_summary), for the desk's list.
        events.append(LiveEvent(row.seq, "pending_pickup", {
            **answer["item"], "item_id": item.id, "location": item.location, "device": row.device,
            "at": _at(row)}, tuple(DESK)))
    elif outcome.next == claims.NEXT_WAIT_FOR_STAFF:
        # The desk learns only that someone at this kiosk needs a person; security gets the alert.
        events.append(LiveEvent(row.seq, "assist", {"device": row.device, "at": _at(row)}, tuple(DESK | ALERTED)))
    return events


def _handover_events(session: Session, row: Row, details: dict) -> list[LiveEvent]:
    """A count's progress and changes, for every page showing it: ``handover_scan`` for each tag
    counted (the line's finding and the new progress), ``handover`` for everything else."""
    if "refused" in details:
        return []  # nothing changed; the clerk who tried sees the refusal in their own answer
    handover = session.info.get("kiosk.live.handovers", {}).get(details.get("handover_id")) \
        or session.get(Handover, details.get("handover_id"))
    if handover is None:
        return []
    data = {"event": row.event, "handover_id": handover.id, "kind": handover.kind, "state": handover.state,
            "progress": {"expected": handover.expected_count, "found": handover.found_count,
                         "scanned": handover.scanned_count},
            "by": row.actor, "item_id": row.item_id, "ticket_no": details.get("ticket_no"), "at": _at(row),
            # A change after one signature withdraws it: pages show who has signed as it stands.
            "signatures": {"outgoing": handover.outgoing_signed_at is not None,
                           "incoming": handover.incoming_signed_at is not None,
                           "incoming_name": handover.incoming_name}}
    if row.event == "handover_scan":
        wrong = bool(details.get("wrong_place"))
        finding = details.get("finding")
        data.update(finding=finding, reason=details.get("reason"), location=details.get("location"),
                    ledger_location=details.get("ledger_location"), wrong_place=wrong,
                    relocated=bool(details.get("relocated")), code_digest=_line_digest(session, handover, row, details),
                    discrepancy=finding if finding == "unexpected" else "wrong_place" if wrong else None)
        return [LiveEvent(row.seq, "handover_scan", data, tuple(COUNTERS))]
    if row.event == "handover_explain":
        data.update(code_digest=details.get("code_digest"), discrepancy=details.get("discrepancy"),
                    text=details.get("text"), alert_id=details.get("alert_id"))
    elif row.event == "handover_sign":
        data["as"] = details.get("as")
    elif row.event == "handover_signed":
        data.update(chain_head={"seq": row.seq, "hash": row.hash}, counts=details.get("counts"))
    return [LiveEvent(row.seq, "handover", data, tuple(COUNTERS))]


def _line_digest(session: Session, handover: Handover, row: Row, details: dict) -> str | None:
    """The digest naming an unknown code's line (an explanation names it so); the trail keeps a prefix."""
    prefix = details.get("digest")
    if row.item_id is not None or not prefix:
        return None
    return session.scalar(select(HandoverLine.code_digest).where(
        HandoverLine.handover_id == handover.id, HandoverLine.item_id.is_(None),
        HandoverLine.code_digest.startswith(prefix, autoescape=True)).limit(1))


class Busy(Exception):
    """Every event stream this server allows is open."""


END = LiveEvent(0, "end", {}, ())


class Subscription:
    def __init__(self, hub: Hub, actor: Actor):
        self.hub, self.actor = hub, actor
        self._queue: queue.Queue[LiveEvent] = queue.Queue(maxsize=200)
        self.overflowed = False

    def put(self, event: LiveEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            # A page that stopped reading; its stream ends and it reconnects from its last id.
            self.overflowed = True

    def get(self, timeout: float) -> LiveEvent | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self.hub._unsubscribe(self)


class Hub:
    """The open event streams of this app server, and (on PostgreSQL) its LISTEN connection."""

    def __init__(self, *, max_streams: int, listen_url: str | None = None, idle_stop: float = 30.0):
        self.max_streams, self.listen_url, self.idle_stop = max_streams, listen_url, idle_stop
        self._lock = threading.Lock()
        self._subscribers: set[Subscription] = set()
        self._listener: _Listener | None = None

    def subscribe(self, actor: Actor) -> Subscription:
        with self._lock:
            if len(self._subscribers) >= self.max_streams:
                raise Busy
            sub = Subscription(self, actor)
            self._subscribers.add(sub)
            if self.listen_url and (self._listener is None or not self._listener.is_alive()):
                self._listener = _Listener(self)
                self._listener.start()
            return sub

    def listening(self, timeout: float) -> bool:
        """Wait until NOTIFYs reach this server (at once on SQLite, which needs no listener)."""
        listener = self._listener
        return listener is None or listener.ready.wait(timeout)

    def _retire(self, listener: _Listener) -> bool:
        """Let an idle listener go, unless a stream opened meanwhile (decided under the lock
        ``subscribe`` takes, so a new stream never finds a listener on its way out)."""
        with self._lock:
            if self._subscribers or self._listener is not listener:
                return False
            self._listener = None
            return True

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    def publish(self, events: list[LiveEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for sub in subscribers:
                if event.visible_to(sub.actor):
                    sub.put(event)

    def idle(self) -> bool:
        with self._lock:
            return not self._subscribers

    def close(self) -> None:
        """End every open stream and stop listening (server shutdown); a new stream starts over."""
        with self._lock:
            subscribers = list(self._subscribers)
            listener, self._listener = self._listener, None
        for sub in subscribers:
            sub.put(END)
        deadline = time.monotonic() + 2.0
        while not self.idle() and time.monotonic() < deadline:
            time.sleep(0.01)  # let the streams write their last bytes before the server goes
        if listener is not None:
            listener.stop.set()
            listener.join(timeout=5)


class _Listener(threading.Thread):
    """LISTENs on PostgreSQL while any stream is open; reconnects after a lost connection."""

    def __init__(self, hub: Hub):
        super().__init__(name="kiosk-events-listener", daemon=True)
        self.hub = hub
        self.ready = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg

        backoff, idle_since = 0.5, None
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.hub.listen_url, autocommit=True) as connection:
                    listen(connection)
                    self.ready.set()
                    backoff = 0.5
                    while not self.stop.is_set():
                        for note in connection.notifies(timeout=0.5):
                            self._publish(note.payload)
                        if not self.hub.idle():
                            idle_since = None
                        elif idle_since is None:
                            idle_since = time.monotonic()
                        elif time.monotonic() - idle_since > self.hub.idle_stop and self.hub._retire(self):
                            return
            except Exception as error:  # the connection, or anything else: never leave the pages deaf
                log.warning("live events: lost the LISTEN connection (%s); retrying in %.1f s", error, backoff)
            finally:
                self.ready.clear()
            self.stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _publish(self, payload: str) -> None:
        try:
            event = LiveEvent.from_json(payload)
        except (ValueError, KeyError, TypeError):
            log.warning("live events: ignored a notification that is not one of ours")
            return
        self.hub.publish([event])


def _begin(session: Session, *_args) -> None:
    # kiosk.audit.append adds every row this transaction writes here.
    session.info.setdefault(audit.WRITTEN, [])


def _collect(session: Session, _flush_context) -> None:
    # A count changed in this transaction, held until its events are written: the identity map
    # keeps only what something refers to, and reading it again would cost a scan a query.
    for obj in session.dirty:
        if isinstance(obj, Handover):
            session.info.setdefault("kiosk.live.handovers", {})[obj.id] = obj


def _forget(session: Session, *_args) -> None:
    session.info.pop(audit.WRITTEN, None)
    session.info.pop("kiosk.live.handovers", None)
    session.info.pop("kiosk.live.ready", None)


def _attach(app: Flask, hub: Hub) -> None:
    """SQLite: each transaction's events go to this server's hub once it commits."""
    sessions = db.sessions(app)

    def before_commit(session: Session) -> None:
        if session.info.get(audit.WRITTEN):
            session.flush()
        rows = session.info.pop(audit.WRITTEN, None) or []
        if not rows or hub.idle():
            return   # no page open on this server (the only one): nobody to tell
        try:
            events = [event for row in rows for event in events_for(session, row)]
        except Exception:
            # A live page missing an update is a nuisance; the ledger's commit failing would be a fault.
            log.exception("live events: could not describe audit rows %s", [row.seq for row in rows])
            return
        if events:
            session.info["kiosk.live.ready"] = events

    def after_commit(session: Session) -> None:
        session.info.pop("kiosk.live.handovers", None)
        ready = session.info.pop("kiosk.live.ready", None)
        if ready:
            hub.publish(ready)

    orm_event.listen(sessions, "after_begin", _begin)
    orm_event.listen(sessions, "after_flush", _collect)
    orm_event.listen(sessions, "before_commit", before_commit)
    orm_event.listen(sessions, "after_commit", after_commit)
    orm_event.listen(sessions, "after_rollback", _forget)


def listen(connection) -> None:
    """LISTEN on the live channel with ``connection`` (psycopg, autocommit), saying so to the sealer
    first: the shared lock it takes is let go only with the connection."""
    connection.execute("SELECT pg_advisory_lock_shared(%s)", (LISTENERS_LOCK,))
    connection.execute(f"LISTEN {CHANNEL}")


def _anyone_listening(session: Session) -> bool:
    """Whether a LISTEN connection is open (``listen``). When none is, this transaction takes the lock
    itself until it ends: a connection that starts to listen meanwhile waits those few milliseconds,
    and hears what is sealed after."""
    return not session.connection().exec_driver_sql("SELECT pg_try_advisory_xact_lock(%s)",
                                                    (LISTENERS_LOCK,)).scalar()


def announcer(app: Flask):
    """The sealer's ``announce`` (kiosk.audit.seal) on PostgreSQL; None on SQLite, where each app
    server tells its own pages (``_attach``)."""
    if db.engine(app).dialect.name != "postgresql":
        return None
    clock = app.config.get("CLOCK") or (lambda: datetime.now(UTC))

    def announce(session: Session, rows: list) -> None:
        """Send the events of ``rows`` (sealed in this transaction, in order) with NOTIFY in it."""
        since = clock() - ANNOUNCE_WITHIN
        rows = [row for row in rows if row.at >= since]
        if not rows or not _anyone_listening(session):
            # With no page open anywhere, describing the rows cost the sealer twice its sealing
            # (issue 9: measured 0.22 of 0.33 ms of its CPU per scan and release).
            return
        try:
            subjects = _read_subjects(session, rows)   # held while described: the session finds them by id
            events = [event for row in rows for event in events_for(session, row)]
            del subjects
        except Exception:
            # A live page missing an update is a nuisance; the chain not being sealed would be a fault.
            log.exception("live events: could not describe audit rows %s..%s", rows[0].seq, rows[-1].seq)
            return
        payloads = []
        for live in events:
            payload = live.to_json()
            if len(payload.encode()) > MAX_PAYLOAD:
                log.error("live event %s of row %s is too large to send", live.type, live.id)
                continue
            payloads.append(payload)
        connection = session.connection()
        for start in range(0, len(payloads), NOTIFY_BATCH):
            chunk = payloads[start:start + NOTIFY_BATCH]
            connection.exec_driver_sql("SELECT " + ", ".join(["pg_notify(%s, %s)"] * len(chunk)),
                                       tuple(value for payload in chunk for value in (CHANNEL, payload)))

    return announce


def _read_subjects(session: Session, rows: list) -> list:
    """The items and handovers the rows' events describe, read in a query each rather than one per
    row; ``events_for`` then finds them in the session."""
    items = {row.item_id for row in rows if row.event == "scan" and row.item_id is not None}
    handovers = {json.loads(row.details).get("handover_id") for row in rows if row.event in HANDOVER_EVENTS}
    handovers.discard(None)
    held = list(session.scalars(select(Item).where(Item.id.in_(items)))) if items else []
    if handovers:
        held += session.scalars(select(Handover).where(Handover.id.in_(handovers)))
    return held


def replay(session: Session, after_seq: int, now: datetime, window: timedelta) -> list[LiveEvent]:
    """The events of audit rows after ``after_seq`` written within ``window``: what a reconnecting page missed."""
    rows = session.scalars(select(AuditEvent).where(AuditEvent.seq > after_seq, AuditEvent.at > now - window)
                           .order_by(AuditEvent.seq).limit(100))
    return [event for row in rows for event in events_for(session, row)]


bp = Blueprint("events", __name__)


@bp.get("/events")
def stream():
    """Server-sent events for the signed-in staff member, the enrolled kiosk or a bearer token."""
    session = db.session()
    actor = current_actor()
    config = current_app.config
    hub: Hub = current_app.extensions["kiosk.events"]
    missed = []
    last = request.headers.get("Last-Event-ID", "")
    if last.isdigit() and len(last) < 19:
        missed = [e for e in replay(session, int(last), datetime.now(UTC), timedelta(seconds=30))
                  if e.visible_to(actor)]
    session.rollback()
    try:
        sub = hub.subscribe(actor)
    except Busy:
        raise ApiError(503, "busy") from None
    hub.listening(timeout=5.0)
    heartbeat, lifetime = config["EVENT_HEARTBEAT_SECONDS"], config["EVENT_STREAM_SECONDS"]

    def body():
        try:
            # The page reconnects after `retry` ms whenever the stream ends.
            yield "retry: 2000\n: ready\n\n"
            for missed_event in missed:
                yield missed_event.sse()
            deadline = time.monotonic() + lifetime
            while (left := deadline - time.monotonic()) > 0 and not sub.overflowed:
                live = sub.get(timeout=min(heartbeat, left))
                if live is END:
                    return
                yield ": keep-alive\n\n" if live is None else live.sse()
        finally:
            sub.close()

    return Response(body(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def init_app(app: Flask) -> None:
    # Each open page holds one of the server's threads: keep some for everything else.
    app.config.setdefault("EVENT_STREAMS", int(os.environ.get("KIOSK_EVENT_STREAMS", 4)))
    # A page that went away is noticed only when its stream is next written to: a short
    # heartbeat gives its thread back within seconds.
    app.config.setdefault("EVENT_HEARTBEAT_SECONDS", 5.0)
    app.config.setdefault("EVENT_STREAM_SECONDS", 120.0)
    engine = db.engine(app)
    postgres = engine.dialect.name == "postgresql"
    listen_url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False) if postgres else None
    hub = Hub(max_streams=app.config["EVENT_STREAMS"], listen_url=listen_url)
    app.extensions["kiosk.events"] = hub
    if not postgres:
        _attach(app, hub)
    app.register_blueprint(bp)
