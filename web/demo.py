"""Sample desk for `kiosk demo`: users, tokens, residents and a few items in custody.

The parcels' owners are notified through the outbox: with KIOSK_SMTP_URL /
KIOSK_SMS_WEBHOOK_URL set the served demo's notify worker sends them; without,
they wait in the outbox.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kiosk import accounts, enrolment, ledger, loans, mail, printjobs, residents
from kiosk.models import User
from kiosk.values import Actor, Consent, DepositForm, KeyDeposit, MailForm, Person, ResidentForm

from .auth import desk
from .db import transaction
from .print_worker import run_once

USERS = [("lin", "staff"), ("wang", "supervisor"), ("zhao", "security"), ("admin", "admin")]


def _samples(now: datetime) -> list[DepositForm]:
    return [
        DepositForm(kind="luggage", owner=Person("12-0301", "张伟", "13812345678"), size="large",
                    description="黑色拉杆箱 black suitcase", expected_pickup_at=now + timedelta(hours=6)),
        DepositForm(kind="luggage", owner=Person("8-1502", "Alice Wong", "+852 9123 4567"), size="large",
                    description="Golf bag", expected_pickup_at=now + timedelta(days=3)),
        DepositForm(kind="short_term", owner=Person("3-0702", "李娜", "13987654321"),
                    description="超市购物袋 shopping bags (vegetables)", declared=("food", "perishable"),
                    disclaimer_acknowledged=True, expected_pickup_at=now + timedelta(hours=2),
                    designated_name="李明", designated_phone="13700001111"),
    ]


# Who lives here: mail and parcels are taken in only for them. A real site fills the
# register with `kiosk resident add` or `kiosk resident import residents.csv`.
RESIDENTS = [
    ResidentForm("12-0301", "张伟", "13812345678", email="zhang.wei@example.com"),
    ResidentForm("8-1502", "Alice Wong", "+852 9123 4567", email="alice@example.com", locale="en",
                 courier_consent=True),
    ResidentForm("3-0702", "李娜", "13987654321"),
    ResidentForm("5-2201", "陈静", "13611112222"),
]


def _keys_and_mail(session, the_desk, actor, now) -> list:
    key = loans.deposit_key(session, the_desk, actor, KeyDeposit(
        owner=Person("5-2201", "陈静", "13611112222"), consent=Consent("陈静", "signature"), handed_over=True,
        description="单元门钥匙 2 把 two unit keys", collector_name="陈刚", cabinet_slot="hook 12"), now=now)
    express = mail.intake(session, the_desk, actor, MailForm(
        kind="parcel", unit="12-0301", name="张伟", carrier="EMS", mail_class="express",
        description="EMS 包裹"), now=now)
    courier = mail.intake(session, the_desk, actor, MailForm(
        kind="parcel", unit="8-1502", name="Alice Wong", carrier="DHL", description="DHL box",
        perishable=True), now=now)
    return [key, express.deposit, courier.deposit]


def build_demo(app, base_url: str = "http://127.0.0.1:8080") -> list[str]:
    lines: list[str] = []
    with app.app_context(), transaction(app) as session:
        for name, role in USERS:
            if session.scalar(select(User).where(User.name == name)) is None:
                accounts.add_user(session, name, role, password=f"{name}-demo")
        session.flush()
        tokens = {name: accounts.create_token(session, user_name=name) for name, _ in USERS}
        tokens["kiosk:lobby-1"] = accounts.create_token(session, device="lobby-1")
        enrol_link = f"{base_url}/kiosk/enrol/{enrolment.invite(session, 'lobby-1')}"
        staff = session.scalar(select(User).where(User.name == "lin"))
        actor = Actor(name=staff.name, role=staff.role, user_id=staff.id, device="desk-1")
        now = datetime.now(UTC)
        for form in RESIDENTS:
            if residents.find(session, form.unit, form.name) is None:
                residents.add(session, actor, form, now=now)
        deposits = [ledger.deposit(session, desk(app), actor, form, now=now) for form in _samples(now)]
        deposits += _keys_and_mail(session, desk(app), actor, now)
        printer = app.config["PRINTERS"]["default"]
        for result in deposits:
            printjobs.enqueue(session, actor, result.item, "default", printer, now=now)
    printed = run_once(app)

    lines.append("Demo desk ready. Bearer tokens (Authorization: Bearer ...):")
    for who, value in tokens.items():
        lines.append(f"  {who:<14} {value}")
    lines.append("Items in custody:")
    for result in deposits:
        item = result.item
        lines.append(f"  {item.ticket_no}  {item.kind:<10} {item.owner_unit:<8} at {item.location:<12} "
                     f"tag {result.tag_code}  {result.claim_role} {result.claim_code}")
    lines.append(f"Labels: {len(printed.printed)} printed to {printer}"
                 + (f" ({len(printed.offline)} waiting for the printer)" if printed.offline else ""))
    lines.append("Pages:")
    lines.append(f"  staff sign-in  {base_url}/login  (lin / lin-demo, wang / wang-demo, ...)")
    lines.append(f"  kiosk screen   open once in the kiosk's browser: {enrol_link}")
    return lines
