"""Keyed, sealed audit chain without a global lock; wrong-code tallies; print jobs in doubt.

- audit_events.seq comes from a sequence and a row no longer locks a head to be written:
  audit_head goes, audit_seals (the chain, written by one sealer) comes.
- Rows written before this revision keep their SHA-256 link (prev_hash); new rows have
  none (their hash is keyed), so prev_hash becomes nullable.
- scan_misses counts wrong codes per actor and minute; alerts count on (count, last_at).
- print_jobs.send_started_at tells a job that may be on paper from one that is not.

Revision ID: 0009_trust
Revises: 0008_supervisor

"""
import sqlalchemy as sa
from alembic import op

revision = "0009_trust"
down_revision = "0008_supervisor"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

PG_SEALS_APPEND_ONLY = """
CREATE TRIGGER audit_seals_no_change BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
"""


def _sqlite_append_only(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq")
        op.execute("SELECT setval('audit_events_seq_seq', COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false)")
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')")
        op.execute("ALTER TABLE audit_events ALTER COLUMN prev_hash DROP NOT NULL")
    else:
        # Batch mode copies the table, which drops its triggers: put them back after.
        with op.batch_alter_table("audit_events") as batch_op:
            batch_op.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for statement in _sqlite_append_only("audit_events"):
            op.execute(statement)
    op.drop_table("audit_head")

    op.create_table(
        "audit_seals",
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_audit_seals")),
        sa.UniqueConstraint("event_seq", name=op.f("uq_audit_seals_event_seq")),
    )
    if postgres:
        op.execute(PG_SEALS_APPEND_ONLY)
    else:
        for statement in _sqlite_append_only("audit_seals"):
            op.execute(statement)

    op.create_table(
        "scan_misses",
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("actor", "minute", name=op.f("pk_scan_misses")),
    )
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.add_column(sa.Column("count", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("print_jobs") as batch_op:
        batch_op.add_column(sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("print_jobs") as batch_op:
        batch_op.drop_column("send_started_at")
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.drop_column("last_at")
        batch_op.drop_column("count")
    op.drop_table("scan_misses")
    if postgres:
        op.execute("DROP TRIGGER audit_seals_no_truncate ON audit_seals")
        op.execute("DROP TRIGGER audit_seals_no_change ON audit_seals")
    op.drop_table("audit_seals")
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # The old head points at the last row; rows written since carry no SHA-256 link, so the
    # old `audit verify` will report them: a downgrade loses the keyed chain's protection.
    op.execute("INSERT INTO audit_head (id, seq, hash) SELECT 1, COALESCE(max(seq), 0), "
               f"COALESCE((SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1), '{GENESIS}') "
               "FROM audit_events")
    if postgres:
        op.execute("ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE audit_events_seq_seq")
    # prev_hash stays nullable: keyed rows have no SHA-256 link, and the trail is append-only.
