"""The pages' foundation through Flask's test client: headers, languages, sign-in, CSRF, kiosk cookies."""
import re
from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiosk import accounts, enrolment
from kiosk.models import AuditEvent, Complaint, User
from tests.conftest import luggage
from web import i18n

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_of(response) -> str:
    return CSRF.search(response.get_data(as_text=True)).group(1)


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture
def staff_user(app):
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        session.commit()


def sign_in(client, name="lin", password="lin-password"):
    token = csrf_of(client.get("/login"))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


@pytest.fixture
def kiosk_client(app):
    """A test browser enrolled as kiosk lobby-1 through its one-time link."""
    with app.extensions["kiosk.sessions"]() as session:
        secret = enrolment.invite(session, "lobby-1")
        session.commit()
    client = app.test_client()
    page = client.get(f"/kiosk/enrol/{secret}")
    assert page.status_code == 200 and "lobby-1" in page.get_data(as_text=True)
    done = client.post(f"/kiosk/enrol/{secret}", data={"csrf_token": csrf_of(page)})
    assert (done.status_code, done.headers["Location"]) == (303, "/kiosk")
    client.secret = secret
    client.cookie_header = done.headers["Set-Cookie"]
    return client


def test_every_answer_carries_the_security_headers(client):
    for path in ("/", "/login", "/kiosk", "/api/v1/health"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=(self)" in headers["Permissions-Policy"]


def test_the_same_headers_every_time_and_hsts_only_over_https(database_url, tmp_path, monkeypatch):
    """The headers are worked out once per view (web/security._Talisman): the second answer of a
    view carries what the first did, and HSTS still follows each request, not the first one."""
    from web import create_app

    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x" * 32, "HTTPS": True})
    client = app.test_client()
    plain = [client.get("/api/v1/health/live", base_url="https://desk.example").headers for _ in range(2)]
    proxied = client.get("/api/v1/health/live", headers={"X-Forwarded-Proto": "https"}).headers
    assert plain[0]["Strict-Transport-Security"].startswith("max-age=") and proxied["Strict-Transport-Security"]
    assert plain[0] == plain[1] and "frame-ancestors 'none'" in plain[1]["Content-Security-Policy"]
    over_http = client.get("/api/v1/health/live", headers={"X-Forwarded-Proto": "ftp"}).headers
    assert "Strict-Transport-Security" not in over_http and over_http["X-Frame-Options"] == "DENY"
    app.extensions["kiosk.engine"].dispose()


def test_each_security_header_once_and_talismans_wins_over_a_views_own(app, client):
    """The headers are appended to an answer that has none of them, and replace a view's own, as
    Flask-Talisman always did: never two of one."""
    from flask import Response

    app.add_url_rule("/framed", "framed", lambda: Response("x", headers={"X-Frame-Options": "SAMEORIGIN"}))
    for answer in (client.get("/api/v1/health/live"), client.get("/api/v1/health/live"), client.get("/framed"),
                   client.get("/login")):
        names = [name.lower() for name, _ in answer.headers]
        assert all(names.count(name) == 1 for name in ("content-security-policy", "x-frame-options",
                                                       "x-content-type-options", "referrer-policy",
                                                       "permissions-policy")), names
        assert answer.headers["X-Frame-Options"] == "DENY"


def test_https_is_forced_only_where_the_site_says_so(database_url, tmp_path, monkeypatch):
    """web/security._Talisman looks at the request only on a site served over HTTPS."""
    from web import create_app

    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    apps = [create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "x" * 32, "HTTPS": https})
            for https in (True, False)]
    secure, plain = (app.test_client() for app in apps)
    moved = secure.get("/login", base_url="http://desk.example")
    assert moved.status_code in (301, 302) and moved.headers["Location"] == "https://desk.example/login"
    assert secure.get("/login", base_url="https://desk.example").status_code == 200
    assert secure.get("/login", headers={"X-Forwarded-Proto": "https"}).status_code == 200
    assert plain.get("/login", base_url="http://desk.example").status_code == 200
    for app in apps:
        app.extensions["kiosk.engine"].dispose()


