"""The live event channel: read off the audit trail, shown only to who may see it, across app servers."""
import re
import time

import pytest
import requests
from sqlalchemy import event, text

from kiosk import accounts, ledger
from kiosk.values import Actor
from tests.conftest import POSTGRES_URL, TEST_SECRET, luggage
from tests.live import EventStream, serve
from web import create_app

ACTORS = {
    "lobby-1": Actor(name="kiosk:lobby-1", role="kiosk", device="lobby-1"),
    "lobby-2": Actor(name="kiosk:lobby-2", role="kiosk", device="lobby-2"),
    "staff": Actor(name="staff-1", role="staff", user_id=1),
    "security": Actor(name="security-1", role="security", user_id=2),
}


@pytest.fixture
def hub(app, announcing):
    hub = app.extensions["kiosk.events"]
    yield hub
    hub.close()


@pytest.fixture
def listeners(hub):
    subs = {name: hub.subscribe(actor) for name, actor in ACTORS.items()}
    assert hub.listening(timeout=10)
    yield subs
    for sub in subs.values():
        sub.close()


def received(sub, wait: float = 3.0) -> list[tuple[str, dict]]:
    """Everything that reached ``sub``: waits ``wait`` s for the first event, then takes what is there."""
    got = []
    live = sub.get(timeout=wait)
    while live is not None:
        got.append((live.type, live.data))
        live = sub.get(timeout=0.3)
    return got


def test_a_kiosk_scan_reaches_its_own_screen_and_the_desk(api, listeners):
    body = api.post("/items", json=luggage()).get_json()
    assert [t for t, _ in received(listeners["staff"])] == ["ledger"]
    answer = api.post("/scans", role="kiosk", json={"code": body["stub_code"]}).get_json()

    # The kiosk's own answer; each page words it from the catalogue in its own language.
    del answer["message"]
    assert received(listeners["lobby-1"]) == [("scan", answer)]
    desk = received(listeners["staff"])
    assert [t for t, _ in desk] == ["pending_pickup"]
    pending = desk[0][1]
    assert (pending["ticket_no"], pending["kind"], pending["owner"], pending["location"], pending["device"]) == (
        "A-0001", "luggage", {"unit": "12-0301", "name": "张*"}, "storeroom", "lobby-1")
    assert received(listeners["lobby-2"], wait=0.5) == []
    assert received(listeners["security"], wait=0.5) == []


def test_a_revoked_stub_is_neutral_on_the_screen_and_alerts_security(api, listeners):
    body = api.post("/items", json=luggage()).get_json()
    api.post(f"/items/{body['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟", "reissue": True})
    for sub in listeners.values():
        received(sub, wait=0.5)
    api.post("/scans", role="kiosk", json={"code": body["stub_code"]})

    screen = received(listeners["lobby-1"])
    assert [t for t, _ in screen] == ["scan"] and screen[0][1]["next"] == "wait_for_staff"
    assert set(screen[0][1]) == {"next"}
    security = received(listeners["security"])
    assert [t for t, _ in security] == ["alert", "assist"]
    assert (security[0][1]["kind"], security[0][1]["ticket_no"], security[0][1]["device"]) == (
        "revoked_stub_presented", "A-0001", "lobby-1")
    desk = received(listeners["staff"])  # the desk sees the alert too (issue 12), with no personal data
    assert [t for t, _ in desk] == ["alert", "assist"] and desk[0][1] == security[0][1]
    assert set(desk[0][1]) == {"alert_id", "kind", "ticket_no", "device", "at"}


def test_an_unknown_code_is_told_only_to_its_kiosk(api, listeners):
    api.post("/scans", role="kiosk", json={"code": "K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS"})
    assert received(listeners["lobby-1"]) == [("scan", {"error": {"code": "unknown_code"}})]
    assert received(listeners["staff"], wait=0.5) == []


