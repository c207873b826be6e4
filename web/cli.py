"""The ``kiosk`` command line: commands hang off the app (``app.cli``), so tests drive them
with Flask's CLI runner and every command works inside the app's context."""
from __future__ import annotations

import sys
import threading

import click
from flask import current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy.engine import make_url

from kiosk import accounts, anchors, audit, enrolment
from kiosk.db import current_revision, grant_app_role, head_revision, make_engine, migrate, normalise_url
from kiosk.errors import KioskError

from .db import engine, transaction
from .messages import API_LOCALE, message
from .sealer import Sealer, anchor_path, seal_now
from .sealer import start_thread as start_sealer

cli = AppGroup("kiosk", help="Lobby custody kiosk commands.")


def _fail(error: KioskError):
    raise click.ClickException(f"{message(error.code, API_LOCALE, **error.params)} [{error.code}]")


def _app():
    app = current_app._get_current_object()
    # Close pooled connections when the command ends, not whenever the GC gets to them.
    click.get_current_context().call_on_close(engine(app).dispose)
    return app


@cli.command(help="Create or upgrade the database schema (Alembic migrations).\n\n"
                  "On PostgreSQL, set KIOSK_ADMIN_DATABASE_URL to the schema owner's connection: the "
                  "schema is migrated as that role, and the app's role (the user of KIOSK_DATABASE_URL) "
                  "is granted only what it needs (the audit trail: SELECT and INSERT).")
def init():
    app = _app()
    admin_url = app.config.get("ADMIN_DATABASE_URL")
    if not admin_url:
        migrate(engine(app))
        click.echo(f"database ready at revision {current_revision(engine(app))}")
        if engine(app).dialect.name == "postgresql":
            click.echo("warning: the app's own role owns the schema, so it could rewrite the audit trail; "
                       "set KIOSK_ADMIN_DATABASE_URL to migrate as a separate owner role", err=True)
        return
    owner = make_engine(admin_url)
    try:
        migrate(owner)
        click.echo(f"database ready at revision {current_revision(owner)}")
        app_role = make_url(normalise_url(app.config["DATABASE_URL"])).username
        if owner.dialect.name == "postgresql" and app_role and app_role != owner.url.username:
            grant_app_role(owner, app_role)
            click.echo(f"granted role {app_role} what the app needs (audit trail: SELECT, INSERT)")
    finally:
        owner.dispose()


@cli.group(help="Desk users.")
def user():
    pass


@user.command("add", help="Add a user with a role: staff, supervisor, security or admin.")
@click.argument("name")
@click.option("--role", type=click.Choice(accounts.ROLES), required=True)
@click.option("--password", default=None, help="For the web pages; API access uses tokens.")
def user_add(name, role, password):
    try:
        with transaction(_app()) as session:
            accounts.add_user(session, name, role, password)
    except KioskError as error:
        _fail(error)
    click.echo(f"added {role} {name}")


@cli.group(help="API bearer tokens.")
def token():
    pass


@token.command("create", help="Print a new bearer token for user NAME, or with --kiosk for a kiosk device.\n\n"
                              "A kiosk token may only scan. With --enrol, print instead a one-time link that, "
                              "opened on the kiosk's browser, makes that browser the kiosk DEVICE.")
@click.argument("name", required=False)
@click.option("--kiosk", "device", default=None, metavar="DEVICE", help="A token for this kiosk device.")
@click.option("--enrol", is_flag=True, help="With --kiosk: a one-time enrolment link for a browser (valid 24 h).")
@click.option("--url", "base_url", envvar="KIOSK_PUBLIC_URL", default="http://127.0.0.1:8080", show_default=True,
              help="With --enrol: the address the kiosk reaches this server at (or KIOSK_PUBLIC_URL).")
def token_create(name, device, enrol, base_url):
    if (name is None) == (device is None):
        raise click.UsageError("give a user NAME or --kiosk DEVICE")
    if enrol and device is None:
        raise click.UsageError("--enrol needs --kiosk DEVICE")
    try:
        with transaction(_app()) as session:
            if enrol:
                value = base_url.rstrip("/") + f"/kiosk/enrol/{enrolment.invite(session, device)}"
            else:
                value = accounts.create_token(session, user_name=name, device=device)
    except KioskError as error:
        _fail(error)
    click.echo(value)


@token.command("revoke", help="Revoke a bearer token, or with --kiosk every token and enrolled browser of a device.")
@click.argument("value", required=False)
@click.option("--kiosk", "device", default=None, metavar="DEVICE",
              help="Withdraw this kiosk device: its tokens, enrolled browsers and unused enrolment links.")
