"""The reference floor: the ledger's three hot requests with nothing between HTTP and the database.

Same schema (the project's migrations), same database, same gunicorn command, same load tool,
same rules: the API's request models (web.api: pydantic, the same checks of every field), the
desk's intake rules (kiosk.policy), the claim-code MACs (kiosk.codes), the role table
(kiosk.accounts) and the audit trail's keyed row hash (kiosk.audit), so the sealer chains and
`kiosk audit verify` accepts every row it writes. What it leaves out is the work between: no ORM, no per-request session, one DB-API
connection per server thread, the statements written out.

    deposit   token lookup; BEGIN; item INSERT numbered by the site's sequence (on SQLite: ticket
              counter UPDATE .. RETURNING first); print job INSERT; audit INSERT (keyed row hash,
              no lock); COMMIT
    scan      token lookup; item SELECT; BEGIN; audit INSERT; COMMIT
    release   token lookup; BEGIN; one conditional UPDATE .. RETURNING; audit INSERT; COMMIT

A tiny Flask app, not bare WSGI: the product is and stays a Flask app, so Flask's own cost per
request is part of any product; a floor without it would set a target no product could reach.
Only the requests the bench sends are served; other inputs get a bare error, unrecorded.

    gunicorn 'bench.floor:create_app()'   with KIOSK_DATABASE_URL and KIOSK_SECRET_KEY set
"""
import hashlib
import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
from flask import Flask, jsonify, request

from kiosk import accounts, codes, policy
from kiosk.audit import canonical, row_hash   # the trail's very hash function, so verify accepts the rows
from kiosk.keys import derive_key
from kiosk.values import Actor
from web.api.items import DepositRequest, ReleaseRequest
from web.api.scans import ScanRequest


