"""The desk's keys and mail pages, owner suggestions and pending pickups through Flask's test client."""
import json
from datetime import UTC, datetime, timedelta

import pytest

from kiosk import accounts, ledger, residents
from kiosk.models import AuditEvent, Item, KeyLoan, Notification, PrintJob
from kiosk.values import Actor, ResidentForm
from tests.conftest import luggage
from tests.web.test_desk_pages import DEPOSIT, post_deposit
from tests.web.test_pages import csrf_of, sign_in
from web.auth import desk as desk_of


def shanghai(hour: int, minute: int = 0) -> datetime:
    """A desk wall-clock time on 24 Nov 2026 (the app's default zone, Asia/Shanghai), as UTC."""
    return datetime(2026, 11, 24, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.fixture
def clock(app):
    """The app's clock (web.security.now) held at a time a test sets, never the real one."""
    now = {"now": shanghai(10)}
    app.config["CLOCK"] = lambda: now["now"]

    def set_to(when: datetime) -> datetime:
        now["now"] = when
        return when

    return set_to


@pytest.fixture
def staff(app):
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "lin", "staff", password="lin-password")
        accounts.add_user(session, "mei", "staff", password="mei-password")
        accounts.add_user(session, "wang", "supervisor", password="wang-password")
        residents.add(session, Actor(name="admin-1", role="admin"),
                      ResidentForm("12-0301", "张伟", "13812345678", email="zhang.wei@example.com"))
        residents.add(session, Actor(name="admin-1", role="admin"), ResidentForm("12-0301", "张丽", "13700001234"))
        session.commit()


@pytest.fixture
def desk_client(app, client, staff, clock):
    sign_in(client)
    return client


def post(client, path, page, language="en", **data):
    token = csrf_of(client.get(page, headers={"Accept-Language": language}))
    return client.post(path, data={**data, "csrf_token": token}, headers={"Accept-Language": language})


# --- owner suggestions (issue 12: a returning resident in under 30 seconds) ---

def test_the_units_known_owners_are_suggested_with_masked_phones(app, api, desk_client):
    api.post("/items", json=luggage(owner={"unit": "12-0301", "name": "王芳", "phone": "13900005678"}))
    answer = desk_client.get("/desk/owners", query_string={"unit": "12-0301"})
    owners = answer.get_json()["owners"]
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert [(o["name"], o["phone_masked"], o["source"]) for o in owners] == [
        ("张伟", "138****5678", "register"), ("张丽", "137****1234", "register"), ("王芳", "139****5678", "deposit")]
    body = answer.get_data(as_text=True)
    assert "13812345678" not in body and "13900005678" not in body
    by_name = desk_client.get("/desk/owners", query_string={"unit": "12-0301", "name": "张"}).get_json()["owners"]
    assert [o["name"] for o in by_name] == ["张伟", "张丽"]
    # Only a whole unit finds anyone: the register cannot be walked by typing "1".
    assert desk_client.get("/desk/owners", query_string={"unit": "12"}).get_json()["owners"] == []


def test_the_owner_suggestions_are_for_desk_staff_only(app, client, staff):
    assert client.get("/desk/owners?unit=12-0301").status_code == 302  # to the sign-in page
    with app.extensions["kiosk.sessions"]() as session:
        accounts.add_user(session, "guard", "security", password="guard-password")
        session.commit()
    sign_in(client, "guard", "guard-password")
    assert client.get("/desk/owners?unit=12-0301").status_code == 403


def test_a_picked_owners_phone_comes_from_the_register_untyped(app, desk_client):
    ref = desk_client.get("/desk/owners?unit=12-0301&name=张伟").get_json()["owners"][0]["ref"]
    done = post(desk_client, "/desk", "/desk", **{**DEPOSIT, "owner_phone": "", "owner_ref": ref})
    assert done.status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Item).one().owner_phone == "13812345678"


def test_a_reference_to_someone_else_gives_no_phone(app, desk_client):
    ref = desk_client.get("/desk/owners?unit=12-0301&name=张丽").get_json()["owners"][0]["ref"]
    # Staff picked 张丽 and then typed another name: her phone must not go with 张伟's bag.
    page = post(desk_client, "/desk", "/desk", **{**DEPOSIT, "owner_phone": "", "owner_ref": ref})
    assert page.status_code == 422 and "137****1234" not in page.get_data(as_text=True)
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Item).count() == 0


def test_a_refused_deposit_keeps_a_picked_owner_by_reference(desk_client):
    ref = desk_client.get("/desk/owners?unit=12-0301&name=张伟").get_json()["owners"][0]["ref"]
    page = post(desk_client, "/desk", "/desk", **{**DEPOSIT, "owner_phone": "", "owner_ref": ref,
                                                  "declared": ["cash"]})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and f'value="{ref}"' in html and "138****5678" in html
    assert "13812345678" not in html


