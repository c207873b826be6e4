"""The lobby kiosk in a real browser (Debian's chromium through Playwright), as a resident meets it.

Browser flows are slow, so they run once per CI run, on the SQLite pass; the event
channel between app servers, which needs PostgreSQL, has its own browser test in
test_live_events_browser.py.
"""

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from scanning import synth
from tests.conftest import POSTGRES_URL, TEST_SECRET, key_deposit, luggage
from tests.e2e.browser import enrol, screenshot, serious_violations, watch_console, write_y4m
from tests.e2e.conftest import CHROMIUM_FLAGS
from tests.e2e.test_scan_printed_labels import printed_label, printed_part
from tests.live import EventStream, serve
from web.cli import main

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(POSTGRES_URL is not None, reason="browser flows run once per CI run, on the SQLite pass"),
]


@pytest.fixture
def site(app):
    app.config.update(KIOSK_RESULT_SECONDS=3, EVENT_HEARTBEAT_SECONDS=1)
    with serve(app) as url:
        yield url
        app.extensions["kiosk.events"].close()


@pytest.fixture
def cli_env(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    monkeypatch.setenv("KIOSK_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("KIOSK_SECRET_KEY", TEST_SECRET)


@pytest.fixture
def kiosk(site, app, page):
    """A browser enrolled as kiosk lobby-1, on its welcome screen."""
    page.console_errors = watch_console(page)
    enrol(page, site, app)
    expect(page.locator("#state-idle")).to_be_visible()
    yield page
    assert page.console_errors == []


def wedge_scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: type the code and Enter, wherever the focus is."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def focused(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_enrol_a_kiosk_and_wedge_scan_a_stub(app, site, page, api, tokens, cli_env):
    errors = watch_console(page)
    made = CliRunner().invoke(main, ["token", "create", "--kiosk", "lobby-1", "--enrol", "--url", site])
    url = made.output.strip()
    page.goto(url)
    expect(page.locator("h1")).to_have_text("将本屏幕设置为自助终端 lobby-1")
    screenshot(page, "kiosk-enrol")
    page.click("#enrol")
    page.wait_for_url(f"{site}/kiosk")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    expect(page.locator("#idle-title")).to_have_text("请扫描您的领取凭条")
    assert focused(page) == "code"  # the scanner works without anyone touching the screen
    assert serious_violations(page) == []
    screenshot(page, "kiosk-idle")

    desk = EventStream(site, {"Authorization": f"Bearer {tokens['staff']}"})
    try:
        body = api.post("/items", json=luggage()).get_json()
        wedge_scan(page, body["stub_code"])
        expect(page.locator("#ticket-no")).to_have_text("A-0001")
        expect(page.locator("#ticket-kind")).to_have_text("行李")
        expect(page.locator("#ticket-name")).to_have_text("张*")
        expect(page.locator("#ticket-unit")).to_have_text("12-0301")
        expect(page.locator("#next-bring")).to_be_visible()
        expect(page.locator("#next-collect")).to_be_hidden()
        assert serious_violations(page) == []
        screenshot(page, "kiosk-ticket")
        _, pending, _ = desk.next("pending_pickup")
        assert (pending["ticket_no"], pending["owner"], pending["device"]) == (
            "A-0001", {"unit": "12-0301", "name": "张*"}, "lobby-1")
    finally:
        desk.close()
    expect(page.locator("#state-idle")).to_be_visible(timeout=8000)  # back to the welcome screen by itself
    assert focused(page) == "code"
    assert page.context.new_page().goto(url).status == 410  # the link is spent
    assert errors == []


def test_the_browser_camera_reads_a_printed_stub(app, site, api, browser_type, browser_type_launch_args, tmp_path):
    body = api.post("/keys", json=key_deposit()).get_json()
    png = printed_label(app, body["id"])
    stub = printed_part(png, body["stub_code"])
    rng = np.random.default_rng(21)
    frames = [synth.empty(rng).image for _ in range(2)]
    frames += [synth.photograph(body["stub_code"], "clean", rng, source=stub).image for _ in range(4)]
    video = tmp_path / "stub.y4m"
    write_y4m(video, frames)

    camera_flags = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-video-capture={video}"]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": CHROMIUM_FLAGS + camera_flags})
    try:
        page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
        errors = watch_console(page)
        enrol(page, site, app)
        page.click("#camera-start")
        expect(page.locator("#camera")).to_be_visible()
        expect(page.locator("#ticket-no")).to_have_text("A-0001", timeout=20000)
        expect(page.locator("#ticket-kind")).to_have_text("钥匙")
        expect(page.locator("#next-collect")).to_be_visible()
        screenshot(page, "kiosk-camera-ticket")
        expect(page.locator("#camera")).to_be_hidden()  # the camera is off once it has read a stub
        assert errors == []
    finally:
        browser.close()
    scans = api.get(f"/items/{body['id']}/events", role="supervisor").get_json()["events"]
    assert [(e["event"], e["device"]) for e in scans if e["event"] == "scan"][:1] == [("scan", "lobby-1")]