def create_app() -> Flask:
    url, site = os.environ["KIOSK_DATABASE_URL"], os.environ.get("KIOSK_SITE", "A")
    key = derive_key(os.environ["KIOSK_SECRET_KEY"], "claim codes")
    audit_key = derive_key(os.environ["KIOSK_SECRET_KEY"], "audit chain")
    printer = os.environ.get("KIOSK_PRINTER_URL", "preview://instance/labels")
    sqlite = url.startswith("sqlite")
    local = threading.local()
    app = Flask(__name__)

    def db():
        if not hasattr(local, "db"):
            if sqlite:   # as kiosk/db.py sets SQLite up: WAL, and every write transaction BEGIN IMMEDIATE
                local.db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
                local.db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
            else:
                local.db = psycopg.connect(url.replace("+psycopg", ""), autocommit=True)
        return local.db

    def run(sql, *params):
        cursor = db().execute(sql if sqlite else sql.replace("?", "%s"), params)
        return cursor.fetchone() if cursor.description else None

    def at(moment):   # a UTC time as the project's column type stores it: naive text on SQLite
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds") if sqlite else moment

    @contextmanager
    def transaction():
        db().execute("BEGIN IMMEDIATE" if sqlite else "BEGIN")
        try:
            yield
        except BaseException:
            db().execute("ROLLBACK")
            raise
        db().execute("COMMIT")

    def audit(event, actor, item_id, details, now):
        text = canonical(details)
        digest = row_hash(audit_key, now, event, item_id, actor.name, actor.role, actor.device, text)
        run("INSERT INTO audit_events (at, event, item_id, actor, actor_role, device, details, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", at(now), event, item_id, actor.name, actor.role, actor.device, text,
            digest)

    def actor(action):
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        row = run("SELECT u.id, u.name, u.role, t.device FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id "
                  "WHERE t.token_digest = ? AND t.revoked_at IS NULL", hashlib.sha256(token.encode()).hexdigest())
        if row is None:
            raise PermissionError("unauthorized")
        who = Actor(f"kiosk:{row[3]}", accounts.KIOSK, device=row[3]) if row[3] else Actor(row[1], row[2], row[0])
        if not accounts.may(who.role, action):
            raise PermissionError("forbidden")
        return who

    @app.errorhandler(Exception)
    def refuse(error):
        return jsonify(error={"code": type(error).__name__}), 403 if isinstance(error, PermissionError) else 409

    @app.get("/api/v1/health")
    def health():
        return jsonify(status="ok")

    @app.post("/api/v1/items")
    def deposit():
        who, now = actor("deposit"), datetime.now(UTC)
        form = policy.check_deposit(DepositRequest.model_validate_json(request.get_data()).form(), now)
        policy.check_refusal(form.declared)
        policy.check_acknowledgement(form)
        suggested = policy.suggest_location(form.kind, form.size, now, form.expected_pickup_at)
        where = form.location or suggested
        with transaction():
            if sqlite:   # the site's counter, as kiosk.ledger does on SQLite (one writer at a time there)
                [number] = run("UPDATE ticket_counters SET last_value = last_value + 1 WHERE site = ? "
                               "RETURNING last_value", site)
                ticket = f"{site}-{number:04d}"
            else:        # the site's sequence, inside the item's INSERT, as kiosk.ledger does
                ticket = site
            item_id, ticket = run(
                "INSERT INTO items (site, ticket_no, kind, status, owner_unit, owner_name, owner_phone, description, "
                "size, declared, disclaimer_acknowledged, expected_pickup_at, designated_name, designated_phone, "
                "carrier, urgent, location, location_detail, suggested_location, staff_id, staff_name, deposited_at, "
                f"claim_generation, claim_state) VALUES (?, {'?' if sqlite else 'next_ticket_no(?)'}, ?, 'held', ?, "
                "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, 0, 'active') RETURNING id, ticket_no", site, ticket, form.kind, form.owner.unit, form.owner.name,
                form.owner.phone, form.description, form.size, ",".join(form.declared), form.disclaimer_acknowledged,
                form.expected_pickup_at and at(form.expected_pickup_at), form.designated_name, form.designated_phone,
                form.carrier, form.urgent, where, form.location_detail, suggested, who.user_id, who.name, at(now))
            run("INSERT INTO print_jobs (item_id, printer, printer_url, reprint, status, attempts, next_attempt_at, "
                "requested_by, created_at) VALUES (?, 'default', ?, ?, 'queued', 0, ?, ?, ?)",
                item_id, printer, False, at(now), who.name, at(now))
            audit("deposit", who, item_id, {
                "ticket_no": ticket, "kind": form.kind, "unit": form.owner.unit, "size": form.size, "location": where,
                "suggested_location": suggested, "declared": list(form.declared),
                "disclaimer_acknowledged": form.disclaimer_acknowledged}, now)
        role = codes.PICKUP if form.kind in policy.NOTICE_KINDS else codes.STUB
        return jsonify(id=item_id, ticket_no=ticket, status="held", tag_code=codes.make(key, codes.TAG, item_id),
                       **{f"{codes.ROLES[role]}_code": codes.make(key, role, item_id)}), 201

    def code(text, *roles):
        parsed = codes.parse(text)
        if parsed.role not in roles or not codes.authentic(key, parsed):
            raise LookupError("unknown_code")
        return parsed

    @app.post("/api/v1/scans")
    def scan():
        who, now = actor("scan"), datetime.now(UTC)
        stub = code(ScanRequest.model_validate_json(request.get_data()).code, codes.STUB, codes.PICKUP)
        ticket, kind, status, generation, state = run(
            "SELECT ticket_no, kind, status, claim_generation, claim_state FROM items WHERE id = ?", stub.item_id)
        if stub.role != (codes.PICKUP if kind in policy.NOTICE_KINDS else codes.STUB):
            raise LookupError("unknown_code")
        if (generation, state) != (stub.generation, "active"):
            raise LookupError("stub_revoked")   # the product raises an alert here; not a hot path
        step = "present_at_desk" if status == "held" else "none"
        with transaction():
            audit("scan", who, stub.item_id, {"ticket_no": ticket, "role": stub.role_name, "next": step}, now)
        return jsonify(role=stub.role_name, next=step)

    @app.post("/api/v1/items/<int:item_id>/release")
    def release(item_id):
        who, body, now = actor("release"), ReleaseRequest.model_validate_json(request.get_data()), datetime.now(UTC)
        tag, stub = code(body.tag_code, codes.TAG), code(body.stub_code or body.pickup_code, codes.STUB, codes.PICKUP)
        if tag.item_id != item_id or stub.item_id != item_id:
            raise LookupError("code_mismatch")
        with transaction():
            ticket, collector = run(
                "UPDATE items SET status = 'released', released_at = ?, released_by_id = ?, released_by_name = ?, "
                "release_method = 'stub', collector_name = owner_name WHERE id = ? AND status = 'held' "
                "AND claim_generation = ? AND claim_state = 'active' AND (kind IN ('parcel', 'mail')) = ? "
                "RETURNING ticket_no, collector_name", at(now), who.user_id, who.name, item_id, stub.generation,
                stub.role == codes.PICKUP) or (None, None)
            if ticket is None:
                raise LookupError("already_released")
            audit("release", who, item_id, {
                "ticket_no": ticket, "method": "stub", "collector_is_depositor": True, "collector_name": collector,
                "collector_id_type": None, "collector_id_last4": None}, now)
        return jsonify(id=item_id, ticket_no=ticket, status="released")

    with transaction():   # the site's counter, made once as the product's first deposit would
        run("INSERT INTO ticket_counters (site, last_value) VALUES (?, 0) ON CONFLICT DO NOTHING", site)
    return app
