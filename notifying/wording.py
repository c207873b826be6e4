"""What the owner reads: the notices' words in zh-Hans and English.

Kept apart from the senders so the desk can review the wording without reading
sending code. Texts are ``str.format`` templates written here; what fills them
(names, ticket numbers, codes) is data and never read as a template.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

LOCALES = ("zh_Hans", "en")

# What the item is, by mail class (express items) or kind.
ITEM_NAMES: dict[str, dict[str, str]] = {
    "express": {"zh_Hans": "快件", "en": "express item"},
    "registered": {"zh_Hans": "挂号信", "en": "registered letter"},
    "parcel_slip": {"zh_Hans": "包裹单", "en": "parcel slip"},
    "remittance_slip": {"zh_Hans": "汇款单", "en": "remittance slip"},
    "parcel": {"zh_Hans": "包裹", "en": "parcel"},
    "mail": {"zh_Hans": "信件", "en": "letter"},
    "luggage": {"zh_Hans": "行李", "en": "luggage"},
    "key": {"zh_Hans": "钥匙", "en": "key"},
    "short_term": {"zh_Hans": "暂存物品", "en": "item"},
}

DESK = {"zh_Hans": "前台", "en": "Front desk"}


@dataclass(frozen=True)
class Wording:
    subject: str
    text: str


TEMPLATES: dict[str, dict[str, Wording]] = {
    "mail_arrived": {
        "zh_Hans": Wording(
            subject="【{site}】您有{item}待领取（{ticket_no}）",
            text="{name}您好：您的{item}（单号 {ticket_no}）已于 {received} 送达{desk}。"
                 "请凭取件码 {code} 或有效证件到{desk}领取并签收。",
        ),
        "en": Wording(
            subject="[{site}] A {item} is waiting for you ({ticket_no})",
            text="Dear {name}, a {item} for you (No. {ticket_no}) arrived at the {desk_lower} at {received}. "
                 "Collect it there with pickup code {code} or valid ID, and sign for it.",
        ),
    },
    "mail_reminder": {
        "zh_Hans": Wording(
            subject="【{site}】提醒：您的{item}仍待领取（{ticket_no}）",
            text="{name}您好：您的{item}（单号 {ticket_no}，{received} 送达）仍在{desk}等您领取。"
                 "取件码 {code}。",
        ),
        "en": Wording(
            subject="[{site}] Reminder: your {item} is still waiting ({ticket_no})",
            text="Dear {name}, your {item} (No. {ticket_no}, arrived {received}) is still waiting at the "
                 "{desk_lower}. Pickup code {code}.",
        ),
    },
    # Luggage, keys and short-term items (the supervisor's reminder): no code — the owner's stub is
    # the only proof for collection, and a message can be read by others.
    "item_reminder": {
        "zh_Hans": Wording(
            subject="【{site}】提醒：您寄存的{item}仍在{desk}（{ticket_no}）",
            text="{name}您好：您于 {received} 寄存的{item}（单号 {ticket_no}）仍在{desk}。"
                 "请携带取件凭条（下联）尽快领取。",
        ),
        "en": Wording(
            subject="[{site}] Reminder: your {item} is still at the {desk_lower} ({ticket_no})",
            text="Dear {name}, the {item} you left at the {desk_lower} on {received} (No. {ticket_no}) is still "
                 "there. Please collect it soon and bring your claim stub.",
        ),
    },
    "mail_notice_slip": {
        "zh_Hans": Wording(subject="邮件接收通知单", text="{unit} {name}：您有{item}（单号 {ticket_no}）在{desk}，请尽快领取。"),
        "en": Wording(subject="Mail pickup notice",
                      text="{unit} {name}: a {item} (No. {ticket_no}) is waiting at the {desk_lower}."),
    },
}

PERISHABLE = {"zh_Hans": "内有易腐物品，请尽快领取。", "en": "It holds perishables: please collect it soon."}


def item_name(params: dict, locale: str) -> str:
    key = params.get("mail_class") if params.get("mail_class") in ITEM_NAMES else params.get("kind", "parcel")
    return ITEM_NAMES.get(key, ITEM_NAMES["parcel"])[locale]


def render(template: str, locale: str, params: dict, *, code: str, site_name: str = "",
           timezone: str = "Asia/Shanghai") -> Wording:
    """The subject and text of one notice. ``params`` come from the outbox row; ``code`` is the
    pickup code as it stands now (a reissued notice carries the new one)."""
    locale = locale if locale in LOCALES else "zh_Hans"
    wording = TEMPLATES[template][locale]
    received = datetime.fromisoformat(params["received_at"]).astimezone(ZoneInfo(timezone))
    values = {
        "site": site_name or DESK[locale], "desk": DESK[locale], "desk_lower": DESK[locale].lower(),
        "item": item_name(params, locale), "ticket_no": params["ticket_no"], "name": params.get("name", ""),
        "unit": params.get("unit", ""), "received": received.strftime("%m-%d %H:%M"), "code": code,
    }
    text = wording.text.format(**values)
    if params.get("perishable"):
        text += ("" if locale == "zh_Hans" else " ") + PERISHABLE[locale]
    return Wording(subject=wording.subject.format(**values), text=text)
