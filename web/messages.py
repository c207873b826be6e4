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
    "invalid_key_kind": {"en": "key_kind is for keys only, one of: {choices}.",
                         "zh_Hans": "钥匙类别仅用于钥匙，只能是：{choices}。"},
    # --- shift handover and key count ---
    "handover_open": {"en": "A count of this kind is already open (handover {id}); finish or cancel it first.",
                      "zh_Hans": "已有同类盘点正在进行（交接单 {id}），请先完成或撤销。"},
    "handover_signed": {"en": "Handover {id} is signed by both clerks and can no longer change.",
                        "zh_Hans": "交接单 {id} 已由双方签字，不能再修改。"},
    "handover_cancelled": {"en": "Handover {id} was cancelled.", "zh_Hans": "交接单 {id} 已撤销。"},
    "discrepancies_unexplained": {
        "en": "{count} difference(s) are not explained yet: explain or escalate each before signing.",
        "zh_Hans": "还有 {count} 处差异未说明：每一处须说明或上报后才能签字交接。"},
    "no_discrepancy": {"en": "This line of the count shows no difference to explain.",
                       "zh_Hans": "该项盘点无差异，无需说明。"},
    "not_in_handover": {"en": "This item is not part of handover {id}.", "zh_Hans": "该物品不在交接单 {id} 中。"},
    "not_a_tag": {"en": "Scan the tag on the item, not the {role}.", "zh_Hans": "请扫描物品上的标签（上联），而不是取件凭条。"},
    "already_signed": {"en": "{by} already signed as the incoming clerk.", "zh_Hans": "{by} 已作为接班人签字。"},
    "personal_login_required": {"en": "Counting and signing need a person's own login, not a device.",
                                "zh_Hans": "盘点和签字须使用本人账号，不能使用设备账号。"},
    "time_in_future": {"en": "{field} is in the future.", "zh_Hans": "{field} 晚于当前时间。"},
    "invalid_code_digest": {"en": "code_digest is the 32-character digest shown on the line of an unknown code.",
                            "zh_Hans": "code_digest 须为未知二维码所在行显示的 32 位摘要。"},
    "finding.found": {"en": "Found", "zh_Hans": "已清点"},
    "finding.extra": {"en": "Held, not expected", "zh_Hans": "在册（开单后寄存）"},
    "finding.unexpected": {"en": "Unexpected", "zh_Hans": "账外物品"},
    "finding.missing": {"en": "Missing", "zh_Hans": "缺失"},
    "finding.gone": {"en": "Handed out or lent since opening", "zh_Hans": "开单后已领取或借出"},
    "finding.on_loan": {"en": "Out on loan", "zh_Hans": "已借出"},
    "discrepancy.wrong_place": {"en": "Wrong place", "zh_Hans": "存放位置不符"},
    "key_kind.unit_key": {"en": "Unit keys", "zh_Hans": "单元钥匙"},
    "key_kind.shop_key": {"en": "Shop keys", "zh_Hans": "商铺钥匙"},
    "key_kind.resident_card": {"en": "Resident cards", "zh_Hans": "住户卡"},
    "key_kind.car_card": {"en": "Car cards", "zh_Hans": "车卡"},
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
    # --- the supervisor: lists, contact log, unclaimed items (kiosk/overdue.py, contacts.py, unclaimed.py) ---
    "invalid_cursor": {"en": "This cursor is not a place in this list; start again from the first page.",
                       "zh_Hans": "该游标不属于此列表，请从第一页重新开始。"},
    "invalid_method": {"en": "method must be one of: {choices}.", "zh_Hans": "联系方式只能是：{choices}。"},
    "invalid_outcome": {"en": "With this method the outcome is one of: {choices}.",
                        "zh_Hans": "该联系方式的结果只能是：{choices}。"},
    "unexpected_field": {"en": "{field} only goes with another choice (promised_at with promised_pickup).",
                         "zh_Hans": "{field} 仅用于其他选项（promised_at 仅用于“约定取件”）。"},
    "before_deposit": {"en": "{field} is before the item was deposited.", "zh_Hans": "{field} 早于物品寄存时间。"},
    "invalid_action": {"en": "action must be one of: {choices}.", "zh_Hans": "处理方式只能是：{choices}。"},
    "mail_returns_to_post": {"en": "Nobody disposes of mail: {ticket_no} goes back to the post office.",
                             "zh_Hans": "任何人不得处理他人邮件：{ticket_no} 应退回邮局。"},
    "not_overdue": {"en": "{ticket_no} is not overdue ({policy_status}); only overdue items are disposed of.",
                    "zh_Hans": "{ticket_no} 未逾期（{policy_status}）；只有逾期物品可申请处理。"},
    "disposal_pending": {"en": "{ticket_no} already has a pending request ({request_id}).",
                         "zh_Hans": "{ticket_no} 已有待审批的处理申请（{request_id}）。"},
    "disposal_not_pending": {"en": "Request {request_id} is already {state}.", "zh_Hans": "申请 {request_id} 已{state}。"},
    "second_approver_required": {
        "en": "A second supervisor must approve: {requested_by} asked for this and cannot approve it as well.",
        "zh_Hans": "须由另一位主管审批：{requested_by} 是申请人，不能自行审批。"},
    "approver_not_supervisor": {"en": "Only a supervisor (not the requester) approves; a {role} may not.",
                                "zh_Hans": "只有主管（非申请人）可以审批；{role} 无权审批。"},
    "invalid_notify_channel": {"en": "channel must be one of: {choices}.", "zh_Hans": "通知方式只能是：{choices}。"},
    "no_owner_address": {"en": "The owner of {ticket_no} left no address for {channel}.",
                         "zh_Hans": "{ticket_no} 的寄存人未留下可用于此通知方式（{channel}）的联系方式。"},
    # --- words for codes the supervisor's lists show (CSV, print-out, pages) ---
    "kind.luggage": {"en": "Luggage", "zh_Hans": "行李"},
    "kind.key": {"en": "Key", "zh_Hans": "钥匙"},
    "kind.parcel": {"en": "Parcel", "zh_Hans": "包裹"},
    "kind.mail": {"en": "Mail", "zh_Hans": "信件"},
    "kind.short_term": {"en": "Short-term", "zh_Hans": "暂存"},
    "status.held": {"en": "Held", "zh_Hans": "寄存中"},
    "status.released": {"en": "Collected", "zh_Hans": "已领取"},
    "status.lent": {"en": "Lent out", "zh_Hans": "已借出"},
    "status.returned": {"en": "Returned to post office", "zh_Hans": "已退回邮局"},
    "status.disposed": {"en": "Disposed of", "zh_Hans": "已处理"},
    "status.lost_and_found": {"en": "Lost-and-found", "zh_Hans": "已转失物招领"},
    "policy.key_out_overnight": {"en": "Key out overnight", "zh_Hans": "钥匙借出过夜"},
    "policy.key_loan_overdue": {"en": "Key not back on time", "zh_Hans": "钥匙逾期未还"},
    "policy.return_to_post_overdue": {"en": "Return to post office: over 3 days", "zh_Hans": "退回邮局：已超 3 天"},
    "policy.express_not_reached": {"en": "Express item: owner not reached", "zh_Hans": "快件：未联系上寄存人"},
    "policy.past_expected_pickup": {"en": "Past pickup time", "zh_Hans": "已过预计领取时间"},
    "policy.owner_not_reached": {"en": "Owner not reached", "zh_Hans": "未联系上寄存人"},
    "policy.long_stay": {"en": "Long stay", "zh_Hans": "存放超时"},
    "policy.return_to_post": {"en": "To return to post office", "zh_Hans": "待退回邮局"},
    "policy.ok": {"en": "On time", "zh_Hans": "正常"},
    "size.small": {"en": "Small", "zh_Hans": "小件"},
    "size.large": {"en": "Large", "zh_Hans": "大件"},
    "method.phone": {"en": "Phone", "zh_Hans": "电话"},
    "method.sms": {"en": "SMS", "zh_Hans": "短信"},
    "method.email": {"en": "Email", "zh_Hans": "邮件"},
    "method.notice_slip": {"en": "Notice slip", "zh_Hans": "通知单"},
    "method.visit": {"en": "Visit", "zh_Hans": "上门"},
    "outcome.reached": {"en": "Reached", "zh_Hans": "已联系上"},
    "outcome.no_answer": {"en": "No answer", "zh_Hans": "无人接听"},
    "outcome.wrong_number": {"en": "Wrong number", "zh_Hans": "号码错误"},
    "outcome.promised_pickup": {"en": "Promised pickup", "zh_Hans": "约定取件"},
    "outcome.left_message": {"en": "Message left", "zh_Hans": "已留言"},
    "csv.ticket_no": {"en": "Ticket", "zh_Hans": "编号"},
    "csv.kind": {"en": "Kind", "zh_Hans": "类别"},
    "csv.status": {"en": "Status", "zh_Hans": "状态"},
    "csv.policy_status": {"en": "Follow-up", "zh_Hans": "跟进状态"},
    "csv.policy_since": {"en": "Since", "zh_Hans": "起始时间"},
    "csv.unit": {"en": "Unit", "zh_Hans": "房号"},
    "csv.owner_name": {"en": "Owner", "zh_Hans": "寄存人"},
    "csv.owner_phone": {"en": "Phone", "zh_Hans": "电话"},
    "csv.description": {"en": "Description", "zh_Hans": "物品描述"},
    "csv.size": {"en": "Size", "zh_Hans": "大小"},
    "csv.location": {"en": "Location", "zh_Hans": "存放位置"},
    "csv.deposited_at": {"en": "Deposited", "zh_Hans": "寄存时间"},
    "csv.held_days": {"en": "Days held", "zh_Hans": "存放天数"},
    "csv.expected_pickup_at": {"en": "Expected pickup", "zh_Hans": "预计领取时间"},
    "csv.last_contact_at": {"en": "Last contact", "zh_Hans": "最近联系时间"},
    "csv.last_contact": {"en": "Contact result", "zh_Hans": "联系结果"},
    "csv.last_contact_by": {"en": "Contacted by", "zh_Hans": "联系人"},
    "csv.contacts": {"en": "Attempts", "zh_Hans": "联系次数"},
    "csv.next_contact_due": {"en": "Next contact due", "zh_Hans": "下次联系时间"},
    "csv.released_at": {"en": "Left the desk", "zh_Hans": "离开前台时间"},
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
    # --- the complaints desk (kiosk/complaints.py, work_orders.py, workdays.py) ---
    "invalid_complaint_kind": {"en": "kind must be one of: {choices}.", "zh_Hans": "类型只能是：{choices}。"},
    "invalid_category": {"en": "category must be one of: {choices}.", "zh_Hans": "投诉类别只能是：{choices}。"},
    "invalid_channel": {"en": "channel must be one of: {choices} (kiosk only from a kiosk).",
                        "zh_Hans": "来源渠道只能是：{choices}（自助机渠道仅限自助机）。"},
    "invalid_area": {"en": "area must be one of: {choices}.", "zh_Hans": "分析类别只能是：{choices}。"},
    "invalid_wants": {"en": "wants takes: {choices}.", "zh_Hans": "客户诉求只能是：{choices}。"},
    "invalid_repair_scope": {"en": "repair_scope must be one of: {choices}.", "zh_Hans": "报修范围只能是：{choices}。"},
    "invalid_state": {"en": "{field} must be one of: {choices}.", "zh_Hans": "{field} 只能是：{choices}。"},
    "invalid_boolean": {"en": "{field} is true, false or null.", "zh_Hans": "{field} 须为 true、false 或 null。"},
    "field_not_allowed": {"en": "{field} cannot be given here.", "zh_Hans": "此处不能填写 {field}。"},
    "too_many_filings": {
        "en": "This kiosk has taken {limit} requests in {minutes} minutes; please try again later or ask at the desk.",
        "zh_Hans": "本自助机 {minutes} 分钟内已受理 {limit} 条诉求，请稍后再试或到前台办理。"},
    "not_complaint_owner": {
        "en": "{owner} took this complaint and keeps it until it is closed; only a supervisor can reassign it.",
        "zh_Hans": "此投诉由 {owner} 首问受理，结案前由其负责跟进；如需转交，请主管重新指派。"},
    "invalid_transition": {"en": "A complaint cannot go from {from_state} to {to}; next: {allowed}.",
                           "zh_Hans": "投诉不能从 {from_state} 转为 {to}；可转为：{allowed}。"},
    "written_reply_required": {"en": "A written complaint closes only after its written reply is recorded.",
                               "zh_Hans": "书面投诉须先记录书面回复，方可结案。"},
    "work_order_not_done": {"en": "Work order {work_order_id} is {state}; the repair counts as done when {needed}.",
                            "zh_Hans": "工程维修单 {work_order_id} 当前为 {state}；须达到 {needed} 才算处理完毕。"},
    "complaint_closed": {"en": "Complaint {id} is closed.", "zh_Hans": "投诉 {id} 已结案。"},
    "invalid_owner": {"en": "{name} is not an active desk user who can take complaints.",
                      "zh_Hans": "{name} 不是可受理投诉的在岗用户。"},
    "same_owner": {"en": "{name} already owns this complaint.", "zh_Hans": "{name} 已是此投诉的负责人。"},
    "no_working_days": {"en": "The calendar would have no working day left.", "zh_Hans": "日历将不再有工作日。"},
    "invalid_weekday": {"en": "weekday is 0 (Monday) to 6 (Sunday).", "zh_Hans": "星期须为 0（周一）至 6（周日）。"},
    "invalid_date": {"en": "{field} must be a date as YYYY-MM-DD.", "zh_Hans": "{field} 须为 YYYY-MM-DD 格式的日期。"},
    "invalid_range": {"en": "A calendar range is at most {limit} days, end after start.",
                      "zh_Hans": "日历查询范围最多 {limit} 天，且结束日期不早于开始日期。"},
    "invalid_week": {"en": "week is an ISO week such as 2026-W48.", "zh_Hans": "周次须为 ISO 周，如 2026-W48。"},
    "kind.complaint": {"en": "Complaint", "zh_Hans": "投诉"},
    "kind.repair": {"en": "Repair", "zh_Hans": "报修"},
    "kind.help": {"en": "Request for help", "zh_Hans": "求助"},
    "kind.suggestion": {"en": "Suggestion", "zh_Hans": "建议"},
    "category.housing": {"en": "Housing management", "zh_Hans": "房屋管理类"},
    "category.equipment": {"en": "Equipment", "zh_Hans": "设备管理类"},
    "category.security": {"en": "Security", "zh_Hans": "安全管理类"},
    "category.environment": {"en": "Environment (cleaning, green)", "zh_Hans": "环境管理类"},
    "category.general_service": {"en": "General service", "zh_Hans": "综合服务类"},
    "category.resident_dispute": {"en": "Disputes between residents", "zh_Hans": "业户纠纷类"},
    "category.developer": {"en": "Developer-related", "zh_Hans": "地产相关类"},
    "category.property_title": {"en": "Property-title service", "zh_Hans": "房产服务类"},
    "category.other": {"en": "Other", "zh_Hans": "其他类"},
    "channel.visit": {"en": "In person", "zh_Hans": "来访"},
    "channel.phone": {"en": "Phone", "zh_Hans": "来电"},
    "channel.letter": {"en": "Letter", "zh_Hans": "书信"},
    "channel.email": {"en": "E-mail", "zh_Hans": "电子邮件"},
    "channel.online_forum": {"en": "Online forum", "zh_Hans": "网上论坛"},
    "channel.media": {"en": "Media", "zh_Hans": "媒体、报刊"},
    "channel.company": {"en": "Forwarded by the company", "zh_Hans": "公司转来"},
    "channel.department": {"en": "Forwarded by a department", "zh_Hans": "部门转来"},
    "channel.colleague": {"en": "Reported by a colleague", "zh_Hans": "内部人员上报"},
    "channel.kiosk": {"en": "Lobby kiosk", "zh_Hans": "大堂自助机"},
    "area.energy": {"en": "Energy", "zh_Hans": "能耗"},
    "area.equipment": {"en": "Equipment", "zh_Hans": "设备"},
    "area.service": {"en": "Service", "zh_Hans": "服务"},
    "want.heard": {"en": "To be heard", "zh_Hans": "求发泄"},
    "want.respect": {"en": "Respect", "zh_Hans": "求尊重"},
    "want.fix": {"en": "A fix", "zh_Hans": "求解决问题"},
    "want.compensation": {"en": "Compensation", "zh_Hans": "求赔偿"},
    "state.received": {"en": "Received", "zh_Hans": "已受理"},
    "state.acknowledged": {"en": "Acknowledged", "zh_Hans": "已确认"},
    "state.in_progress": {"en": "In progress", "zh_Hans": "处理中"},
    "state.resolved": {"en": "Resolved", "zh_Hans": "已解决"},
    "state.followed_up": {"en": "Followed up", "zh_Hans": "已回访"},
    "state.closed": {"en": "Closed", "zh_Hans": "已结案"},
    "repair_scope.public": {"en": "Public area", "zh_Hans": "公共区域"},
    "repair_scope.in_unit": {"en": "Inside the unit", "zh_Hans": "户内"},
    "work_order.issued": {"en": "Issued", "zh_Hans": "已派单"},
    "work_order.in_progress": {"en": "In progress", "zh_Hans": "维修中"},
    "work_order.completed": {"en": "Completed", "zh_Hans": "已完工"},
    "work_order.checked": {"en": "Checked", "zh_Hans": "已验收"},
    "analysis.received": {"en": "Received", "zh_Hans": "受理总数"},
    "analysis.overdue_replies": {"en": "Replies overdue", "zh_Hans": "超时未回复"},
    "analysis.first_replies": {"en": "First replies", "zh_Hans": "首次回复数"},
    "analysis.median_first_reply_hours": {"en": "Median hours to first reply", "zh_Hans": "首次回复时长中位数（小时）"},
    "analysis.closed": {"en": "Closed", "zh_Hans": "结案数"},
    "analysis.median_close_hours": {"en": "Median hours to close", "zh_Hans": "结案时长中位数（小时）"},
    "analysis.follow_ups": {"en": "Follow-up visits", "zh_Hans": "回访数"},
    "analysis.satisfied": {"en": "Satisfied at follow-up", "zh_Hans": "回访满意数"},
    "analysis.satisfaction_rate": {"en": "Satisfaction rate", "zh_Hans": "回访满意率"},
    "analysis.flagged_repeats": {"en": "Repeat complaints this month", "zh_Hans": "本月重复投诉数"},
    # --- the desk's places (printed on tags, shown on pages) ---
    "location.front_desk": {"en": "Front desk", "zh_Hans": "前台"},
    "location.management_office": {"en": "Office", "zh_Hans": "管理处"},
    "location.storeroom": {"en": "Storeroom", "zh_Hans": "储物间"},
    "location.key_cabinet": {"en": "Key cabinet", "zh_Hans": "钥匙柜"},
    "location.mail_shelf": {"en": "Mail shelf", "zh_Hans": "邮件架"},
    # --- the staff desk's pages (issues 12, 13) ---
    "kind_has_own_intake": {
        "en": "A {kind} is not taken in here: use {path}, which checks the owner's consent or the residents "
              "register.",
        "zh_Hans": "此处不登记{kind}：请使用 {path}，该处会核对业主同意或住户名册。"},
    "pickup_already_in_hand": {"en": "{by} is already fetching {ticket_no}.",
                               "zh_Hans": "{by} 已在取 {ticket_no}。"},
    "pickup_not_waiting": {"en": "Nobody is waiting at the kiosk for {ticket_no} now.",
                           "zh_Hans": "目前没有人在自助机等候领取 {ticket_no}。"},
    "phone_retype": {"en": "For privacy the number is not shown again: please type {field} again.",
                     "zh_Hans": "为保护隐私不再显示号码：请重新填写{field}。"},
    "no_such_key": {"en": "No key with ticket {ticket_no} is held.", "zh_Hans": "没有在柜的钥匙 {ticket_no}。"},
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
    if "{" not in template:
        return template   # nothing to fill in (most sentences): no formatter to make and run
    values = _Lenient({key: _value(value) for key, value in params.items()})
    values.setdefault("choices_hint", f" ({values['choices']})" if "choices" in params else "")
    return string.Formatter().vformat(template, (), values)


def has_message(code: str) -> bool:
    return code in CATALOGUE


def word(group: str, code: str, locale: str | None = None) -> str:
    """The word for a code of the desk (``word("kind", "parcel")`` → 包裹); the code itself if none."""
    key = f"{group}.{code}"
    return message(key, locale) if key in CATALOGUE else code


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
