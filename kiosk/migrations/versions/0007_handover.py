"""Add shift handovers and key counts; keys get a sub-kind for the monthly count.

Revision ID: 0007_handover
Revises: 0006_complaints

Keys already held become unit keys, the kind a residential desk holds most.
"""
from alembic import op
import sqlalchemy as sa

revision = '0007_handover'
down_revision = '0006_complaints'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_kind', sa.String(length=16), nullable=True))
        batch_op.create_index('ix_items_deposited_at', ['deposited_at'], unique=False)
        batch_op.create_index('ix_items_released_at', ['released_at'], unique=False)
    op.execute("UPDATE items SET key_kind = 'unit_key' WHERE kind = 'key'")

    op.create_table('handovers',
    sa.Column('id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('shift_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outgoing_id', BigId, nullable=False),
    sa.Column('outgoing_name', sa.String(length=64), nullable=False),
    sa.Column('unfinished', sa.Text(), nullable=False),
    sa.Column('expected_count', sa.Integer(), nullable=False),
    sa.Column('found_count', sa.Integer(), nullable=False),
    sa.Column('scanned_count', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('outgoing_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('incoming_id', BigId, nullable=True),
    sa.Column('incoming_name', sa.String(length=64), nullable=True),
    sa.Column('incoming_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('chain_seq', sa.BigInteger(), nullable=True),
    sa.Column('chain_hash', sa.String(length=64), nullable=True),
    sa.Column('context', sa.Text(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=64), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['incoming_id'], ['users.id'], name=op.f('fk_handovers_incoming_id_users')),
    sa.ForeignKeyConstraint(['outgoing_id'], ['users.id'], name=op.f('fk_handovers_outgoing_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handovers'))
    )
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.create_index('ix_handovers_kind_state_signed_at', ['kind', 'state', 'signed_at'], unique=False)
        batch_op.create_index('uq_handovers_open_kind', ['kind'], unique=True,
                              postgresql_where=OPEN, sqlite_where=OPEN)

    op.create_table('handover_lines',
    sa.Column('id', BigId, nullable=False),
    sa.Column('handover_id', BigId, nullable=False),
    sa.Column('item_id', BigId, nullable=True),
    sa.Column('code_digest', sa.String(length=32), nullable=True),
    sa.Column('expected', sa.Boolean(), nullable=False),
    sa.Column('on_loan', sa.Boolean(), nullable=False),
    sa.Column('expected_location', sa.String(length=24), nullable=True),
    sa.Column('finding', sa.String(length=12), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=True),
    sa.Column('scanned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('scanned_by', sa.String(length=64), nullable=True),
    sa.Column('found_location', sa.String(length=24), nullable=True),
    sa.Column('ledger_location', sa.String(length=24), nullable=True),
    sa.Column('wrong_place', sa.Boolean(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('explained_by', sa.String(length=64), nullable=True),
    sa.Column('explained_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('alert_id', BigId, nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_handover_lines_alert_id_alerts')),
    sa.ForeignKeyConstraint(['handover_id'], ['handovers.id'], name=op.f('fk_handover_lines_handover_id_handovers')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_handover_lines_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover_lines')),
    sa.UniqueConstraint('handover_id', 'code_digest', name=op.f('uq_handover_lines_handover_id_code_digest')),
    sa.UniqueConstraint('handover_id', 'item_id', name=op.f('uq_handover_lines_handover_id_item_id'))
    )


def downgrade() -> None:
    op.drop_table('handover_lines')
    with op.batch_alter_table('handovers', schema=None) as batch_op:
        batch_op.drop_index('uq_handovers_open_kind', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index('ix_handovers_kind_state_signed_at')
    op.drop_table('handovers')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_released_at')
        batch_op.drop_index('ix_items_deposited_at')
        batch_op.drop_column('key_kind')
