"""The one message catalogue: every code the API answers with, in zh-Hans and English.

The domain (kiosk/) raises codes with parameters and writes no sentences; this
module turns a code into words in the reader's language. Pages and API answers
both read from here, so a refusal reads the same at the desk and in the API.
"""
from __future__ import annotations

import string

from flask import has_request_context, request

LOCALES = ("zh_Hans", "en")
DEFAULT_LOCALE = "zh_Hans"
# The API speaks English unless the client asks otherwise; pages default to zh-Hans.
API_LOCALE = "en"

# code -> {"en": ..., "zh_Hans": ...}; {placeholders} come from the error's parameters.
CATALOGUE: dict[str, dict[str, str]] = {
    # --- request shape (web/schema.py) ---
    "invalid_json": {"en": "The request body must be a JSON object (nested at most {limit} deep).",
                     "zh_Hans": "请求内容必须是 JSON 对象（嵌套不超过 {limit} 层）。"},
    "unknown_field": {"en": "Unknown field {field}.", "zh_Hans": "未知字段 {field}。"},
    "missing_field": {"en": "{field} is required.", "zh_Hans": "{field} 为必填项。"},
    "invalid_type": {"en": "{field} has the wrong type ({expected}).", "zh_Hans": "{field} 类型不正确（应为 {expected}）。"},
    "too_long": {"en": "{field} is longer than {limit} characters.", "zh_Hans": "{field} 超过 {limit} 个字符。"},
    "invalid_text": {"en": "{field} contains control characters.", "zh_Hans": "{field} 含有控制字符。"},
    "id_number_not_allowed": {
        "en": "{field} looks like an ID or passport number; the desk never keeps those (only the last 4 characters "
              "of a collector's ID).",
        "zh_Hans": "{field} 疑似身份证或护照号码；前台不保存证件号码（领取人证件只记录后 4 位）。"},
    "invalid_choice": {"en": "{field} must be one of: {choices}.", "zh_Hans": "{field} 只能是：{choices}。"},
    "invalid_time": {"en": "{field} must be an ISO 8601 time with a time zone (e.g. 2026-11-24T18:00+08:00).",
                     "zh_Hans": "{field} 须为带时区的 ISO 8601 时间（如 2026-11-24T18:00+08:00）。"},
    "time_in_past": {"en": "{field} is in the past.", "zh_Hans": "{field} 早于当前时间。"},
    "invalid_phone": {"en": "{field} is not a phone number.", "zh_Hans": "{field} 不是有效的电话号码。"},
    "invalid_query": {"en": "Query argument {field} is not valid{choices_hint}.",
                      "zh_Hans": "查询参数 {field} 无效{choices_hint}。"},
    "invalid_kind": {"en": "kind must be one of: {choices}.", "zh_Hans": "物品类别只能是：{choices}。"},
    "invalid_size": {"en": "size must be one of: {choices}.", "zh_Hans": "大小只能是：{choices}。"},
    "invalid_location": {"en": "location must be one of: {choices}.", "zh_Hans": "存放位置只能是：{choices}。"},
    "invalid_declaration": {"en": "Unknown declaration {value}.", "zh_Hans": "未知的物品申报项 {value}。"},
    "invalid_id_type": {"en": "collector.id_type must be one of: {choices}.", "zh_Hans": "证件类型只能是：{choices}。"},
    "invalid_id_last4": {"en": "collector.id_last4 takes exactly the last 4 characters of the ID.",
                         "zh_Hans": "领取人证件只填写后 4 位。"},
    "invalid_role": {"en": "role must be one of: {choices}.", "zh_Hans": "角色只能是：{choices}。"},
    "invalid_name": {"en": "{field} has 1 to {limit} characters.", "zh_Hans": "{field} 须为 1 至 {limit} 个字符。"},
    "bad_request": {"en": "The request could not be read.", "zh_Hans": "无法读取该请求。"},
    "payload_too_large": {"en": "The request is too large.", "zh_Hans": "请求内容过大。"},
    "unsupported_media_type": {"en": "Send an image as multipart/form-data field 'image' or as an image/* body.",
                               "zh_Hans": "请以 multipart/form-data 的 image 字段或 image/* 正文上传图片。"},
    "method_not_allowed": {"en": "This method is not allowed here.", "zh_Hans": "此处不允许该请求方法。"},
    "not_found": {"en": "Not found.", "zh_Hans": "未找到。"},
    "http_error": {"en": "The request failed.", "zh_Hans": "请求失败。"},
    # --- who may do what ---
    "unauthorized": {"en": "Send a valid bearer token: Authorization: Bearer <token>.",
                     "zh_Hans": "请提供有效的令牌：Authorization: Bearer <token>。"},
    "forbidden": {"en": "A {role} may not {action}.", "zh_Hans": "{role} 无权执行此操作（{action}）。"},
    # --- the ledger ---
    "refused_hazardous": {"en": "The desk does not hold flammable, explosive, toxic or prohibited goods.",
                          "zh_Hans": "前台不寄存易燃、易爆、有毒或违禁物品。"},
    "refused_hazardous.suggestion": {"en": "Please take the item with you; security can advise on disposal.",
                                     "zh_Hans": "请将物品带走；如需处理，可咨询保安。"},
    "refused_valuables": {"en": "The desk does not hold cash or valuables.",
                          "zh_Hans": "前台不寄存现金或贵重物品。"},
    "refused_valuables.suggestion": {"en": "Please use a bank safe deposit box.",
                                     "zh_Hans": "建议您使用银行保险箱。"},
    "acknowledgement_required": {
        "en": "Food, strong-smelling, fragile or perishable goods are held at the owner's risk: tell the customer "
              "and record it (disclaimer_acknowledged).",
        "zh_Hans": "食品、异味、易碎或易腐物品，前台不承担责任：请告知客户并记录（disclaimer_acknowledged）。"},
    "tag_mismatch": {"en": "This tag does not belong to this item.", "zh_Hans": "此物品标签与该物品不符。"},
    "stub_mismatch": {"en": "This stub does not belong to this item.", "zh_Hans": "此取件凭条与该物品不符。"},
    "already_released": {"en": "{ticket_no} was already handed out.", "zh_Hans": "{ticket_no} 已被领取。"},
    "stub_revoked": {"en": "This stub is no longer valid; please wait, staff will help you.",
                     "zh_Hans": "此凭条已失效，请稍候，工作人员将为您处理。"},
    "stub_required": {"en": "The stub is the only proof for collection; without it, report it lost first.",
                      "zh_Hans": "下联是领取的唯一凭证；如遗失，请先办理挂失。"},
    "identity_required": {"en": "A lost stub needs the collector's identity checked (name, ID type, last 4).",
                          "zh_Hans": "凭条已挂失：须核对领取人身份（姓名、证件类型、证件后 4 位）。"},
    "item_changed": {"en": "The item changed while it was being released; scan again.",
                     "zh_Hans": "物品状态已变化，请重新扫描。"},
    "owner_mismatch": {"en": "Unit and name do not match this ticket's owner.",
                       "zh_Hans": "房号和姓名与该票据的寄存人不符。"},
    "unknown_code": {"en": "This code is not known at this desk.", "zh_Hans": "本前台无法识别此二维码。"},
    "malformed_code": {"en": "This is not a claim code of this desk.", "zh_Hans": "这不是本前台的取件码。"},
    "code_too_long": {"en": "A claim code has at most {limit} characters.", "zh_Hans": "取件码最多 {limit} 个字符。"},
    "conflict": {"en": "This conflicts with the item's current state.", "zh_Hans": "与物品当前状态冲突。"},
    "item_not_held": {"en": "{ticket_no} is not on the shelf now ({state}).",
                      "zh_Hans": "{ticket_no} 当前不在前台（{state}）。"},
    # --- keys ---
    "key_outside_cabinet": {"en": "Keys are kept in the locked key cabinet, nowhere else.",
                            "zh_Hans": "钥匙只能存放在上锁的钥匙柜中。"},
    "invalid_consent_channel": {"en": "{field} must be one of: {choices}.",
                                "zh_Hans": "{field} 只能是：{choices}。"},
    "owner_consent_required": {
        "en": "The owner's consent is needed first ({field}): record who gave it and how.",
        "zh_Hans": "须先征得业主同意（{field}）：请记录同意人及方式。"},
    "not_a_key": {"en": "Only keys are lent.", "zh_Hans": "只有钥匙可以借出。"},
    "key_already_lent": {"en": "The key {ticket_no} is already lent out.", "zh_Hans": "钥匙 {ticket_no} 已借出。"},
    "loan_too_long": {"en": "A key is lent for at most {limit} hours; this loan is {hours} hours. "
                            "A supervisor may approve it.",
                      "zh_Hans": "钥匙每次借用不得超过 {limit} 小时，本次为 {hours} 小时；如确需延长，须经主管批准。"},
    "loan_overnight": {"en": "A key lent today comes back today; this one is due {due_back_at}. "
                             "A supervisor may approve it.",
                       "zh_Hans": "钥匙借用不过夜，须当日归还（本次归还时间 {due_back_at}）；如确需过夜，须经主管批准。"},
    "approval_not_allowed": {"en": "Only a supervisor may approve a loan the rules refuse (a {role} asked).",
                             "zh_Hans": "只有主管可以批准超出规定的借用（{role} 无权批准）。"},
    "loan_already_returned": {"en": "Loan {id} is already returned.", "zh_Hans": "借用记录 {id} 已归还。"},
    # --- mail and parcels ---
    "invalid_mail_class": {"en": "mail_class must be one of: {choices}.", "zh_Hans": "邮件类别只能是：{choices}。"},
    "invalid_email": {"en": "{field} is not an email address.", "zh_Hans": "{field} 不是有效的电子邮件地址。"},
    "not_a_resident": {
        "en": "Nobody of that name lives in {unit}: the courier takes the parcel back "
              "(a postal letter may be registered for return to the post office).",
        "zh_Hans": "{unit} 没有该住户：快件由送件人员收回（邮政信件可登记退回邮局）。"},
    "return_to_post_is_postal_only": {"en": "Only postal letters go back to the post office.",
                                      "zh_Hans": "只有邮政信件可以退回邮局。"},
    "not_mail": {"en": "This is not a letter or parcel.", "zh_Hans": "这不是邮件或包裹。"},
    "pickup_needs_code_or_id": {
        "en": "Give the pickup code, or check the collector's ID (name, ID type, last 4).",
        "zh_Hans": "请提供取件码，或核对领取人身份（姓名、证件类型、证件后 4 位）。"},
    "collector_not_of_unit": {
        "en": "Without the pickup code only the addressee or someone living in the same unit may collect it.",
        "zh_Hans": "无取件码时，只有收件人本人或同住户可以领取。"},
    "already_undeliverable": {"en": "{ticket_no} is already on the list for return.",
                              "zh_Hans": "{ticket_no} 已列入退回清单。"},
    "not_undeliverable": {"en": "{ticket_no} is not marked undeliverable.", "zh_Hans": "{ticket_no} 未标记为无法投递。"},
    # --- the residents register ---
    "resident_exists": {"en": "{name} is already registered in {unit}.", "zh_Hans": "{unit} 已登记住户 {name}。"},
    "resident_moved_out": {"en": "Resident {id} has already moved out.", "zh_Hans": "住户 {id} 已迁出。"},
    "resident_identity_fixed": {"en": "A resident's unit and name do not change: move out and add again.",
                                "zh_Hans": "住户的房号和姓名不可修改：请办理迁出后重新登记。"},
    "invalid_locale": {"en": "{field} must be one of: {choices}.", "zh_Hans": "{field} 只能是：{choices}。"},
    # --- notifications ---
    "notification_not_reviewable": {"en": "Notification {id} is {state}; only failed or in-doubt ones are settled.",
                                    "zh_Hans": "通知 {id} 状态为 {state}；只有发送失败或状态不明的通知需要处理。"},
    # --- printing ---
    "unknown_printer": {"en": "No printer named {name}; known: {choices}.", "zh_Hans": "没有名为 {name} 的打印机；可用：{choices}。"},
    "print_job_not_retryable": {"en": "Print job {id} is {status}; only failed or queued jobs are retried.",
                                "zh_Hans": "打印任务 {id} 状态为 {status}；只有失败或排队中的任务可以重试。"},
    "print_job_not_in_doubt": {"en": "Print job {id} is {status}; only a job in doubt is confirmed or reprinted.",
                               "zh_Hans": "打印任务 {id} 状态为 {status}；只有待确认的任务可以确认或重打。"},
    # --- alerts ---
    "alert_already_resolved": {"en": "Alert {id} is already resolved.", "zh_Hans": "警报 {id} 已处理。"},
    # --- accounts ---
    "user_exists": {"en": "User {name} exists.", "zh_Hans": "用户 {name} 已存在。"},
    "unknown_user": {"en": "No user {name}.", "zh_Hans": "没有用户 {name}。"},
    "unknown_token": {"en": "No such token.", "zh_Hans": "没有该令牌。"},
    "token_owner_required": {"en": "A token is for a user or for a kiosk device.", "zh_Hans": "令牌须属于某个用户或某台自助机。"},
    # --- uploads and scanning ---
    "missing_image": {"en": "Send the picture as the form field 'image'.", "zh_Hans": "请以表单字段 image 上传图片。"},
    "invalid_image": {"en": "This is not a picture that can be read.", "zh_Hans": "无法读取该图片。"},
    "image_too_large": {"en": "The picture is too large.", "zh_Hans": "图片过大。"},
    # --- pages and the live channel ---
    "csrf_failed": {"en": "The page's security token is missing or expired; reload the page and try again.",
                    "zh_Hans": "页面安全令牌缺失或已过期，请刷新页面后重试。"},
    # Both the live pages (too many open) and /decode (every decoder working) answer this.
    "busy": {"en": "This server is busy (pictures being read, or too many live pages open); it will retry shortly.",
             "zh_Hans": "服务器正忙（正在识别图片，或打开的实时页面过多），稍后会自动重试。"},
    # --- the service itself ---
    "rate_limited": {"en": "Too many requests; try again in {retry_after} seconds.",
                     "zh_Hans": "请求过于频繁，请 {retry_after} 秒后再试。"},
    "unavailable": {"en": "The service is briefly unavailable; nothing was changed. Try again in a moment.",
                    "zh_Hans": "服务暂时不可用，未做任何更改。请稍后再试。"},
    "internal_error": {"en": "Something went wrong; nothing was changed.", "zh_Hans": "系统出错，未做任何更改。"},
    # --- what the person at the kiosk should do next (kiosk.claims.NEXT_*) ---
    "next.present_at_desk": {"en": "Please show this stub at the desk; staff will bring your item.",
                             "zh_Hans": "请到前台出示此凭条，工作人员将为您取来物品。"},
    "next.scan_claim": {"en": "Item tag read. Now scan the owner's stub.", "zh_Hans": "已读取物品标签，请扫描寄存人的取件凭条。"},
    "next.none": {"en": "This item has already been collected.", "zh_Hans": "此物品已被领取。"},
    "next.wait_for_staff": {"en": "Please wait, staff will help you.", "zh_Hans": "请稍候，工作人员将为您处理。"},
    # --- the desk's places (printed on tags, shown on pages) ---
    "location.front_desk": {"en": "Front desk", "zh_Hans": "前台"},
    "location.management_office": {"en": "Office", "zh_Hans": "管理处"},
    "location.storeroom": {"en": "Storeroom", "zh_Hans": "储物间"},
    "location.key_cabinet": {"en": "Key cabinet", "zh_Hans": "钥匙柜"},
    "location.mail_shelf": {"en": "Mail shelf", "zh_Hans": "邮件架"},
}