def test_nothing_is_announced_for_work_rolled_back(app, desk, users, listeners):
    from kiosk.values import DepositForm, Person

    form = DepositForm(kind="key", owner=Person("1-1", "王芳", "13900000000"))
    with app.extensions["kiosk.sessions"]() as session:
        ledger.deposit(session, desk, users["staff"], form)
        session.rollback()
        assert received(listeners["staff"], wait=1.0) == []
        ledger.deposit(session, desk, users["staff"], form)
        session.commit()
    assert [(t, d["event"]) for t, d in received(listeners["staff"])] == [("ledger", "deposit")]


@pytest.fixture
def server(app, announcing):
    app.config["EVENT_HEARTBEAT_SECONDS"] = 0.5
    with serve(app) as url:
        yield url
        app.extensions["kiosk.events"].close()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_stream_over_http_carries_scans_and_replays_what_a_page_missed(app, api, server, tokens):
    body = api.post("/items", json=luggage()).get_json()
    stream = EventStream(server, bearer(tokens["kiosk"]))
    try:
        answer = requests.post(f"{server}/api/v1/scans", json={"code": body["stub_code"]},
                               headers=bearer(tokens["kiosk"]), timeout=10).json()
        del answer["message"]
        kind, data, seen = stream.next()
        assert (kind, data) == ("scan", answer)
    finally:
        stream.close()
    # The page was away for a moment; it reconnects with the last id it saw.
    requests.post(f"{server}/api/v1/scans", json={"code": body["tag_code"]}, headers=bearer(tokens["kiosk"]),
                  timeout=10)
    again = EventStream(server, {**bearer(tokens["kiosk"]), "Last-Event-ID": seen})
    try:
        kind, data, _ = again.next()
        assert (kind, data["next"], data["role"]) == ("scan", "scan_claim", "tag")
    finally:
        again.close()


def test_a_stream_needs_a_credential_and_a_free_slot(app, server, tokens):
    assert requests.get(f"{server}/events", timeout=10).status_code == 401
    app.config["EVENT_STREAMS"] = 1
    app.extensions["kiosk.events"].max_streams = 1
    first = EventStream(server, bearer(tokens["staff"]))
    try:
        busy = requests.get(f"{server}/events", headers=bearer(tokens["staff"]), timeout=10)
        assert busy.status_code == 503 and busy.json()["error"]["code"] == "busy"
    finally:
        first.close()


@pytest.fixture
def second_app(database_url, tmp_path):
    """Another app server on the same database, as a second `kiosk serve` would be."""
    other = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
                        "EVENT_HEARTBEAT_SECONDS": 0.5})
    yield other
    other.extensions["kiosk.events"].close()
    other.extensions["kiosk.engine"].dispose()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="LISTEN/NOTIFY between app servers needs PostgreSQL")
