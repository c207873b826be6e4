"""Fixtures shared by every test package: a fresh, migrated database per test.

SQLite by default (a copy of a migrated template file per test); PostgreSQL
when KIOSK_TEST_DATABASE_URL is set (migrated once, emptied before each test).
"""
from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from kiosk import accounts
from kiosk.db import make_engine, migrate, session_factory
from kiosk.keys import derive_key
from kiosk.models import Base
from kiosk.values import Actor, DepositForm, Desk, Person

POSTGRES_URL = os.environ.get("KIOSK_TEST_DATABASE_URL")
TEST_SECRET = "test-secret-key-not-for-production"
AUDIT_KEY = derive_key(TEST_SECRET, "audit chain")
ROLES = ("staff", "supervisor", "security", "admin")


# Packages whose tests touch no database: the CI's PostgreSQL pass skips them (`-m "not no_database"`),
# since they would only repeat the SQLite pass word for word.
NO_DATABASE = ("tests/printing/", "tests/scanning/", "tests/notifying/")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if any(part in item.nodeid for part in NO_DATABASE):
            item.add_marker(pytest.mark.no_database)


def pytest_report_header(config):
    return f"kiosk database: {'PostgreSQL ' + POSTGRES_URL if POSTGRES_URL else 'SQLite (per-test file)'}"


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory):
    if POSTGRES_URL:
        engine = make_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
        migrate(engine)
        yield engine
        engine.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "kiosk.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    yield path


def _empty_postgres(engine) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        # Replica mode skips the append-only triggers; only tests reset the trail.
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(_database_template, tmp_path):
    if POSTGRES_URL:
        _empty_postgres(_database_template)
        return POSTGRES_URL
    target = tmp_path / "kiosk.sqlite3"
    shutil.copy(_database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def engine(database_url):
    """The ledger's engine straight from kiosk.db: domain tests need no Flask."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    """Sessions that may write audit rows (they carry the audit key, as the app's do)."""
    return session_factory(engine, audit_key=AUDIT_KEY)


@pytest.fixture
def session(sessions):
    with sessions() as session:
        yield session


@pytest.fixture
def desk() -> Desk:
    return Desk(site="A", code_key=derive_key(TEST_SECRET, "claim codes"))


@pytest.fixture
def users(sessions) -> dict[str, Actor]:
    """One committed user per role, plus a kiosk device, as actors."""
    actors = {}
    with sessions() as session:
        for role in ROLES:
            user = accounts.add_user(session, f"{role}-1", role)
            actors[role] = Actor(name=user.name, role=role, user_id=user.id, device="desk-1")
        session.commit()
    actors["kiosk"] = Actor(name="kiosk:lobby-1", role="kiosk", device="lobby-1")
    return actors


@pytest.fixture
def app(database_url, engine, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET})
    yield app
    app.extensions["kiosk.engine"].dispose()


@pytest.fixture
def announcing(app):
    """The audit sealer of ``app``, running as `kiosk serve` runs it: on PostgreSQL it is what
    sends the live pages their events (web/events.py). Nothing on SQLite, where each app server
    tells its own pages."""
    import threading

    from web.sealer import Sealer

    if app.extensions["kiosk.engine"].dialect.name != "postgresql":
        yield None
        return
    stop = threading.Event()
    sealer = threading.Thread(target=Sealer(app, interval=0.02).run, args=(stop,), name="test-sealer", daemon=True)
    sealer.start()
    yield sealer
    stop.set()
    sealer.join(timeout=10)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def tokens(sessions, users) -> dict[str, str]:
    with sessions() as session:
        made = {role: accounts.create_token(session, user_name=f"{role}-1") for role in ROLES}
        made["kiosk"] = accounts.create_token(session, device="lobby-1")
        session.commit()
    return made


@pytest.fixture
def staff_2(engine, tokens) -> str:
    """A second staff member, as a role name for ``api``: the incoming clerk of a handover signs
    with their own login."""
    with session_factory(engine)() as session:
        accounts.add_user(session, "staff-2", "staff")
        tokens["staff-2"] = accounts.create_token(session, user_name="staff-2")
        session.commit()
    return "staff-2"


class Api:
    """The test client with a role's bearer token."""

    def __init__(self, client, tokens):
        self.client, self.tokens = client, tokens

    def __call__(self, method: str, path: str, role: str = "staff", **kwargs):
        headers = kwargs.pop("headers", {})
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path, role="staff", **kw):
        return self("GET", path, role, **kw)

    def post(self, path, role="staff", **kw):
        return self("POST", path, role, **kw)


@pytest.fixture
def api(client, tokens) -> Api:
    return Api(client, tokens)


OWNER = Person("12-0301", "张伟", "13812345678")


def luggage_form(now: datetime, **overrides) -> DepositForm:
    """A valid deposit for the domain: a large suitcase, collected five hours after ``now``."""
    values = dict(kind="luggage", owner=OWNER, size="large", description="black suitcase",
                  expected_pickup_at=now + timedelta(hours=5))
    values.update(overrides)
    return DepositForm(**values)


def sealed_verdict(session, **kwargs):
    """What `audit verify` says once the sealer has chained everything committed so far."""
    from kiosk import audit

    audit.seal(session, AUDIT_KEY)
    session.commit()
    return audit.verify(session, AUDIT_KEY, **kwargs)


def key_deposit(**overrides) -> dict:
    """A valid POST /keys body: a unit's key, with the owner's signed consent."""
    body = {"owner": {"unit": "1-1", "name": "王芳", "phone": "13900000000"},
            "consent": {"given_by": "王芳", "channel": "signature"}, "handed_over": False}
    body.update(overrides)
    return body


def luggage(**overrides) -> dict:
    """A valid deposit body: luggage for tomorrow."""
    body = {
        "kind": "luggage",
        "owner": {"unit": "12-0301", "name": "张伟", "phone": "13812345678"},
        "size": "large",
        "description": "black suitcase",
        "expected_pickup_at": datetime(2099, 1, 1, 9, tzinfo=UTC).isoformat(),
    }
    body.update(overrides)
    return body


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback that records every message."""
    from tests.notifying.servers import LoopbackSmtp

    server = LoopbackSmtp()
    yield server
    server.close()


@pytest.fixture
def gateway():
    """An SMS gateway webhook on loopback that records and de-duplicates idempotency keys."""
    from tests.notifying.servers import LoopbackGateway

    server = LoopbackGateway()
    yield server
    server.close()