def token_revoke(value, device):
    if (value is None) == (device is None):
        raise click.UsageError("give a TOKEN or --kiosk DEVICE")
    try:
        with transaction(_app()) as session:
            if device is not None:
                count = enrolment.withdraw(session, device)
            else:
                accounts.revoke_token(session, value)
    except KioskError as error:
        _fail(error)
    click.echo("revoked" if device is None else f"withdrew {device}: {count} token(s) revoked")


@cli.group(help="The audit trail.")
def audit_group():
    pass


cli.add_command(audit_group, "audit")


@audit_group.command("verify", help="Check every row, seal and anchor; exit 1 if anything was changed or removed.")
@click.option("--anchors", "anchor_files", multiple=True, type=click.Path(dir_okay=False),
              help="Anchor files to check against (default: the instance's audit-anchors.log).")
def audit_verify(anchor_files):
    app = _app()
    key = app.config["AUDIT_KEY"]
    found = [a for path in (anchor_files or (anchor_path(app),)) for a in anchors.read(path, key)]
    with transaction(app) as session:
        verdict = audit.verify(session, key, anchors=found)
    waiting = f", {verdict.unsealed} not sealed yet" if verdict.unsealed else ""
    if verdict.ok:
        click.echo(f"audit trail intact: {verdict.rows} rows ({verdict.sealed} sealed{waiting}), "
                   f"{verdict.anchors} anchors agree; head {verdict.head_position}:{verdict.head_hash[:16]}")
        return
    for problem in verdict.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    sys.exit(1)


@audit_group.command("seal", help="Chain new audit rows as they commit (kiosk serve and kiosk print-worker "
                                  "already do this; one process seals at a time).")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def audit_seal(once):
    app = _app()
    _check_schema(app)
    if once:
        sealed = seal_now(app)
        click.echo("another process is sealing" if sealed is None else f"sealed {sealed} rows")
        return
    Sealer(app).run(threading.Event())


@audit_group.command("anchor", help="Write the sealed chain's head to the anchor file (outside the database).")
@click.option("--reason", default="manual", show_default=True)
def audit_anchor(reason):
    app = _app()
    with transaction(app) as session:
        taken = anchors.anchor(session, app.config["AUDIT_KEY"], anchor_path(app), reason)
    click.echo(f"anchored seal {taken.position} ({taken.hash}) in {anchor_path(app)}")


def _check_schema(app):
    if current_revision(engine(app)) != head_revision():
        raise click.ClickException("the database schema is not current: run `kiosk init` first")


@cli.command(help="Serve the web pages and API with a production WSGI server: gunicorn, --workers "
                  "processes of --threads threads each (waitress, one process, where gunicorn is missing).\n\n"
                  "--workers defaults to the number of cores with PostgreSQL, and to 1 with SQLite, where every "
                  "write takes the one database file's lock, so a second process adds waiting, not throughput.\n\n"
                  "Queued labels and owner notifications are sent by a worker process of its own beside them, "
                  "unless --no-print-worker / --no-notify-worker (then run `kiosk print-worker` / "
                  "`kiosk notify-worker` somewhere). This process seals the audit trail (one process of all "
                  "the servers on a database does at a time).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int, help="0 picks a free port (printed).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="App processes  [default: cores on PostgreSQL, 1 on SQLite]")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 256),
              help="Threads per process; half of them may hold live pages' event streams.")
@click.option("--print-worker/--no-print-worker", default=True, show_default=True)
@click.option("--notify-worker/--no-notify-worker", default=True, show_default=True)
def serve(host, port, workers, threads, print_worker, notify_worker):
    app = _app()
    _check_schema(app)
    _serve(app, host, port, workers, threads, print_worker, notify_worker)


def _serve(app, host, port, workers, threads, print_worker, notify_worker):
    from . import serving

    # The processes serving make their own apps and connections; this one watches them, and seals.
    engine(app).dispose()
    start_sealer(app)
    try:
        status = serving.serve(host, port, workers=workers or serving.default_workers(app.config["DATABASE_URL"]),
                               threads=threads, print_worker=print_worker, notify_worker=notify_worker,
                               announce=click.echo)
    except serving.ServingError as error:
        raise click.ClickException(str(error)) from None
    sys.exit(status)


@cli.command("print-worker", help="Send queued labels to their printers, retrying offline printers with backoff; "
                                  "also seals the audit trail (one process at a time).")