def test_a_bearer_call_of_the_api_has_no_session_and_a_page_has_one(api, client, staff_user):
    """web/security._CookieSessions: a bearer-token call of the API reads and writes no cookie,
    even one the caller sends, and its answer does not vary by cookie; a page, and the API
    called from a signed-in page, still have theirs."""
    client.set_cookie("session", "left-over")
    answer = api.post("/items", json=luggage())
    assert answer.status_code == 201 and "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")
    page = client.get("/login")
    assert page.status_code == 200 and any(c.startswith("session=") for c in page.headers.getlist("Set-Cookie"))
    sign_in(client)
    from_page = client.get(f"/api/v1/items/{answer.get_json()['id']}")
    assert from_page.status_code == 200 and "Cookie" in from_page.headers["Vary"]


def test_a_token_client_of_the_api_skips_the_browsers_hooks_and_a_page_runs_them(api, client, staff_user,
                                                                                 monkeypatch):
    """web/security._for_browsers_only: the browser's hooks (CSRF check, idle session, CSP nonce,
    remember-me cookie) are not run for a call with an Authorization header under /api/; for a
    page, and for the API called from a page, they are. Two of them are watched here (the CSRF
    check and the idle session's clock). Every answer keeps its security headers."""
    from flask_wtf.csrf import CSRFProtect

    import web.security

    ran = []
    real_exempt = CSRFProtect._is_exempt
    monkeypatch.setattr(CSRFProtect, "_is_exempt", lambda self: ran.append("csrf") or real_exempt(self))
    real_now = web.security.now
    monkeypatch.setattr(web.security, "now", lambda: ran.append("idle") or real_now())

    client.set_cookie("session", "left-over")
    answer = api.post("/items", json=luggage())
    assert answer.status_code == 201 and ran == []
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and "frame-ancestors" in answer.headers[
        "Content-Security-Policy"]
    basic = client.get("/api/v1/items", headers={"Authorization": "Basic bGluOmxpbg=="})
    assert basic.status_code == 401 and ran == []   # any Authorization header: the token alone decides
    sign_in(client)
    ran.clear()
    from_page = client.post("/api/v1/scans", json={"code": answer.get_json()["tag_code"]})
    assert from_page.get_json()["error"]["code"] == "csrf_failed"
    assert {"csrf", "idle"} <= set(ran)
    ran.clear()
    page = client.get("/")
    assert page.status_code == 200 and {"csrf", "idle"} <= set(ran)