class _Lenient(dict):
    """A missing parameter shows as its name in braces rather than failing the answer."""

    def __missing__(self, key):
        return "{" + key + "}"


def _value(value) -> str:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def message(code: str, locale: str | None = None, **params) -> str:
    """The sentence for ``code`` in ``locale`` (the request's, if not given)."""
    locale = locale or current_locale()
    entry = CATALOGUE.get(code) or CATALOGUE["http_error"]
    template = entry.get(locale) or entry["en"]
    values = _Lenient({key: _value(value) for key, value in params.items()})
    values.setdefault("choices_hint", f" ({values['choices']})" if "choices" in params else "")
    return string.Formatter().vformat(template, (), values)


def has_message(code: str) -> bool:
    return code in CATALOGUE


def negotiate(accept_language: str | None, default: str) -> str:
    """``zh-CN``, ``zh``, ``zh-Hans…`` (and other Chinese tags) → zh_Hans; ``en…`` → en."""
    if not accept_language:
        return default
    best, best_q = default, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        locale = "zh_Hans" if tag == "zh" or tag.startswith("zh-") else "en" if tag.split("-")[0] == "en" else None
        if locale and q > best_q:
            best, best_q = locale, q
    return best


# The web foundation may install a selector that knows the page's chosen language.
_selector = None


def set_locale_selector(selector) -> None:
    global _selector
    _selector = selector


def current_locale() -> str:
    if not has_request_context():
        return API_LOCALE
    if _selector is not None:
        chosen = _selector()
        if chosen in LOCALES:
            return chosen
    return negotiate(request.headers.get("Accept-Language"),
                     API_LOCALE if request.path.startswith("/api/") else DEFAULT_LOCALE)
