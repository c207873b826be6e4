"""Labels through the durable queue to a real TCP printer on loopback."""
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from kiosk import printjobs
from kiosk.models import AuditEvent, PrintJob
from printing.escpos_reader import qr_payloads
from tests.conftest import luggage
from tests.printing.conftest import LoopbackPrinter
from tests.printing.escpos_helpers import part_text, split_parts
from web.print_worker import run_once


@pytest.fixture
def printer(app):
    device = LoopbackPrinter()
    app.config["PRINTERS"] = {"default": device.url}
    yield device
    device.close()


def deposit(api, **overrides):
    response = api.post("/items", json=luggage(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count(session, model, *where) -> int:
    value = session.scalar(select(func.count()).select_from(model).where(*where))
    session.rollback()
    return value


def test_the_printed_label_carries_exactly_the_items_codes(app, api, printer, session):
    body = deposit(api)
    assert body["print_job"]["status"] == "queued"
    assert run_once(app).printed == [body["print_job"]["id"]]
    tag, stub = split_parts(printer.wait_for_job())
    assert qr_payloads(tag) == [body["tag_code"]]
    assert qr_payloads(stub) == [body["stub_code"]]
    for part in (tag, stub):
        assert body["ticket_no"] in part_text(part)
    assert "138****5678" in part_text(stub) and "13812345678" not in part_text(stub)
    assert count(session, AuditEvent, AuditEvent.event == "print") == 1
    assert run_once(app).printed == []
    assert len(printer.jobs) == 1


def test_a_printer_that_is_down_gets_every_label_once_when_it_returns(app, api, session):
    with __import__("socket").socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.config["PRINTERS"] = {"default": f"tcp://127.0.0.1:{port}?timeout=1"}
    bodies = [deposit(api) for _ in range(5)]
    now = datetime.now(UTC)

    down = run_once(app, now=now)
    # One connect timeout for the printer, not one per label: the others wait with it.
    assert down.printed == [] and down.offline == [bodies[0]["print_job"]["id"]]
    jobs = api.get("/print-jobs").get_json()["print_jobs"]
    assert {j["status"] for j in jobs} == {"queued"} and len(jobs) == 5
    assert run_once(app, now=now + timedelta(milliseconds=500)).offline == []  # backing off, not hammering

    device = LoopbackPrinter(port=port)
    try:
        printed = []
        for _ in range(6):  # one label at a time on a printer
            printed += run_once(app, now=now + timedelta(minutes=10)).printed
        assert sorted(printed) == [b["print_job"]["id"] for b in bodies]
        device.wait_for_job(count=5)
        assert run_once(app, now=now + timedelta(minutes=20)).printed == []
        received = [qr_payloads(split_parts(job)[1])[0] for job in device.jobs]
        assert sorted(received) == sorted(b["stub_code"] for b in bodies)  # none lost, none doubled
    finally:
        device.close()
    assert count(session, PrintJob, PrintJob.status == "printed") == 5


def test_no_label_for_a_deposit_that_was_not_saved(api, session):
    assert api.post("/items", json=luggage(declared=["explosive"])).status_code == 422
    assert api.post("/items", json=luggage(owner={"unit": "1"})).status_code == 422
    assert count(session, PrintJob) == 0


def test_unknown_printer_name_saves_nothing(api, session):
    response = api.post("/items", json=luggage(printer="nowhere"))
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "unknown_printer"
    assert count(session, PrintJob) == 0


def test_reprint_is_marked_and_carries_the_reissued_stub(app, api, printer, session):
    body = deposit(api)
    run_once(app)
    reissued = api.post(f"/items/{body['id']}/lost-stub", json={"unit": "12-0301", "name": "张伟", "reissue": True})
    new_stub = reissued.get_json()["stub_code"]
    job = api.post(f"/items/{body['id']}/reprint", json={"reason": "stub torn"})
    assert job.status_code == 202 and job.get_json()["reprint"] is True
    run_once(app)
    tag, stub = split_parts(printer.wait_for_job(count=2))
    assert qr_payloads(stub) == [new_stub] and qr_payloads(tag) == [body["tag_code"]]
    assert "REPRINT" in part_text(tag) and "REPRINT" in part_text(stub)
    assert "REPRINT" not in part_text(split_parts(printer.jobs[0])[0])
    events = [e["event"] for e in api.get(f"/items/{body['id']}/events", role="supervisor").get_json()["events"]]
    assert events == ["deposit", "print", "lost", "reissue", "reprint", "print"]


def test_a_job_retrying_cannot_fix_is_shown_to_staff_and_can_be_retried(app, api, users, session):
    body = deposit(api)
    job = session.get(PrintJob, body["print_job"]["id"])
    job.printer_url = "lpt://nowhere"  # e.g. the printer's configuration was broken since
    session.commit()
    assert run_once(app).failed == [job.id]
    failed = api.get("/print-jobs?state=failed").get_json()["print_jobs"]
    assert [(j["id"], j["last_error"]["code"]) for j in failed] == [(job.id, "printer_url_invalid")]
    retried = api.post(f"/print-jobs/{job.id}/retry")
    assert retried.get_json()["status"] == "queued"
    assert api.post("/print-jobs/999/retry").status_code == 404


def test_label_png_shows_the_tag_but_never_the_stub_and_every_view_is_audited(api):
    body = deposit(api)
    response = api.get(f"/items/{body['id']}/label.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Cache-Control"] == "no-store"
    import io

    image = Image.open(io.BytesIO(response.data)).convert("L")
    assert {r.text for r in zxingcpp.read_barcodes(image)} == {body["tag_code"]}
    assert body["stub_code"].encode() not in response.data
    api.get(f"/items/{body['id']}/label.png", role="supervisor")
    events = api.get(f"/items/{body['id']}/events", role="supervisor").get_json()["events"]
    assert [(e["event"], e["actor"]) for e in events][1:] == [("label_view", "staff-1"), ("label_view", "supervisor-1")]


def test_two_workers_never_print_a_job_twice(app, api, printer, session):
    bodies = [deposit(api) for _ in range(8)]
    passes = []
    barrier = threading.Barrier(2)

    def work():
        # Until every label is out, not a fixed number of passes: a worker that finds the printer
        # busy finishes its pass at once, and may run through any fixed number while the other prints.
        barrier.wait()
        deadline = time.monotonic() + 60
        while sum(len(p.printed) for p in passes) < len(bodies) and time.monotonic() < deadline:
            passes.append(run_once(app, limit=3))

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    printed = [job for p in passes for job in p.printed]
    assert sorted(printed) == [b["print_job"]["id"] for b in bodies]
    assert max(len(p.printed) for p in passes) == 1  # one printer: one label at a time
    printer.wait_for_job(count=8)
    assert len(printer.jobs) == 8
    assert count(session, AuditEvent, AuditEvent.event == "print") == 8


def test_a_worker_claims_one_job_per_printer_at_a_time(app, api, session):
    app.config["PRINTERS"] = {"default": "tcp://127.0.0.1:9?timeout=1", "desk-2": "tcp://127.0.0.1:10?timeout=1"}
    for name in ("default", "default", "default", "desk-2"):
        deposit(api, printer=name)
    first = printjobs.claim_due(session)
    session.commit()
    assert sorted(j.printer for j in first) == ["default", "desk-2"]
    assert printjobs.claim_due(session) == []  # both printers are busy with a job each
    session.commit()


def test_an_expired_lease_is_taken_over(app, api, printer, session, users):
    body = deposit(api)
    claimed = printjobs.claim_due(session)  # a worker that then dies
    session.commit()
    assert [j.id for j in claimed] == [body["print_job"]["id"]]
    assert run_once(app).printed == []
    assert run_once(app, now=datetime.now(UTC) + printjobs.LEASE + timedelta(seconds=1)).printed == [claimed[0].id]


def test_a_slow_printer_does_not_hold_up_the_desk(app, api, monkeypatch):
    """The worker holds no transaction while a printer works (on SQLite that would be the write lock)."""
    import time

    import web.print_worker

    printing_now = threading.Event()

    def slow_printer(label, url, roles=None):
        printing_now.set()
        time.sleep(2)

    monkeypatch.setattr(web.print_worker.printing, "print_label", slow_printer)
    deposit(api)
    worker = threading.Thread(target=run_once, args=(app,))
    worker.start()
    assert printing_now.wait(10)
    started = time.perf_counter()
    response = api.post("/items", json=luggage())
    elapsed = time.perf_counter() - started
    worker.join(timeout=10)
    assert response.status_code == 201
    assert elapsed < 1.0, f"a deposit waited {elapsed:.2f} s for the printer"


def _die_while_sending(app, session, now):
    """A worker that claimed a job and started sending its label, then died."""
    job = printjobs.claim_due(session, now=now)[0]
    assert printjobs.mark_sending(session, job.id, now=now)
    session.commit()
    return job.id


def test_a_label_that_may_be_on_paper_is_never_sent_again_by_itself(app, api, printer, session):
    body = deposit(api)
    now = datetime.now(UTC)
    job_id = _die_while_sending(app, session, now)
    later = now + printjobs.LEASE + timedelta(seconds=1)
    assert run_once(app, now=later).in_doubt == [job_id]
    assert run_once(app, now=later + timedelta(minutes=10)).printed == []
    assert printer.jobs == []
    listed = api.get("/print-jobs").get_json()["print_jobs"]
    assert [(j["id"], j["status"]) for j in listed] == [(job_id, "in_doubt")]
    assert api.get("/health").get_json()["print_queue"]["in_doubt"] == 1
    events = [e["event"] for e in api.get(f"/items/{body['id']}/events", role="supervisor").get_json()["events"]]
    assert events == ["deposit", "print_in_doubt"]
    assert api.post(f"/print-jobs/{job_id}/retry").get_json()["error"]["code"] == "print_job_not_retryable"

    confirmed = api.post(f"/print-jobs/{job_id}/confirm")
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "printed"
    again = api.post(f"/print-jobs/{job_id}/confirm")
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "print_job_not_in_doubt")
    assert api.post("/scans", role="kiosk", json={"code": body["stub_code"]}).get_json()["next"] == "present_at_desk"


def test_reprinting_a_label_in_doubt_revokes_the_stub_it_carried(app, api, printer, session):
    body = deposit(api)
    now = datetime.now(UTC)
    job_id = _die_while_sending(app, session, now)
    run_once(app, now=now + printjobs.LEASE + timedelta(seconds=1))
    assert api.post(f"/print-jobs/{job_id}/reprint", json={}).status_code == 422  # a reason is required
    new_job = api.post(f"/print-jobs/{job_id}/reprint", json={"reason": "printer jammed"})
    assert new_job.status_code == 202 and new_job.get_json()["reprint"] is True
    assert run_once(app).printed == [new_job.get_json()["id"]]
    tag, stub = split_parts(printer.wait_for_job())
    assert "REPRINT" in part_text(stub) and len(printer.jobs) == 1
    old = api.post("/scans", role="kiosk", json={"code": body["stub_code"]}).get_json()
    assert old["next"] == "wait_for_staff"  # a copy of the old stub, if it did print, releases nothing
    assert api.post("/scans", role="kiosk", json={"code": qr_payloads(stub)[0]}).get_json()["next"] == "present_at_desk"
    statuses = {j["id"]: j["status"] for j in api.get("/print-jobs?state=cancelled").get_json()["print_jobs"]}
    assert statuses == {job_id: "cancelled"}
    events = [e["event"] for e in api.get(f"/items/{body['id']}/events", role="supervisor").get_json()["events"]]
    assert events == ["deposit", "print_in_doubt", "reissue", "reprint", "print", "alert", "scan", "scan"]