def test_an_unknown_address_is_a_page_or_the_apis_answer(client):
    page = client.get("/no-such-page", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 404 and "没有这个页面" in page.get_data(as_text=True)
    assert 'value="en"' in page.get_data(as_text=True)  # the language switch is there too
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_pages_have_no_inline_script_or_style(client, kiosk_client):
    pages = [client.get("/"), client.get("/login"), kiosk_client.get("/kiosk"), kiosk_client.get("/kiosk/request")]
    for page in pages:
        html = page.get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
        assert all(body == "" for attrs, body in scripts if "src=" in attrs)
        assert " style=" not in html and "<style" not in html and " on" + "click=" not in html


@pytest.mark.parametrize("header, expected", [
    (None, "zh-Hans"), ("zh-CN,zh;q=0.9", "zh-Hans"), ("zh", "zh-Hans"), ("zh-Hans-CN", "zh-Hans"),
    ("zh-Hans", "zh-Hans"), ("zh-TW", "zh-Hans"), ("en-GB,en;q=0.8", "en"), ("fr-FR, en;q=0.5", "en"),
    ("fr-FR", "zh-Hans"), ("en;q=0.4, zh-CN;q=0.9", "zh-Hans"), ("*", "zh-Hans"),
])
def test_accept_language_picks_the_page_language(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    assert html_lang(client.get("/login", headers=headers)) == expected


def test_the_language_switch_is_remembered_and_goes_back_to_the_page(client):
    page = client.get("/login")
    assert "员工登录" in page.get_data(as_text=True) and 'value="en"' in page.get_data(as_text=True)
    switched = client.post("/language", data={"lang": "en", "next": "/login?next=/", "csrf_token": csrf_of(page)})
    assert (switched.status_code, switched.headers["Location"]) == (303, "/login?next=/")
    assert "kiosk_lang=en" in switched.headers["Set-Cookie"] and "Max-Age=31536000" in switched.headers["Set-Cookie"]
    again = client.get("/login", headers={"Accept-Language": "zh-CN"})
    assert html_lang(again) == "en" and "Staff sign-in" in again.get_data(as_text=True)
    assert 'aria-pressed="true">English' in again.get_data(as_text=True)

    token = csrf_of(again)
    assert client.post("/language", data={"lang": "en", "next": "https://evil.example/",
                                           "csrf_token": token}).headers["Location"] == "/"
    assert client.post("/language", data={"lang": "en", "next": "//evil.example/x",
                                           "csrf_token": token}).headers["Location"] == "/"
    assert client.post("/language", data={"lang": "klingon", "csrf_token": token}).status_code == 400
    refused = client.post("/language", data={"lang": "zh_Hans", "next": "/"})
    assert refused.status_code == 400 and "csrf" not in refused.headers.get("Set-Cookie", "")


def test_every_page_text_is_translated():
    with (i18n.TRANSLATIONS / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
    root = i18n.TRANSLATIONS.parents[2]
    found = {message for _file, _line, message, _comments, _context in
             extract_from_dir(root, method_map, keywords={"_": None, "_l": None, "gettext": None})}
    missing = [m for m in found if isinstance(m, str) and not (catalogue.get(m) and catalogue.get(m).string)]
    assert missing == []
    assert not [m.id for m in catalogue if m.id and m.fuzzy]


def test_staff_sign_in_and_out(client, staff_user):
    assert client.get("/").status_code == 200
    wrong_password = sign_in(client, password="nope")
    unknown_user = sign_in(client, name="nobody")
    assert wrong_password.status_code == unknown_user.status_code == 422
    assert "姓名或密码不正确。" in wrong_password.get_data(as_text=True)
    assert "姓名或密码不正确。" in unknown_user.get_data(as_text=True)

    signed = sign_in(client)
    assert (signed.status_code, signed.headers["Location"]) == (302, "/")
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/")
    assert "已登录：lin（前台员工）" in home.get_data(as_text=True)

    assert client.post("/logout").status_code == 400  # no CSRF token
    assert "已登录" in client.get("/").get_data(as_text=True)
    out = client.post("/logout", data={"csrf_token": csrf_of(home)})
    assert out.headers["Location"] == "/login"
    assert "您已退出登录。" in client.get("/login").get_data(as_text=True)
    assert "已登录" not in client.get("/").get_data(as_text=True)


def test_sign_in_goes_back_only_to_this_site(client, staff_user):
    token = csrf_of(client.get("/login"))
    back = client.post("/login", data={"name": "lin", "password": "lin-password", "next": "/kiosk",
                                       "csrf_token": token})
    assert back.headers["Location"] == "/kiosk"
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/"))})
    token = csrf_of(client.get("/login"))
    away = client.post("/login", data={"name": "lin", "password": "lin-password", "next": "https://evil.example",
                                       "csrf_token": token})
    assert away.headers["Location"] == "/"


def test_a_form_without_its_csrf_token_is_refused_calmly(client, staff_user):
    refused = client.post("/login", data={"name": "lin", "password": "lin-password"})
    assert refused.status_code == 400
    assert "为保障安全，表单没有提交。" in refused.get_data(as_text=True)
    assert "已登录" not in client.get("/").get_data(as_text=True)


@pytest.fixture
def clock(app):
    now = {"now": datetime(2026, 5, 1, 9, tzinfo=UTC)}
    app.config["CLOCK"] = lambda: now["now"]

    def advance(**delta):
        now["now"] += timedelta(**delta)

    return advance


def signed_in(client) -> bool:
    return "已登录" in client.get("/").get_data(as_text=True)


def test_a_session_ends_after_thirty_idle_minutes(client, staff_user, clock):
    sign_in(client)
    for _ in range(3):  # each visit renews the idle time
        clock(minutes=25)
        assert signed_in(client)
    clock(minutes=31)
    page = client.get("/").get_data(as_text=True)
    assert "已登录" not in page and "长时间未操作，您已自动退出，请重新登录。" in page


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(client, staff_user, clock):
    sign_in(client)
    for _ in range(28):  # 11 h 40 min of steady use
        clock(minutes=25)
        assert signed_in(client)
    clock(minutes=25)
    assert not signed_in(client)


def test_a_new_password_ends_the_old_sessions(app, client, staff_user):
    sign_in(client)
    assert "已登录" in client.get("/").get_data(as_text=True)
    with app.extensions["kiosk.sessions"]() as session:
        from kiosk import passwords

        user = session.query(User).filter_by(name="lin").one()
        user.password_hash = passwords.hash_password("new-password")
        session.commit()
    assert "已登录" not in client.get("/").get_data(as_text=True)


def test_a_page_calls_the_api_with_its_session_and_a_csrf_token(client, staff_user, api):
    body = api.post("/items", json=luggage()).get_json()
    sign_in(client)
    token = csrf_of(client.get("/"))
    refused = client.post("/api/v1/scans", json={"code": body["tag_code"]})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    answer = client.post("/api/v1/scans", json={"code": body["tag_code"]}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.get_json()["item"]["owner"]["name"] == "张伟"
    assert client.get(f"/api/v1/items/{body['id']}").status_code == 200  # reading needs no token
    # A bearer token needs no CSRF token: no browser sends an Authorization header by itself.
    assert api.post("/scans", json={"code": body["tag_code"]}).status_code == 200


def test_the_api_answers_a_page_in_the_pages_language(kiosk_client, api):
    token = csrf_of(kiosk_client.get("/kiosk"))
    forged = {"code": "K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS"}
    answer = kiosk_client.post("/api/v1/scans", json=forged, headers={"X-CSRFToken": token})
    assert answer.get_json()["error"] == {"code": "unknown_code", "message": "本前台无法识别此二维码。"}
    kiosk_client.post("/language", data={"lang": "en", "next": "/kiosk", "csrf_token": token})
    answer = kiosk_client.post("/api/v1/scans", json=forged, headers={"X-CSRFToken": token})
    assert answer.get_json()["error"]["message"] == "This code is not known at this desk."
    # A program with a bearer token gets English unless its Accept-Language asks otherwise.
    assert api.post("/scans", role="kiosk", json=forged).get_json()["error"]["message"] == (
        "This code is not known at this desk.")
    asked = api.post("/scans", role="kiosk", json=forged, headers={"Accept-Language": "zh-CN"})
    assert asked.get_json()["error"]["message"] == "本前台无法识别此二维码。"


def test_enrolment_binds_the_browser_to_the_kiosk_once(app, kiosk_client, api):
    cookie = kiosk_client.cookie_header
    assert cookie.startswith("kiosk_device=kd_")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=31536000" in cookie
    screen = kiosk_client.get("/kiosk")
    assert screen.status_code == 200 and "请扫描您的领取凭条" in screen.get_data(as_text=True)

    reused = app.test_client().get(f"/kiosk/enrol/{kiosk_client.secret}")
    assert reused.status_code == 410 and "此链接无法使用" in reused.get_data(as_text=True)
    stranger = app.test_client()
    assert stranger.get("/kiosk").status_code == 403
    token = csrf_of(stranger.get("/"))
    assert stranger.post(f"/kiosk/enrol/{kiosk_client.secret}", data={"csrf_token": token}).status_code == 410
    assert stranger.get_cookie("kiosk_device") is None


def test_the_kiosk_scans_as_its_device_and_sees_only_a_summary(app, kiosk_client, api, session):
    body = api.post("/items", json=luggage()).get_json()
    token = csrf_of(kiosk_client.get("/kiosk"))
    assert kiosk_client.post("/api/v1/scans", json={"code": body["stub_code"]}).status_code == 400
    answer = kiosk_client.post("/api/v1/scans", json={"code": body["stub_code"]}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    assert answer.get_json()["item"] == {"ticket_no": "A-0001", "kind": "luggage", "status": "held",
                                         "owner": {"unit": "12-0301", "name": "张*"},
                                         "deposited_at": answer.get_json()["item"]["deposited_at"]}
    scans = session.query(AuditEvent).filter_by(event="scan").all()
    assert [(s.actor, s.actor_role, s.device) for s in scans] == [("kiosk:lobby-1", "kiosk", "lobby-1")]
    session.rollback()
    # The cookie makes the browser a kiosk, which may only scan.
    assert kiosk_client.post(f"/api/v1/items/{body['id']}/move", json={"location": "storeroom"},
                             headers={"X-CSRFToken": token}).status_code == 403
    fresh = kiosk_client.get("/kiosk/token")
    assert fresh.status_code == 200 and fresh.headers["Cache-Control"] == "no-store"


def test_a_withdrawn_kiosk_is_a_stranger(app, kiosk_client, session):
    token = csrf_of(kiosk_client.get("/kiosk"))
    enrolment.withdraw(session, "lobby-1")
    session.commit()
    assert kiosk_client.get("/kiosk").status_code == 403
    denied = kiosk_client.post("/api/v1/scans", json={"code": "x"}, headers={"X-CSRFToken": token})
    assert denied.status_code == 401 and denied.get_json()["error"]["code"] == "unauthorized"
    assert kiosk_client.get("/kiosk/token").status_code == 401


def complaint(**overrides):
    form = {"kind": "repair", "category": "equipment", "unit": "12-0301", "name": "张伟", "phone": "138 1234 5678",
            "text": "电梯按钮不亮"}
    form.update(overrides)
    return form


def test_a_resident_files_a_complaint_at_the_kiosk(kiosk_client, session):
    page = kiosk_client.get("/kiosk/request")
    assert page.status_code == 200 and "设备管理" in page.get_data(as_text=True)
    token = csrf_of(page)
    # The API's own rules and the catalogue's sentences, in the page's language.
    for bad, message in [({"phone": "call me"}, "联系电话 不是有效的电话号码。"),
                         ({"name": "王 110101199003071234"}, "您的姓名 疑似身份证或护照号码"),
                         ({"name": "王 13812345678"}, "您的姓名 疑似身份证或护照号码"),
                         ({"text": "我的身份证 110101199003071234 丢了"}, "疑似身份证或护照号码"),
                         ({"text": "  "}, "请说明发生了什么或您需要什么 为必填项。"),
                         ({"unit": "1\x00"}, "房号（楼栋-房间） 含有控制字符。"),
                         ({"category": "aliens"}, "类别 只能是")]:
        refused = kiosk_client.post("/kiosk/request", data={**complaint(**bad), "csrf_token": token})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    assert kiosk_client.post("/kiosk/request", data=complaint()).status_code == 400
    filed = kiosk_client.post("/kiosk/request", data={**complaint(), "csrf_token": token})
    assert filed.status_code == 303
    thanks = kiosk_client.get(filed.headers["Location"])
    assert "您的编号是 1" in thanks.get_data(as_text=True)
    row = session.query(Complaint).one()
    assert (row.kind, row.category, row.unit, row.name, row.contact, row.content) == (
        "repair", "equipment", "12-0301", "张伟", "138 1234 5678", "电梯按钮不亮")
    assert (row.channel, row.taken_by, row.device, row.language, row.state, row.owner_id) == (
        "kiosk", "kiosk:lobby-1", "lobby-1", "zh_Hans", "received", None)


def test_only_an_enrolled_kiosk_takes_complaints(client):
    assert client.get("/kiosk/request").status_code == 403
    assert client.get("/kiosk/request/1").status_code == 403
