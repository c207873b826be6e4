"""The fixed words printed on labels, in the desk's own terms (DOMAIN.md).

Every pair is (zh-Hans, English). Kept apart from the layout so the wording
can be reviewed by the desk without reading layout code.
"""

from __future__ import annotations

KIND_NAMES: dict[str, tuple[str, str]] = {
    "luggage": ("行李", "Luggage"),
    "key": ("钥匙", "Key"),
    "parcel": ("包裹", "Parcel"),
    "mail": ("信件", "Mail"),
    "short_term": ("暂存物品", "Short-term item"),
}

# Titles of each printed part, by kind and role.
TITLES: dict[tuple[str, str], tuple[str, str]] = {
    ("luggage", "tag"): ("行李认领单 上联（随物）", "ITEM TAG - stays with the item"),
    ("short_term", "tag"): ("暂存物品标签 上联（随物）", "ITEM TAG - stays with the item"),
    ("luggage", "stub"): ("行李认领单 下联（顾客联）", "CLAIM STUB - owner's copy"),
    ("short_term", "stub"): ("暂存物品认领单 下联（顾客联）", "CLAIM STUB - owner's copy"),
    ("key", "envelope"): ("钥匙封袋", "KEY ENVELOPE"),
    ("key", "stub"): ("钥匙寄存 下联（顾客联）", "KEY CLAIM STUB - owner's copy"),
    ("parcel", "tag"): ("包裹标签", "PARCEL TAG"),
    ("mail", "tag"): ("邮件标签", "MAIL TAG"),
    ("parcel", "notice"): ("邮件接收通知单", "Mail pickup notice"),
    ("mail", "notice"): ("邮件接收通知单", "Mail pickup notice"),
}

FIELDS: dict[str, tuple[str, str]] = {
    "ticket_no": ("单号", "No."),
    "kind": ("类别", "Kind"),
    "unit": ("房号", "Unit"),
    "name": ("姓名", "Name"),
    "phone": ("电话", "Phone"),
    "deposited_at": ("寄存时间", "Deposited"),
    "received_at": ("收件时间", "Received"),
    "date": ("日期", "Date"),
    "staff": ("经办", "Staff"),
    "location": ("存放位置", "Location"),
    "expected_pickup_at": ("预计领取", "Pickup by"),
    "collector": ("指定领取人", "Collector"),
    "description": ("说明", "Note"),
    "addressee": ("收件人", "Addressee"),
}

REPRINT = ("补打", "REPRINT")

# Where a screen preview leaves out the claim code: the printed label carries it, no screen does.
REDACTED = ("取件码仅印在顾客联上", "Claim code printed on the owner's part only")

STUB_TERMS: tuple[tuple[str, str], ...] = (
    ("本联是领取物品的唯一凭证，请妥善保管。",
     "This stub is the only proof for collection. Keep it safe."),
    ("如有遗失，请立即携房号及姓名到前台挂失。",
     "If lost, report it at the front desk at once with your room number and name."),
    ("大件行李寄存超过24小时、小件物品超过7天，将移至储物间保管。",
     "Large luggage kept over 24 h and small items kept over 7 days go to the storeroom."),
    ("食品、易碎及易腐物品，前台不承担责任。",
     "The desk does not answer for food, fragile or perishable goods."),
)

KEY_STUB_TERMS: tuple[tuple[str, str], ...] = (
    STUB_TERMS[0],
    STUB_TERMS[1],
    ("钥匙存放于上锁的钥匙柜，由指定领取人凭本联及有效证件领取。",
     "Keys are kept in a locked cabinet; the named collector brings this stub and valid ID."),
)

ENVELOPE_NOTE = ("封袋后请勿拆开，领取时当面核对。", "Sealed at the desk; opened only at handover.")

NOTICE_LINES: tuple[tuple[str, str], ...] = (
    ("您有邮件/包裹存放于前台，请尽快领取。",
     "Mail or a parcel for you is waiting at the front desk."),
    ("请携本通知单及有效证件到前台领取并签收。",
     "Bring this notice and valid ID to the front desk, and sign for it."),
)
