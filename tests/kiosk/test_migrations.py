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
