"""Rate limits: per device and per client address, shared by every app server through Redis,
X-Forwarded-For believed only from a named proxy; a flood of wrong codes is one alert."""
from __future__ import annotations

import os
import secrets

import pytest
import redis
import requests

from tests.conftest import TEST_SECRET
from tests.live import free_port, kiosk_server
from tests.web.test_pages import kiosk_client  # noqa: F401 (a fixture)

REDIS = os.environ.get("KIOSK_TEST_REDIS_URL", "redis://127.0.0.1:6379/8")


def scan(api, role="kiosk", code="nonsense", **kwargs):
    return api.post("/scans", role=role, json={"code": code}, **kwargs)


def test_a_kiosk_flooding_scans_gets_429_with_retry_after_and_others_carry_on(api, tokens):
    answers = [scan(api) for _ in range(8)]
    assert [a.status_code for a in answers] == [400] * 5 + [429] * 3
    error = answers[-1].get_json()["error"]
    assert (error["code"], error["limit"]) == ("rate_limited", "scan")
    assert int(answers[-1].headers["Retry-After"]) == error["retry_after"] >= 1
    # The limit is the device's: staff at the desk (same address) still scan.
    assert scan(api, role="staff").status_code == 400


def test_wrong_tokens_from_one_address_get_429_past_the_limit(app, client):
    app.config["RATE_LIMITS"]["auth_failure"] = ("", "3/minute")
    bad = {"Authorization": "Bearer ku_guess"}
    statuses = [client.get("/api/v1/alerts", headers={**bad, "X-Forwarded-For": f"10.0.0.{n}"})
                .status_code for n in range(5)]
    assert statuses == [401, 401, 401, 429, 429], "X-Forwarded-For from an unnamed proxy is not believed"


def test_x_forwarded_for_is_believed_from_the_named_proxy_only(app, client):
    import ipaddress

    app.config["RATE_LIMITS"]["auth_failure"] = ("", "3/minute")
    app.config["TRUSTED_PROXIES"] = (ipaddress.ip_network("127.0.0.1/32"),)
    bad = {"Authorization": "Bearer ku_guess"}
    spread = [client.get("/api/v1/alerts", headers={**bad, "X-Forwarded-For": f"203.0.113.{n}, 127.0.0.1"})
              .status_code for n in range(6)]
    assert spread == [401] * 6
    one = [client.get("/api/v1/alerts", headers={**bad, "X-Forwarded-For": "203.0.113.99"}).status_code
           for _ in range(4)]
    assert one == [401, 401, 401, 429]


def test_the_sign_in_page_stops_guessing_a_name(app, client):
    from tests.web.test_pages import csrf_of

    token = csrf_of(client.get("/login"))
    tries = [client.post("/login", data={"name": "lin", "password": f"guess-{n}", "csrf_token": token}).status_code
             for n in range(6)]
    assert tries == [422] * 5 + [429]
    assert client.post("/login", data={"name": "wang", "password": "x", "csrf_token": token}).status_code == 422
    assert client.get("/login").status_code == 200  # looking at the page costs nothing


def test_a_kiosk_cannot_flood_the_complaint_form_or_guess_enrolment_links(app, kiosk_client):
    from tests.web.test_pages import csrf_of

    form = kiosk_client.get("/kiosk/request")
    token = csrf_of(form)
    filed = [kiosk_client.post("/kiosk/request", data={"kind": "request", "category": "other", "unit": "1-1",
                                                       "name": "王芳", "phone": "13900000000", "text": f"#{n}",
                                                       "csrf_token": token}).status_code for n in range(13)]
    assert filed[12] == 429 and 429 not in filed[:12]
    guesses = [kiosk_client.get(f"/kiosk/enrol/guess{n}").status_code for n in range(12)]
    assert guesses[-1] == 429 and set(guesses) == {410, 429}


def test_when_redis_is_down_the_limits_still_hold_in_each_process(database_url, tmp_path, monkeypatch, tokens):
    from web import create_app

    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET,
                      "REDIS_URL": f"redis://127.0.0.1:{free_port()}/8"})
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['kiosk']}"}
    statuses = [client.post("/api/v1/scans", json={"code": "x"}, headers=headers).status_code for _ in range(7)]
    app.extensions["kiosk.engine"].dispose()
    assert statuses == [400] * 5 + [429] * 2


@pytest.mark.slow
def test_two_app_servers_share_one_limit_through_redis(database_url, tmp_path, tokens):
    prefix = f"trust:{secrets.token_hex(4)}"
    env = {"KIOSK_DATABASE_URL": database_url, "KIOSK_SECRET_KEY": TEST_SECRET,
           "KIOSK_INSTANCE_PATH": str(tmp_path / "instance"), "KIOSK_REDIS_URL": REDIS,
           "KIOSK_REDIS_PREFIX": prefix, "KIOSK_RATE_LIMITS": "scan=10/hour|1000/hour"}
    headers = {"Authorization": f"Bearer {tokens['kiosk']}"}
    try:
        with kiosk_server(env, "--no-print-worker") as (_, a), kiosk_server(env, "--no-print-worker") as (_, b):
            statuses = [requests.post(f"{url}/api/v1/scans", json={"code": "x"}, headers=headers, timeout=10)
                        .status_code for _ in range(6) for url in (a, b)]
    finally:
        store = redis.Redis.from_url(REDIS)
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)
        store.close()
    assert statuses == [400] * 10 + [429] * 2