def test_a_scan_through_server_a_reaches_a_stream_on_server_b(api, server, second_app, tokens):
    body = api.post("/items", json=luggage()).get_json()
    with serve(second_app) as server_b:
        screen = EventStream(server_b, bearer(tokens["kiosk"]))
        desk = EventStream(server_b, bearer(tokens["staff"]))
        try:
            answer = requests.post(f"{server}/api/v1/scans", json={"code": body["stub_code"]},
                                   headers=bearer(tokens["kiosk"]), timeout=10).json()
            del answer["message"]
            assert screen.next()[:2] == ("scan", answer)
            # The deposit's own event may come first: it is announced when sealed, maybe after the stream opened.
            kind, pending, _ = desk.next("pending_pickup")
            assert (kind, pending["ticket_no"], pending["device"]) == ("pending_pickup", "A-0001", "lobby-1")
        finally:
            screen.close()
            desk.close()


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the LISTEN connection exists only on PostgreSQL")
def _listener_pids(app) -> set[int]:
    with app.extensions["kiosk.engine"].begin() as connection:
        return set(connection.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'LISTEN kiosk_events%'")).scalars())


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the LISTEN connection exists only on PostgreSQL")
def test_the_listener_comes_back_after_its_connection_is_cut(app, api, hub, listeners):
    before = _listener_pids(app)
    assert len(before) == 1
    with app.extensions["kiosk.engine"].begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": next(iter(before))})
    live = None
    for _ in range(40):  # it reconnects with backoff; what is written while it is away is not pushed
        api.post("/items", json=luggage())
        live = listeners["staff"].get(timeout=0.5)
        if live is not None:
            break
    assert live is not None and live.type == "ledger"
    assert _listener_pids(app) - before


def test_a_signed_in_desk_page_listens_with_its_session(app, api, server):
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        session.commit()
    browser = requests.Session()
    form = browser.get(f"{server}/login", timeout=10).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', form).group(1)
    browser.post(f"{server}/login", data={"name": "lin", "password": "lin-password", "csrf_token": token},
                 timeout=10)
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    desk = EventStream(server, {"Cookie": cookies})
    try:
        api.post("/items", json=luggage())
        kind, data, _ = desk.next()
        assert (kind, data["event"], data["ticket_no"]) == ("ledger", "deposit", "A-0001")
    finally:
        desk.close()
        browser.close()
    assert requests.get(f"{server}/events", headers={"Cookie": "session=forged"}, timeout=10).status_code == 401


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the LISTEN connection exists only on PostgreSQL")
def test_the_listener_stops_when_nobody_listens_and_starts_again(app, api, hub):
    hub.idle_stop = 0.2
    first = hub.subscribe(ACTORS["staff"])
    assert hub.listening(timeout=10)
    listener = hub._listener
    first.close()
    listener.join(timeout=10)
    assert not listener.is_alive()
    again = hub.subscribe(ACTORS["staff"])
    try:
        assert hub.listening(timeout=10)
        api.post("/items", json=luggage())
        assert [t for t, _ in received(again)] == ["ledger"]
    finally:
        again.close()


def test_complaints_reach_the_desk_as_complaint_events_without_names(app, api, listeners):
    filed = api.post("/complaints", role="kiosk", json={
        "kind": "help", "category": "other", "unit": "1-0101", "name": "张伟", "contact": "13812345678",
        "content": "请帮忙"}).get_json()
    desk = received(listeners["staff"])
    assert [(t, d["complaint_id"], d["action"]) for t, d in desk] == [("complaint", filed["id"], "taken")]
    assert "张伟" not in str(desk) and "13812345678" not in str(desk)
    assert received(listeners["lobby-1"], wait=0.5) == [] and received(listeners["security"], wait=0.5) == []
    api.post(f"/complaints/{filed['id']}/transitions", json={"to": "acknowledged"})
    assert [(t, d["to"]) for t, d in received(listeners["staff"])] == [("complaint", "acknowledged")]


@pytest.fixture
def notes(app):
    """A LISTEN connection of its own on the live channel: everything the sealer sends."""
    import psycopg

    from web.events import listen

    with psycopg.connect(app.extensions["kiosk.events"].listen_url, autocommit=True) as listener:
        listen(listener)

        def heard(wait: float = 3.0) -> list:
            from web.events import LiveEvent

            return [LiveEvent.from_json(note.payload) for note in listener.notifies(timeout=wait)]

        yield heard


def write_rows(app, count: int, at=None) -> list[int]:
    """``count`` deposits' audit rows written as any process writes them, with no app server involved."""
    from kiosk import audit

    with app.extensions["kiosk.sessions"]() as session:
        seqs = [audit.append(session, "deposit", ACTORS["staff"], item_id=None, details={"ticket_no": f"A-{n:04d}"},
                             now=at).seq for n in range(count)]
        session.commit()
    return seqs


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the sealer announces on PostgreSQL")
def test_the_sealer_announces_each_row_once_in_order_in_a_statement_per_hundred(app, notes):
    from web import sealer
    from web.events import NOTIFY_BATCH

    seqs = write_rows(app, NOTIFY_BATCH + 30)
    statements = []
    engine = app.extensions["kiosk.engine"]

    def count(_conn, _cursor, statement, *_args):
        if "pg_notify" in statement:
            statements.append(statement.count("pg_notify"))

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert sealer.seal_now(app) == len(seqs)
        assert sealer.seal_now(app) == 0   # sealed once, so announced once
    finally:
        event.remove(engine, "before_cursor_execute", count)
    got = notes()
    assert [(e.id, e.type, e.data["ticket_no"]) for e in got] == [
        (seq, "ledger", f"A-{n:04d}") for n, seq in enumerate(seqs)]
    assert statements == [NOTIFY_BATCH, 30]


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the sealer announces on PostgreSQL")
def test_rows_are_announced_only_when_their_seals_commit(app, notes, monkeypatch):
    from kiosk import audit
    from web import sealer

    seqs = write_rows(app, 3)
    real_seal = audit.seal

    def seal_then_fail(session, *args, **kwargs):
        real_seal(session, *args, **kwargs)
        raise RuntimeError("the sealer's connection was lost before its commit")

    monkeypatch.setattr(audit, "seal", seal_then_fail)
    with pytest.raises(RuntimeError):
        sealer.seal_now(app)
    assert notes(wait=1.0) == []
    monkeypatch.setattr(audit, "seal", real_seal)
    assert sealer.seal_now(app) == 3
    assert [e.id for e in notes()] == seqs


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the sealer announces on PostgreSQL")
def test_rows_sealed_long_after_they_were_written_are_not_announced(app, notes):
    from datetime import UTC, datetime, timedelta

    from web import sealer
    from web.events import ANNOUNCE_WITHIN

    write_rows(app, 2, at=datetime.now(UTC) - ANNOUNCE_WITHIN - timedelta(seconds=5))
    recent = write_rows(app, 1)
    assert sealer.seal_now(app) == 3
    assert [e.id for e in notes()] == recent


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="the sealer announces on PostgreSQL")
def test_the_sealer_describes_nothing_while_no_connection_listens(app, monkeypatch):
    import psycopg

    from web import events, sealer

    described, notified = [], []
    real_events_for = events.events_for
    monkeypatch.setattr(events, "events_for", lambda session, row: described.append(row.seq)
                        or real_events_for(session, row))
    engine = app.extensions["kiosk.engine"]

    def count(_conn, _cursor, statement, *_args):
        if "pg_notify" in statement:
            notified.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        write_rows(app, 2)
        assert sealer.seal_now(app) == 2
        assert (described, notified) == ([], [])          # sealed, and nobody told
        with psycopg.connect(app.extensions["kiosk.events"].listen_url, autocommit=True) as listener:
            events.listen(listener)
            heard = write_rows(app, 2)
            assert sealer.seal_now(app) == 2
            assert described == heard and len(notified) == 1
            assert [events.LiveEvent.from_json(note.payload).id for note in listener.notifies(timeout=3)] == heard
        # The lock went with the connection: quiet again.
        write_rows(app, 1)
        assert sealer.seal_now(app) == 1
        assert described == heard and len(notified) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_only_on_sqlite_does_a_request_describe_its_own_events(app, api, monkeypatch):
    """SQLite: the one app server tells its open pages after each commit. PostgreSQL: the sealer
    does (no sealer runs here), and the request does no work for the live pages."""
    from web import events as live

    described = []
    real = live.events_for
    monkeypatch.setattr(live, "events_for", lambda session, row: described.append(row.event) or real(session, row))
    hub = app.extensions["kiosk.events"]
    page = hub.subscribe(ACTORS["staff"])
    try:
        api.post("/items", json=luggage())
    finally:
        page.close()
        hub.close()
    postgres = app.extensions["kiosk.engine"].dialect.name == "postgresql"
    assert described == ([] if postgres else ["deposit"])
