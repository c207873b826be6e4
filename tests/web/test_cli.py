import os
import socket
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from tests.conftest import TEST_SECRET
from kiosk.db import head_revision
from web.cli import main


@pytest.fixture
def cli(runner):
    """The commands as they hang off the app (app.cli), through Flask's CLI runner."""

    def run(*args):
        return runner.invoke(args=list(args), catch_exceptions=False)

    return run


def test_the_kiosk_command_is_the_apps_cli(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("KIOSK_SECRET_KEY", TEST_SECRET)
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "user", "token", "serve", "demo", "audit", "print-worker", "printer", "scan",
                    "notify-worker", "resident"):
        assert f"  {command}" in result.output


def test_init_users_tokens_and_audit_verify(cli, app):
    assert f"database ready at revision {head_revision()}" in cli("init").output
    assert cli("user", "add", "lin", "--role", "staff").exit_code == 0
    duplicate = cli("user", "add", "lin", "--role", "staff")
    assert duplicate.exit_code == 1 and "User lin exists. [user_exists]" in duplicate.output
    staff_token = cli("token", "create", "lin").output.strip()
    kiosk_token = cli("token", "create", "--kiosk", "lobby-2").output.strip()
    assert staff_token.startswith("ku_") and kiosk_token.startswith("kd_")
    assert cli("token", "create").exit_code == 2

    client = app.test_client()
    item = client.post("/api/v1/items", headers={"Authorization": f"Bearer {staff_token}"},
                       json={"kind": "short_term", "owner": {"unit": "1-1", "name": "王芳", "phone": "13900000000"},
                             "expected_pickup_at": "2099-01-01T09:00+08:00"})
    assert item.status_code == 201
    denied = client.post("/api/v1/items", headers={"Authorization": f"Bearer {kiosk_token}"}, json={})
    assert denied.status_code == 403
    scanned = client.post("/api/v1/scans", headers={"Authorization": f"Bearer {kiosk_token}"},
                          json={"code": item.get_json()["tag_code"]})
    assert scanned.status_code == 200

    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and "audit trail intact: 2 rows" in verified.output
    assert cli("token", "revoke", kiosk_token).exit_code == 0
    assert client.post("/api/v1/scans", headers={"Authorization": f"Bearer {kiosk_token}"},
                       json={"code": "x"}).status_code == 401


def test_audit_seal_anchor_and_verify_exits_1_on_a_broken_chain(cli, app):
    from tests.kiosk.test_audit import tamper

    client = app.test_client()
    cli("user", "add", "lin", "--role", "staff")
    token = cli("token", "create", "lin").output.strip()
    for _ in range(3):
        client.post("/api/v1/items", headers={"Authorization": f"Bearer {token}"},
                    json={"kind": "short_term", "owner": {"unit": "1-1", "name": "王芳", "phone": "13900000000"},
                             "expected_pickup_at": "2099-01-01T09:00+08:00"})
    assert "sealed 3 rows" in cli("audit", "seal", "--once").output
    assert "anchored seal 3" in cli("audit", "anchor", "--reason", "test").output
    assert "3 rows (3 sealed), 1 anchors agree" in cli("audit", "verify").output
    tamper(app.extensions["kiosk.engine"], "DELETE FROM audit_events WHERE seq = 1",
           "DELETE FROM audit_seals WHERE position = 3", "DELETE FROM audit_events WHERE seq = 3")
    result = cli("audit", "verify")
    assert result.exit_code == 1
    assert "BROKEN: row 1 (seal 1) was deleted after it was sealed" in result.output
    assert "but the chain ends at seal 2: rows were removed" in result.output
    assert "BROKEN: 2 items have no deposit in the trail: rows were removed" in result.output


def test_user_add_rejects_unknown_roles(cli):
    result = cli("user", "add", "x", "--role", "janitor")
    assert result.exit_code == 2 and "janitor" in result.output


def test_demo_builds_a_desk_without_serving(cli):
    result = cli("demo", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "A-0001" in result.output and "K1P-" in result.output and "kiosk:lobby-1" in result.output
    assert "http://127.0.0.1:8080/login" in result.output
    assert "http://127.0.0.1:8080/kiosk/enrol/ke_" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_the_production_server(database_url, tmp_path):
    env = {**os.environ, "KIOSK_DATABASE_URL": database_url, "KIOSK_SECRET_KEY": TEST_SECRET,
           "KIOSK_INSTANCE_PATH": str(tmp_path / "instance")}
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            try:
                # The port listens at once; the answer waits for a worker process to boot.
                response = requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=(1, 60))
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not come up")
        health = response.json()
        assert (health["status"], health["database"], health["audit"]["head_seq"]) == ("ok", "ok", 0)
        assert response.headers["Server"] == "gunicorn"  # web/serving.py, not Werkzeug's development server
        page = requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
        assert page.status_code == 200 and "员工登录" in page.text  # the pages, in zh-Hans by default
    finally:
        process.terminate()
        try:
            # It stops its children within web.serving.STOP_TIMEOUT_S each; a loaded machine needs a while.
            process.wait(timeout=40)
        finally:
            process.kill()
            process.wait()
            process.stdout.close()


def test_serve_refuses_an_unmigrated_database(tmp_path):
    env = {**os.environ, "KIOSK_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
           "KIOSK_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("KIOSK_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-m", "web.cli", "serve"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1 and "kiosk init" in result.stderr


def test_an_enrolment_link_binds_one_browser_and_a_device_can_be_withdrawn(cli, app):
    assert cli("token", "create", "--enrol").exit_code == 2
    assert cli("token", "create", "lin", "--enrol").exit_code == 2
    made = cli("token", "create", "--kiosk", "lobby-3", "--enrol", "--url", "https://desk.example:8443/")
    assert made.exit_code == 0, made.output
    url = made.output.strip()
    assert url.startswith("https://desk.example:8443/kiosk/enrol/ke_")
    path = url.removeprefix("https://desk.example:8443")

    browser = app.test_client()
    page = browser.get(path)
    token = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    assert browser.post(path, data={"csrf_token": token}).headers["Location"] == "/kiosk"
    assert browser.get("/kiosk").status_code == 200
    assert app.test_client().get(path).status_code == 410  # reused

    assert cli("token", "revoke").exit_code == 2
    withdrawn = cli("token", "revoke", "--kiosk", "lobby-3")
    assert withdrawn.exit_code == 0 and "withdrew lobby-3: 1 token(s) revoked" in withdrawn.output
    assert browser.get("/kiosk").status_code == 403