def test_revoked_unknown_and_used_stubs(kiosk, api):
    lost = api.post("/items", json=luggage()).get_json()
    api.post(f"/items/{lost['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟", "reissue": True})
    wedge_scan(kiosk, lost["stub_code"])
    expect(kiosk.locator("#state-wait h1")).to_have_text("请稍候，工作人员将为您处理。")  # the catalogue's words
    expect(kiosk.locator("#state-wait")).not_to_contain_text("A-0001")
    screenshot(kiosk, "kiosk-please-wait")
    alerts = api.get("/alerts", role="security").get_json()["alerts"]
    assert [(a["kind"], a["device"]) for a in alerts] == [("revoked_stub_presented", "lobby-1")]

    wedge_scan(kiosk, "K1S-2BX-0-7Q2MABCDEFGHJKMNPQRS")
    expect(kiosk.locator("#error-text")).to_have_text(
        "本前台无法识别此二维码。请扫描您领到的领取凭条，或到前台咨询。")
    screenshot(kiosk, "kiosk-not-recognised")
    kiosk.click("#state-error .done")
    expect(kiosk.locator("#state-idle")).to_be_visible()

    used = api.post("/keys", json=key_deposit()).get_json()
    api.post(f"/items/{used['id']}/release", json={"tag_code": used["tag_code"], "stub_code": used["stub_code"]})
    wedge_scan(kiosk, used["stub_code"])
    expect(kiosk.locator("#state-used h1")).to_have_text("此凭条已使用过")
    screenshot(kiosk, "kiosk-stub-used")
    wedge_scan(kiosk, used["tag_code"])
    expect(kiosk.locator("#state-used h1")).to_be_hidden()


def test_the_language_switch_is_on_every_page_and_remembered(kiosk, site):
    kiosk.get_by_role("button", name="English").click()
    expect(kiosk.locator("#idle-title")).to_have_text("Scan your claim stub")
    assert kiosk.url == f"{site}/kiosk" and kiosk.locator("html").get_attribute("lang") == "en"
    screenshot(kiosk, "kiosk-idle-en")
    kiosk.reload()
    expect(kiosk.locator("#idle-title")).to_have_text("Scan your claim stub")
    kiosk.goto(f"{site}/login")
    expect(kiosk.locator("h1")).to_have_text("Staff sign-in")
    kiosk.get_by_role("button", name="中文").click()
    expect(kiosk.locator("h1")).to_have_text("员工登录")
    kiosk.goto(f"{site}/kiosk")
    expect(kiosk.locator("#idle-title")).to_have_text("请扫描您的领取凭条")


def test_scans_by_the_hosts_camera_loop_appear_on_its_screen(app, kiosk, site, api, tokens, tmp_path):
    body = api.post("/items", json=luggage()).get_json()
    png = printed_label(app, body["id"])
    stub = printed_part(png, body["stub_code"])
    photo = synth.photograph(body["stub_code"], "glare", np.random.default_rng(5), source=stub).image
    path = tmp_path / "stub.jpg"
    path.write_bytes(cv2.imencode(".jpg", photo)[1].tobytes())
    expect(kiosk.locator("#kiosk")).to_have_attribute("data-live", "open")
    result = CliRunner().invoke(main, ["scan", "--image", str(path), "--server", site, "--token", tokens["kiosk"]],
                                catch_exceptions=False)
    assert "A-0001 stub: present_at_desk" in result.output
    expect(kiosk.locator("#ticket-no")).to_have_text("A-0001")
    expect(kiosk.locator("#next-bring")).to_be_visible()


def test_the_screen_waits_calmly_and_recovers_when_the_server_comes_back(app, page, api):
    app.config.update(KIOSK_RESULT_SECONDS=3, EVENT_HEARTBEAT_SECONDS=1)
    body = api.post("/items", json=luggage()).get_json()
    errors = watch_console(page)
    with serve(app) as site:
        enrol(page, site, app)
        port = int(site.rsplit(":", 1)[1])
        app.extensions["kiosk.events"].close()
    # The server is gone; a resident scans anyway.
    wedge_scan(page, body["stub_code"])
    expect(page.locator("#trouble-text")).to_have_text("暂时无法连接前台系统，正在重试…")
    screenshot(page, "kiosk-trouble")
    with serve(app, port=port):
        expect(page.locator("#ticket-no")).to_have_text("A-0001", timeout=15000)
        app.extensions["kiosk.events"].close()
    assert errors == []


def test_the_login_page(site, page, app, api):
    from kiosk import accounts

    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        session.commit()
    errors = watch_console(page)
    page.goto(f"{site}/login")
    assert serious_violations(page) == []
    screenshot(page, "login")
    page.get_by_label("姓名").fill("lin")
    page.get_by_label("密码").fill("wrong")
    page.get_by_role("button", name="登录").click()
    expect(page.locator(".error")).to_have_text("姓名或密码不正确。")
    assert serious_violations(page) == []
    page.get_by_label("密码").fill("lin-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("main")).to_contain_text("已登录：lin（前台员工）")
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator(".flash")).to_have_text("您已退出登录。")
    assert errors == []


def test_a_resident_files_a_request_at_the_kiosk(kiosk, site, session):
    kiosk.get_by_role("link", name="投诉与求助").click()
    expect(kiosk.locator("h1")).to_have_text("投诉与求助")
    assert serious_violations(kiosk) == []
    kiosk.get_by_label("报修").check()
    kiosk.get_by_label("类别").select_option("equipment")
    kiosk.get_by_label("房号（楼栋-房间）").fill("12-0301")
    kiosk.get_by_label("您的姓名").fill("张伟")
    kiosk.get_by_label("联系电话").fill("13812345678")
    kiosk.get_by_label("请说明发生了什么或您需要什么").fill("12 号楼电梯按钮不亮")
    screenshot(kiosk, "kiosk-request")
    kiosk.get_by_role("button", name="提交").click()
    expect(kiosk.locator("main")).to_contain_text("您的编号是 1")
    screenshot(kiosk, "kiosk-request-filed")
    kiosk.wait_for_url(f"{site}/kiosk", timeout=8000)  # the thank-you page returns to the start by itself
    from kiosk.models import Complaint

    assert [(c.kind, c.category, c.device) for c in session.query(Complaint)] == [("repair", "equipment", "lobby-1")]
