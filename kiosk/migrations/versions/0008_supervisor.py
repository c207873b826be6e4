"""Supervisor views: the contact log, disposal requests, when the owner was reached, list and chart indexes.

Revision ID: 0008_supervisor
Revises: 0005_web_foundation

"""
import sqlalchemy as sa
from alembic import op

revision = '0008_supervisor'
down_revision = '0007_handover'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# What the overdue rules read of a held item (kiosk/overdue.py), carried in its index.
HELD_COLUMNS = ['status', 'kind', 'size', 'urgent', 'location', 'owner_unit', 'deposited_at', 'expected_pickup_at',
                'undeliverable_at', 'owner_reached_at']


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_reached_at', sa.DateTime(timezone=True), nullable=True))
        # ix_items_deposited_at and ix_items_released_at come with 0007_handover.
        batch_op.create_index('ix_items_held', ['id', *HELD_COLUMNS], unique=False,
                              postgresql_where=sa.text("status IN ('held', 'lent')"),
                              sqlite_where=sa.text("status IN ('held', 'lent')"))

    op.create_table('item_contacts',
    sa.Column('id', BigId, nullable=False),
    sa.Column('item_id', BigId, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('promised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('staff_id', BigId, nullable=True),
    sa.Column('staff_name', sa.String(length=64), nullable=False),
    sa.Column('logged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_contacts_item_id_items')),
    sa.ForeignKeyConstraint(['staff_id'], ['users.id'], name=op.f('fk_item_contacts_staff_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_contacts'))
    )
    with op.batch_alter_table('item_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_item_contacts_item_id_at', ['item_id', 'at'], unique=False)

    op.create_table('disposal_requests',
    sa.Column('id', BigId, nullable=False),
    sa.Column('item_id', BigId, nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('requested_by_id', BigId, nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', BigId, nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_disposal_requests_item_id_items')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_disposal_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_disposal_requests_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disposal_requests'))
    )
    with op.batch_alter_table('disposal_requests', schema=None) as batch_op:
        batch_op.create_index('ix_disposal_requests_item_id_state', ['item_id', 'state'], unique=False)
        batch_op.create_index('ix_disposal_requests_state_id', ['state', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('disposal_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_disposal_requests_state_id')
        batch_op.drop_index('ix_disposal_requests_item_id_state')
    op.drop_table('disposal_requests')

    with op.batch_alter_table('item_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_item_contacts_item_id_at')
    op.drop_table('item_contacts')

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_held')
        batch_op.drop_column('owner_reached_at')
