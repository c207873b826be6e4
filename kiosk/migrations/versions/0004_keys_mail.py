"""Keys lent and returned, mail and parcels, the residents register and the notification outbox.

Revision ID: 0004_keys_mail
Revises: 0002

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_keys_mail'
down_revision = '0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('mail_class', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('perishable', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('consent_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('consent_channel', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('key_handed_over', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('next_notify_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('undeliverable_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('undeliverable_reason', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('collector_signature', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_items_status_next_notify_at', ['status', 'next_notify_at'], unique=False)
    # The server default keeps plain INSERTs (bulk loads, the bench's floor) valid.

    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('part', sa.String(length=12), nullable=True))

    op.create_table('residents',
    sa.Column('id', BigId, nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=24), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('courier_consent', sa.Boolean(), nullable=False),
    sa.Column('added_at', UTC, nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('moved_out_at', UTC, nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residents'))
    )
    with op.batch_alter_table('residents', schema=None) as batch_op:
        batch_op.create_index('ix_residents_unit_name_key', ['unit', 'name_key'], unique=False)

    op.create_table('key_loans',
    sa.Column('id', BigId, nullable=False),
    sa.Column('item_id', BigId, nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('borrower_name', sa.String(length=64), nullable=False),
    sa.Column('borrower_phone', sa.String(length=24), nullable=False),
    sa.Column('borrower_company', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('lent_at', UTC, nullable=False),
    sa.Column('due_back_at', UTC, nullable=False),
    sa.Column('lent_by_id', BigId, nullable=True),
    sa.Column('lent_by_name', sa.String(length=64), nullable=False),
    sa.Column('consent_by', sa.String(length=64), nullable=True),
    sa.Column('consent_channel', sa.String(length=16), nullable=True),
    sa.Column('approved_by_id', BigId, nullable=True),
    sa.Column('approved_by_name', sa.String(length=64), nullable=True),
    sa.Column('approved_rules', sa.String(length=64), nullable=True),
    sa.Column('approval_reason', sa.String(length=200), nullable=True),
    sa.Column('returned_at', UTC, nullable=True),
    sa.Column('returned_by_name', sa.String(length=64), nullable=True),
    sa.Column('overdue_alert_id', BigId, nullable=True),
    sa.Column('end_of_day_alert_id', BigId, nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_key_loans_item_id_items')),
    sa.ForeignKeyConstraint(['lent_by_id'], ['users.id'], name=op.f('fk_key_loans_lent_by_id_users')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_key_loans_approved_by_id_users')),
    sa.ForeignKeyConstraint(['overdue_alert_id'], ['alerts.id'], name=op.f('fk_key_loans_overdue_alert_id_alerts')),
    sa.ForeignKeyConstraint(['end_of_day_alert_id'], ['alerts.id'],
                            name=op.f('fk_key_loans_end_of_day_alert_id_alerts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_loans'))
    )
    with op.batch_alter_table('key_loans', schema=None) as batch_op:
        batch_op.create_index('ix_key_loans_item_id', ['item_id'], unique=False)
        batch_op.create_index('ix_key_loans_state_due_back_at', ['state', 'due_back_at'], unique=False)

    op.create_table('notifications',
    sa.Column('id', BigId, nullable=False),
    sa.Column('item_id', BigId, nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('template', sa.String(length=32), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('params', sa.Text(), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_try_at', UTC, nullable=False),
    sa.Column('lease_until', UTC, nullable=True),
    sa.Column('last_error_code', sa.String(length=40), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('reference', sa.String(length=128), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('sent_at', UTC, nullable=True),
    sa.Column('reviewed_by', sa.String(length=64), nullable=True),
    sa.Column('reviewed_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_notifications_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_notifications_idempotency_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_item_id_attempt', ['item_id', 'attempt'], unique=False)
        batch_op.create_index('ix_notifications_status_next_try_at', ['status', 'next_try_at'], unique=False)


def downgrade() -> None:
    op.drop_table('notifications')
    op.drop_table('key_loans')
    op.drop_table('residents')
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_column('part')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_status_next_notify_at')
        for column in ('collector_signature', 'undeliverable_reason', 'undeliverable_at', 'next_notify_at',
                       'key_handed_over', 'consent_channel', 'consent_by', 'perishable', 'mail_class',
                       'owner_email'):
            batch_op.drop_column(column)