# --- no full phone number echoed back (issue 12) ---

@pytest.mark.parametrize("language,retype", [
    ("en", "For privacy the number is not shown again: please type Owner&#39;s phone again."),
    ("zh-CN", "为保护隐私不再显示号码：请重新填写寄存人电话。"),
])
def test_a_form_shown_again_never_carries_a_typed_phone(desk_client, language, retype):
    page = post(desk_client, "/desk", "/desk", language=language,
                **{**DEPOSIT, "declared": ["valuables"], "collector_name": "李娜", "collector_phone": "13698765432"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "13812345678" not in html and "13698765432" not in html
    assert retype in html
    assert 'value="12-0301"' in html and 'value="李娜"' in html  # the rest is kept


def test_the_deposit_form_takes_no_keys_parcels_or_mail(desk_client):
    html = desk_client.get("/desk").get_data(as_text=True)
    assert 'value="luggage"' in html and 'value="short_term"' in html
    assert 'value="key"' not in html and 'value="parcel"' not in html
    page = post(desk_client, "/desk", "/desk", **{**DEPOSIT, "kind": "key"})
    assert page.status_code == 422
    assert page.get_data(as_text=True).count('aria-invalid="true"') >= 1


# --- pending pickups taken in hand (issue 12) ---

def test_a_pending_pickup_is_taken_in_hand_by_one_clerk(app, api, client, desk_client):
    body = api.post("/items", json=luggage()).get_json()
    assert api.post("/scans", role="kiosk", json={"code": body["stub_code"]}).status_code == 200
    page = desk_client.get("/desk", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f'/desk/pickups/{body["id"]}/in-hand' in page
    taken = post(desk_client, f"/desk/pickups/{body['id']}/in-hand", "/desk")
    assert taken.status_code == 303
    page = desk_client.get("/desk", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Fetch A-0001 from Basement storeroom." in page and "lin is fetching it" in page
    assert f'/desk/pickups/{body["id"]}/in-hand' not in page
    # The same clerk again: nothing new. Another clerk: told who has it.
    assert post(desk_client, f"/desk/pickups/{body['id']}/in-hand", "/desk").status_code == 303

    other = app.test_client()
    sign_in(other, "mei", "mei-password")
    refused = post(other, f"/desk/pickups/{body['id']}/in-hand", "/desk")
    page = other.get(refused.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "lin is already fetching A-0001." in page
    with app.extensions["kiosk.sessions"]() as session:
        taken = session.query(AuditEvent).filter_by(event="in_hand").all()
        assert [(e.actor, json.loads(e.details)["ticket_no"]) for e in taken] == [("lin", "A-0001")]


def test_only_a_pickup_someone_waits_for_is_taken_in_hand(app, api, desk_client):
    body = api.post("/items", json=luggage()).get_json()
    refused = post(desk_client, f"/desk/pickups/{body['id']}/in-hand", "/desk")
    page = desk_client.get(refused.headers["Location"], headers={"Accept-Language": "en"})
    assert "Nobody is waiting at the kiosk for A-0001 now." in page.get_data(as_text=True)
    assert post(desk_client, "/desk/pickups/99999/in-hand", "/desk").status_code == 404
    token = csrf_of(desk_client.get("/desk"))
    assert desk_client.post(f"/desk/pickups/{body['id']}/in-hand", data={}).status_code == 400
    del token


# --- keys (issue 13) ---

KEY = {"owner_unit": "5-2201", "owner_name": "陈静", "owner_phone": "13611112222", "key_kind": "unit_key",
       "description": "单元门钥匙 2 把", "cabinet_slot": "hook 12", "consent_by": "陈静", "consent_channel": "signature"}
LOAN = {"key": "A-0001", "borrower_name": "王师傅", "borrower_phone": "13900001111", "borrower_company": "安居维修",
        "purpose": "厨房漏水维修", "due_back": "10:20"}


def test_a_key_is_taken_in_with_consent_lent_shown_overdue_and_returned(app, desk_client, clock):
    taken = post(desk_client, "/desk/keys", "/desk/keys", **KEY)
    assert taken.status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        key = session.query(Item).one()
        assert (key.kind, key.location, key.consent_by) == ("key", "key_cabinet", "陈静")
        assert session.query(PrintJob).filter_by(item_id=key.id).count() == 1  # the sealed envelope

    lent = post(desk_client, "/desk/keys/lend", "/desk/keys", **LOAN)
    assert lent.status_code == 303
    page = desk_client.get("/desk/keys", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A-0001 lent until 10:20." in page and "139****1111" in page and "13900001111" not in page
    assert 'data-overdue="false"' in page

    clock(shanghai(10, 25))  # (within the sign-in's 30 idle minutes, which run on the same clock)
    desk = desk_client.get("/desk", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Overdue: A-0001 (5-2201) lent to 王师傅 139****1111, due back 10:20" in desk
    assert 'data-overdue="true"' in desk_client.get("/desk/keys").get_data(as_text=True)

    with app.extensions["kiosk.sessions"]() as session:
        loan_id = session.query(KeyLoan).one().id
    # The whole number, to call about the late key: on that one answer, recorded.
    shown = post(desk_client, f"/desk/loans/{loan_id}/phone", "/desk/keys")
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "no-store"
    assert "13900001111" in shown.get_data(as_text=True)
    assert "13900001111" not in desk_client.get("/desk/keys").get_data(as_text=True)
    with app.extensions["kiosk.sessions"]() as session:
        reveal = session.query(AuditEvent).filter_by(event="reveal").one()
        assert (reveal.actor, json.loads(reveal.details)["field"]) == ("lin", "borrower.phone")
    back = post(desk_client, f"/desk/loans/{loan_id}/return", "/desk/keys")
    assert back.status_code == 303
    page = desk_client.get("/desk/keys", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A-0001 is back in the key cabinet." in page and "No key is lent out." in page
    again = post(desk_client, f"/desk/loans/{loan_id}/return", "/desk/keys")
    assert again.status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(AuditEvent).filter_by(event="key_return").count() == 1


def test_a_loan_over_twelve_hours_is_refused_unless_a_supervisor_approves(app, client, desk_client, clock):
    due = "23:30"
    clock(shanghai(8))
    post(desk_client, "/desk/keys", "/desk/keys", **KEY)
    refused = post(desk_client, "/desk/keys/lend", "/desk/keys", **{**LOAN, "due_back": due})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-code="loan_too_long"' in html
    assert "13900001111" not in html  # the borrower's phone is asked again, not shown
    # A clerk cannot approve it: the field is not even offered.
    assert 'name="approval_reason"' not in html
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(KeyLoan).count() == 0
        assert session.query(AuditEvent).filter_by(event="lend_refused").count() == 1

    boss = app.test_client()
    sign_in(boss, "wang", "wang-password")
    approved = post(boss, "/desk/keys/lend", "/desk/keys",
                    **{**LOAN, "due_back": due, "approval_reason": "全天水管更换"})
    assert approved.status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        loan = session.query(KeyLoan).one()
        assert (loan.approved_by_name, loan.approved_rules) == ("wang", "loan_too_long")


def test_lending_a_key_nobody_holds_says_so(desk_client):
    page = post(desk_client, "/desk/keys/lend", "/desk/keys", **{**LOAN, "key": "A-0099"})
    assert page.status_code == 422 and "No key with ticket A-0099 is held." in page.get_data(as_text=True)


def test_a_key_without_the_owners_consent_is_not_taken_in(app, desk_client):
    page = post(desk_client, "/desk/keys", "/desk/keys", **{**KEY, "consent_by": ""})
    assert page.status_code == 422 and "13611112222" not in page.get_data(as_text=True)
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Item).count() == 0


# --- mail and parcels (issue 13) ---

MAIL = {"kind": "parcel", "mail_class": "express", "unit": "12-0301", "name": "张伟", "carrier": "EMS",
        "description": "EMS 包裹"}


def test_a_parcel_for_a_resident_is_taken_in_and_its_notice_queued(app, desk_client):
    done = post(desk_client, "/desk/mail", "/desk/mail", **MAIL)
    assert done.status_code == 303
    page = desk_client.get(done.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Notices to the owner" in page and 'data-channel="email"' in page and "waiting to be sent" in page
    assert "zhang.wei@example.com" not in page and "13812345678" not in page
    with app.extensions["kiosk.sessions"]() as session:
        item = session.query(Item).one()
        assert (item.kind, item.location, item.urgent) == ("parcel", "mail_shelf", True)
        assert session.query(Notification).filter_by(item_id=item.id, channel="email").count() == 1
    shelf = desk_client.get("/desk/mail", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "A-0001" in shelf and "张*" in shelf


@pytest.mark.parametrize("language,text", [
    ("en", "Nobody of that name lives in 12-0301"), ("zh-CN", "12-0301 没有该住户"),
])
def test_a_parcel_for_someone_not_living_here_is_refused(app, desk_client, language, text):
    page = post(desk_client, "/desk/mail", "/desk/mail", language=language, **{**MAIL, "name": "路人甲"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'data-code="not_a_resident"' in html and text in html
    assert 'value="路人甲"' in html  # nothing typed is lost
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Item).count() == 0


def test_a_private_couriers_parcel_needs_the_owners_consent(app, desk_client):
    page = post(desk_client, "/desk/mail", "/desk/mail", **{**MAIL, "carrier": "DHL"})
    assert page.status_code == 422 and 'id="consent_by-error"' in page.get_data(as_text=True)
    done = post(desk_client, "/desk/mail", "/desk/mail",
                **{**MAIL, "carrier": "DHL", "consent_by": "张伟", "consent_channel": "phone"})
    assert done.status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        assert session.query(Item).one().consent_by == "张伟"


def parcel(app, desk_client, **changes) -> Item:
    assert post(desk_client, "/desk/mail", "/desk/mail", **{**MAIL, **changes}).status_code == 303
    with app.extensions["kiosk.sessions"]() as session:
        return session.query(Item).order_by(Item.id.desc()).first()


def test_a_parcel_is_handed_to_its_household_with_id_never_to_a_neighbour(app, desk_client):
    item = parcel(app, desk_client)
    with app.extensions["kiosk.sessions"]() as session:
        tag = ledger.tag_code(desk_of(app), session.get(Item, item.id))
    page = f"/desk/items/{item.id}"
    neighbour = post(desk_client, f"/desk/mail/{item.id}/pickup", page, tag_code=tag, collector_name="隔壁老王",
                     id_type="resident_id", id_last4="123X", signature="隔壁老王")
    assert neighbour.status_code == 422 and 'id="collector_name-error"' in neighbour.get_data(as_text=True)
    whole_id = post(desk_client, f"/desk/mail/{item.id}/pickup", page, tag_code=tag, collector_name="张丽",
                    id_type="resident_id", id_last4="11010119900101123X", signature="张丽")
    assert whole_id.status_code == 422 and "11010119900101123X" not in whole_id.get_data(as_text=True)
    done = post(desk_client, f"/desk/mail/{item.id}/pickup", page, tag_code=tag, collector_name="张丽",
                id_type="resident_id", id_last4="123x", signature="张丽")
    assert done.status_code == 200 and 'data-done="picked_up"' in done.get_data(as_text=True)
    with app.extensions["kiosk.sessions"]() as session:
        handed = session.get(Item, item.id)
        assert (handed.status, handed.collector_name, handed.collector_id_last4, handed.collector_signature) == (
            "released", "张丽", "123X", "张丽")


def test_a_parcel_is_handed_out_with_its_pickup_code(app, desk_client):
    item = parcel(app, desk_client)
    with app.extensions["kiosk.sessions"]() as session:
        row = session.get(Item, item.id)
        tag, code = ledger.tag_code(desk_of(app), row), ledger.claim_code(desk_of(app), row)
    done = post(desk_client, f"/desk/mail/{item.id}/pickup", f"/desk/items/{item.id}", tag_code=tag,
                pickup_code=code, signature="张伟")
    assert done.status_code == 200 and 'data-done="picked_up"' in done.get_data(as_text=True)


def test_an_undeliverable_letter_goes_back_to_the_post_office_with_the_post_workers_name(app, desk_client):
    letter = parcel(app, desk_client, kind="mail", carrier="post", mail_class="registered")
    page = f"/desk/items/{letter.id}"
    marked = post(desk_client, f"/desk/mail/{letter.id}/undeliverable", page, undeliverable_reason="moved_out")
    assert marked.status_code == 200 and 'id="to-post-form"' in marked.get_data(as_text=True)
    returns = desk_client.get("/desk/mail", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'id="mail-returns"' in returns and "A-0001" in returns.split('id="mail-returns"')[1]
    back = post(desk_client, f"/desk/mail/{letter.id}/return-to-post", page, post_worker="李师傅")
    assert back.status_code == 200 and 'data-done="returned_to_post"' in back.get_data(as_text=True)
    with app.extensions["kiosk.sessions"]() as session:
        row = session.get(Item, letter.id)
        assert (row.status, row.collector_name) == ("returned", "李师傅")


@pytest.mark.parametrize("path", ["/desk/keys", "/desk/mail"])
def test_the_keys_and_mail_pages_speak_chinese_by_default_and_are_for_desk_staff(app, client, staff, path):
    assert client.get(path).status_code == 302
    sign_in(client)
    page = client.get(path)
    assert page.status_code == 200 and '<html lang="zh-Hans">' in page.get_data(as_text=True)
    assert ("借出钥匙" if path == "/desk/keys" else "信件包裹签收") in page.get_data(as_text=True)
