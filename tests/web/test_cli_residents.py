"""`kiosk resident …` and `kiosk notify-worker --once` through the app's CLI runner."""
from sqlalchemy import select

from kiosk import residents
from kiosk.db import session_factory
from kiosk.models import AuditEvent
from tests.conftest import AUDIT_KEY


def run(runner, *args):
    return runner.invoke(args=list(args), catch_exceptions=False)


def test_the_register_from_the_command_line(runner, engine, tmp_path):
    added = run(runner, "resident", "add", "12-0301", "张伟", "--phone", "13812345678",
                "--email", "zhang.wei@example.com")
    assert added.exit_code == 0 and "12-0301 张伟" in added.output
    again = run(runner, "resident", "add", "12-0301", "张伟", "--phone", "13812345678")
    assert again.exit_code == 1 and "[resident_exists]" in again.output

    table = tmp_path / "residents.csv"
    table.write_text("unit,name,phone,email,locale,courier_consent\n"
                     "8-1502,Alice Wong,+852 9123 4567,alice@example.com,en,1\n"
                     "12-0301,张伟,13812345678,,,\n", encoding="utf-8")
    imported = run(runner, "resident", "import", str(table))
    assert imported.output.strip() == "added 1 residents, 1 already registered"
    broken = tmp_path / "broken.csv"
    broken.write_text("unit,name,phone\n3-0702,李娜,13987654321\n3-0702,李明,call me\n", encoding="utf-8")
    refused = run(runner, "resident", "import", str(broken))
    assert refused.exit_code == 1 and "line 3" in refused.output and "[invalid_phone]" in refused.output

    listed = run(runner, "resident", "list").output.splitlines()
    assert len(listed) == 2 and "courier-consent" in listed[1] and "8-1502" in listed[1]
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        assert residents.find(session, "3-0702", "李娜") is None      # nothing of the broken file
        alice = residents.find(session, "8-1502", "alice wong")
        assert (alice.locale, alice.courier_consent) == ("en", True)
    moved = run(runner, "resident", "move-out", str(alice.id))
    assert moved.exit_code == 0 and "moved out" in moved.output
    with session_factory(engine, audit_key=AUDIT_KEY)() as session:
        actors = set(session.scalars(select(AuditEvent.actor).where(AuditEvent.event.like("resident_%"))))
    assert len(actors) == 1 and actors.pop().startswith("cli:")


def test_notify_worker_once(runner):
    result = run(runner, "notify-worker", "--once")
    assert result.exit_code == 0
    assert result.output.startswith("sent 0, retrying 0, failed 0, in doubt 0")
