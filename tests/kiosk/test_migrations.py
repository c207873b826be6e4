from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from kiosk.db import current_revision, downgrade, head_revision, make_engine, migrate
from kiosk.models import Base

HEAD = head_revision()


def test_models_match_the_migrations(engine):
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def test_migrations_go_down_and_up_again(tmp_path):
    # A private SQLite file: downgrading the shared PostgreSQL schema would pull it from under other tests.
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate(engine)
    assert current_revision(engine) == HEAD
    downgrade(engine, "base")
    assert current_revision(engine) is None
    migrate(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_the_kiosks_first_requests_move_into_the_complaints_desk(tmp_path):
    from sqlalchemy import text

    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    migrate(engine, "0005_web_foundation")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO complaints (kind, category, unit, name, phone, text, language, channel, received_by, device, "
            "status, created_at) VALUES ('repair', 'service', '12-0301', '张伟', '13812345678', '电梯按钮不亮', "
            "'zh_Hans', 'kiosk', 'kiosk:lobby-1', 'lobby-1', 'open', '2026-11-20 02:00:00.000000')"))
    migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(text(
            "SELECT kind, category, channel, unit, contact, content, language, state, owner_id, taken_by, "
            "repair_scope, received_at, reply_due_at FROM complaints")).one()
    assert tuple(row) == ("repair", "general_service", "kiosk", "12-0301", "13812345678", "电梯按钮不亮", "zh_Hans",
                          "received", None, "kiosk:lobby-1", "public", "2026-11-20 02:00:00.000000",
                          "2026-11-21 02:00:00.000000")
    engine.dispose()
