"""The app's database role cannot rewrite history: `kiosk init` migrates as the schema's owner
and grants the app's role only what it needs. Each test makes its own roles and schema (random
names prefixed trust_) in whatever database KIOSK_TEST_DATABASE_URL names, and drops them."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from kiosk import audit
from kiosk.db import APP_GRANTS, normalise_url
from kiosk.models import Base
from tests.conftest import AUDIT_KEY, POSTGRES_URL, TEST_SECRET, luggage
from web.sealer import seal_now

FORBIDDEN = [
    "UPDATE audit_events SET actor = 'nobody'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER USER",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
    "DROP TRIGGER audit_events_no_change ON audit_events",
    "CREATE TRIGGER sneak BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "ALTER TABLE audit_events DROP COLUMN hash",
    "DROP TABLE audit_events",
    "UPDATE audit_seals SET hash = 'x'",
    "DELETE FROM audit_seals",
    "TRUNCATE audit_seals",
    "ALTER TABLE audit_seals DISABLE TRIGGER USER",
    "SET session_replication_role = replica",
    "DELETE FROM items",
    "TRUNCATE items CASCADE",
    "ALTER TABLE items ADD COLUMN note text",
    "UPDATE alembic_version SET version_num = '0001'",
    "CREATE TABLE shadow (id int)",
    "DROP FUNCTION audit_events_append_only() CASCADE",
]


@dataclass
class Roles:
    owner_url: str
    app_url: str
    app_role: str


def _url(role: str, schema: str) -> str:
    url = make_url(normalise_url(POSTGRES_URL)).set(username=role, password=None,
                                                    query={"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def roles():
    if not POSTGRES_URL:
        pytest.skip("database roles are PostgreSQL's; SQLite's boundary is its file permissions")
    suffix = secrets.token_hex(4)
    owner, app_role, schema = f"trust_owner_{suffix}", f"trust_app_{suffix}", f"trust_{suffix}"
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE ROLE "{owner}" LOGIN')
        connection.exec_driver_sql(f'CREATE ROLE "{app_role}" LOGIN')
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}" AUTHORIZATION "{owner}"')
    try:
        yield Roles(owner_url=_url(owner, schema), app_url=_url(app_role, schema), app_role=app_role)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                       f"WHERE usename IN ('{owner}', '{app_role}')")
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            for role in (app_role, owner):
                connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
                connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


@pytest.fixture
def app_as_its_role(roles, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": roles.app_url, "ADMIN_DATABASE_URL": roles.owner_url,
                      "SECRET_KEY": TEST_SECRET})
    yield app
    app.extensions["kiosk.engine"].dispose()


def test_every_table_has_its_grants_written_down():
    assert set(APP_GRANTS) - {"alembic_version"} == {table.name for table in Base.metadata.sorted_tables}


def test_the_app_role_works_but_cannot_rewrite_history(app_as_its_role, roles):
    app = app_as_its_role
    runner = app.test_cli_runner()
    init = runner.invoke(args=["init"])
    assert init.exit_code == 0 and f"granted role {roles.app_role}" in init.output, init.output
    # Everything the desk does works as the app's role: users, tokens, deposits, scans, misses, sealing.
    assert runner.invoke(args=["user", "add", "lin", "--role", "staff"]).exit_code == 0
    token = runner.invoke(args=["token", "create", "lin"]).output.strip()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    item = client.post("/api/v1/items", json=luggage(), headers=headers)
    assert item.status_code == 201
    assert client.post("/api/v1/scans", json={"code": item.get_json()["stub_code"]}, headers=headers).status_code == 200
    assert client.post("/api/v1/scans", json={"code": "nonsense"}, headers=headers).status_code == 400
    assert seal_now(app) == 3
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0

    engine = app.extensions["kiosk.engine"]
    refused = []
    for statement in FORBIDDEN:
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(statement)
        except DBAPIError as error:
            message = str(error.orig)
            if "permission denied" in message or "must be owner" in message:
                refused.append(statement)
    assert refused == FORBIDDEN
    with app.extensions["kiosk.sessions"]() as session:
        assert audit.verify(session, AUDIT_KEY).ok


def test_init_without_an_owner_connection_warns_on_postgres(app_as_its_role, roles):
    app = app_as_its_role
    app.config["ADMIN_DATABASE_URL"] = None
    app.config["DATABASE_URL"] = roles.owner_url
    app.extensions["kiosk.engine"].dispose()
    from web import db

    db.init_app(app)
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0 and "the app's own role owns the schema" in result.output
