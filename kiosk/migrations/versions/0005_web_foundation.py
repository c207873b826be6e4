"""Add kiosk enrolment links and residents' complaints and requests, for the first pages.

Revision ID: 0005_web_foundation
Revises: 0004_keys_mail

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_web_foundation'
down_revision = '0004_keys_mail'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('kiosk_enrolments',
    sa.Column('id', BigId, nullable=False),
    sa.Column('device', sa.String(length=64), nullable=False),
    sa.Column('link_digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_enrolments')),
    sa.UniqueConstraint('link_digest', name=op.f('uq_kiosk_enrolments_link_digest'))
    )
    op.create_table('complaints',
    sa.Column('id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('unit', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=24), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('device', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaints'))
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_status_id', ['status', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_status_id')
    op.drop_table('complaints')
    op.drop_table('kiosk_enrolments')