@click.option("--once", is_flag=True, help="One pass over the due jobs, then exit.")
def print_worker_command(once):
    from .print_worker import run_forever, run_once

    app = _app()
    _check_schema(app)
    if once:
        done = run_once(app)
        click.echo(f"printed {len(done.printed)}, printer offline {len(done.offline)}, in doubt "
                   f"{len(done.in_doubt)}, failed {len(done.failed)}")
        return
    start_sealer(app)
    run_forever(app, threading.Event())


@cli.command("notify-worker", help="Send owner notifications (email via KIOSK_SMTP_URL, text messages via "
                                    "KIOSK_SMS_WEBHOOK_URL, mailbox notices via the print queue), queue "
                                    "express-item reminders when due, and raise alerts for keys out too long.")
@click.option("--once", is_flag=True, help="One pass, then exit.")
def notify_worker_command(once):
    import threading

    from .notify_worker import run_forever, run_once

    app = _app()
    _check_schema(app)
    if once:
        done = run_once(app)
        click.echo(f"sent {len(done.sent)}, retrying {len(done.retrying)}, failed {len(done.failed)}, "
                   f"in doubt {len(done.in_doubt)}; reminders queued {done.reminders}, alerts {done.alerts}")
        return
    run_forever(app, threading.Event())


@cli.group(help="The residents register: who lives here (mail and parcels are taken in only for them).")
def resident():
    pass


def _shell_actor():
    """Whoever runs the command on the server's own shell, named so in the audit trail."""
    import getpass

    from kiosk.values import Actor

    return Actor(name=f"cli:{getpass.getuser()}"[:64], role="admin")


def _resident_form(row: dict):
    from kiosk.values import ResidentForm

    return ResidentForm(unit=row.get("unit") or "", name=row.get("name") or "", phone=row.get("phone") or "",
                        email=row.get("email") or None, locale=row.get("locale") or "zh_Hans",
                        courier_consent=str(row.get("courier_consent") or "").strip().lower() in ("1", "yes", "true"))


@resident.command("add", help="Add a resident of UNIT called NAME.")
@click.argument("unit")
@click.argument("name")
@click.option("--phone", required=True)
@click.option("--email", default=None)
@click.option("--locale", type=click.Choice(("zh_Hans", "en")), default="zh_Hans", show_default=True,
              help="The language of their notices.")
@click.option("--courier-consent", is_flag=True, help="The desk may sign for their courier parcels.")
def resident_add(unit, name, phone, email, locale, courier_consent):
    from kiosk import residents

    try:
        with transaction(_app()) as session:
            added = residents.add(session, _shell_actor(), _resident_form(
                {"unit": unit, "name": name, "phone": phone, "email": email, "locale": locale,
                 "courier_consent": "1" if courier_consent else ""}))
            line = f"added resident {added.id}: {added.unit} {added.name}"
    except KioskError as error:
        _fail(error)
    click.echo(line)


