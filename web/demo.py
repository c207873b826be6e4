"""Sample desk for `kiosk demo`: users, tokens and a few items in custody."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kiosk import accounts, ledger, printjobs
from kiosk.models import User
from kiosk.values import Actor, DepositForm, Person

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
        DepositForm(kind="key", owner=Person("5-2201", "陈静", "13611112222"),
                    description="单元门钥匙 2 把 two unit keys", designated_name="陈刚"),
        DepositForm(kind="parcel", owner=Person("12-0301", "张伟", "13812345678"),
                    description="EMS 包裹", carrier="EMS", urgent=True),
    ]


def build_demo(app) -> list[str]:
    lines: list[str] = []
    with app.app_context(), transaction(app) as session:
        for name, role in USERS:
            if session.scalar(select(User).where(User.name == name)) is None:
                accounts.add_user(session, name, role, password=f"{name}-demo")
        session.flush()
        tokens = {name: accounts.create_token(session, user_name=name) for name, _ in USERS}
        tokens["kiosk:lobby-1"] = accounts.create_token(session, device="lobby-1")
        staff = session.scalar(select(User).where(User.name == "lin"))
        actor = Actor(name=staff.name, role=staff.role, user_id=staff.id, device="desk-1")
        now = datetime.now(UTC)
        deposits = [ledger.deposit(session, desk(app), actor, form, now=now) for form in _samples(now)]
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
    return lines