@resident.command("import", help="Add the residents in a CSV file (UTF-8) with a header row: unit,name,phone "
                                 "and optionally email,locale,courier_consent (1/0). Residents already "
                                 "registered are skipped; nothing is added if any row is invalid.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def resident_import(path):
    import csv

    from kiosk import residents

    added = skipped = 0
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    with transaction(_app()) as session:
        for number, row in enumerate(rows, start=2):
            form = _resident_form(row)
            if residents.find(session, form.unit, form.name) is not None:
                skipped += 1
                continue
            try:
                residents.add(session, _shell_actor(), form)
            except KioskError as error:
                raise click.ClickException(
                    f"line {number}: {message(error.code, API_LOCALE, **error.params)} [{error.code}]") from None
            added += 1
    click.echo(f"added {added} residents, {skipped} already registered")


@resident.command("list", help="List current residents, optionally of one unit.")
@click.option("--unit", default=None)
def resident_list(unit):
    from kiosk import residents

    with transaction(_app()) as session:
        lines = [f"{p.id:>5}  {p.unit:<10} {p.name:<20} {p.locale:<7} {'email' if p.email else '':<5} "
                 f"{'courier-consent' if p.courier_consent else ''}".rstrip()
                 for p in residents.list_residents(session, unit=unit)]
    for line in lines:
        click.echo(line)


@resident.command("move-out", help="Mark resident ID as moved out (kept, so their mail is recognised).")
@click.argument("resident_id", type=int)
def resident_move_out(resident_id):
    from kiosk import residents

    try:
        with transaction(_app()) as session:
            gone = residents.move_out(session, _shell_actor(), resident_id)
            line = f"resident {gone.id} ({gone.unit} {gone.name}) moved out"
    except KioskError as error:
        _fail(error)
    click.echo(line)


@cli.group(help="The complaints desk.")
def complaints():
    pass


@complaints.command("check-overdue", help="Raise an alert for every promised reply not given in time "
                                          "(`kiosk serve` does this every minute).")
def check_overdue():
    from . import complaint_watch

    app = _app()
    _check_schema(app)
    raised = complaint_watch.run_once(app)
    click.echo(f"{len(raised)} overdue repl{'y' if len(raised) == 1 else 'ies'} alerted")


@cli.command(help="Read claim codes from a camera, a video file or image files and scan each new one.\n\n"
                    "Locally into this host's ledger as kiosk DEVICE, or with --server and a kiosk --token "
                    "through a server's API. Runs headless; --show opens a preview window.")
@click.option("--camera", default=None, metavar="INDEX|URL", help="Camera index (0) or stream URL.")
@click.option("--video", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--image", "images", type=click.Path(exists=True, dir_okay=False), multiple=True)
@click.option("--server", default=None, help="Base URL of a kiosk server, e.g. http://desk:8080")
@click.option("--token", envvar="KIOSK_TOKEN", default=None, help="Kiosk device token for --server.")
@click.option("--device", envvar="KIOSK_DEVICE_NAME", default="lobby", show_default=True,
              help="This kiosk's name in the audit trail (local mode).")
@click.option("--max-frames", type=int, default=None, help="Stop after this many frames.")
@click.option("--show", is_flag=True, help="Show the camera picture with the codes outlined.")
def scan(camera, video, images, server, token, device, max_frames, show):
    import scanning

    from .scan_client import LocalLedger, RemoteLedger, describe

    sources = [s for s in (camera, video, images or None) if s is not None]
    if len(sources) != 1:
        raise click.UsageError("give exactly one of --camera, --video or --image")
    if server and not token:
        raise click.UsageError("--server needs a kiosk --token (or KIOSK_TOKEN)")
    ledger = RemoteLedger(server, token) if server else LocalLedger(_app(), device)
    if not server:
        _check_schema(ledger.app)

    def report(text):
        click.echo(describe(text, ledger.scan(text)))

    if images:
        for path in images:
            try:
                found = scanning.decode_file(path, budget_ms=800.0)
            except scanning.ScanError as error:
                click.echo(f"{path}: {error} [{error.code}]", err=True)
                continue
            if not found:
                click.echo(f"{path}: no code found")
            for code in found:
                report(code.text)
        return
    try:
        frames = scanning.scan_source(camera if camera is not None else video, lambda s: report(s.code.text),
                                      max_frames=max_frames, show=show)
    except scanning.ScanError as error:
        raise click.ClickException(f"{error} [{error.code}]") from None
    except KeyboardInterrupt:
        return
    click.echo(f"{frames} frames read", err=True)


@cli.group(help="Label printers.")
def printer():
    pass


@printer.command("test", help="Print a test label on the printer at URL (tcp://, usb://, serial://, file://, "
                              "cups://, preview://DIR).")
@click.argument("url")
def printer_test(url):
    import printing

    try:
        delivery = printing.print_test_label(url)
    except printing.PrintingError as error:
        raise click.ClickException(f"{error.message} [{error.code}]") from None
    click.echo(f"sent {delivery.bytes_sent} bytes to {url}")
    for path in delivery.files:
        click.echo(f"  wrote {path}")


@cli.command(help="Set up a demo desk on SQLite with sample items, print their labels, and serve it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Set up and print, but do not start the server.")
def demo(host, port, no_serve):
    from .demo import build_demo

    app = _app()
    migrate(engine(app))
    for line in build_demo(app, f"http://{host}:{port}"):
        click.echo(line)
    if no_serve:
        return
    _serve(app, host, port, None, 8, True, True)


def init_app(app) -> None:
    for name, command in cli.commands.items():
        app.cli.add_command(command, name)


def _create_app():
    from . import create_app

    return create_app()


main = FlaskGroup(create_app=_create_app, add_default_commands=False, add_version_option=False,
                  set_debug_flag=False, load_dotenv=False,
                  help="Lobby custody kiosk: the front desk's ledger for luggage, keys, parcels and mail.\n\n"
                       "Configuration comes from KIOSK_* environment variables (see README).")

if __name__ == "__main__":
    main()
