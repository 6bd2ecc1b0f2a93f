"""people: staff logins, voided calls, merged customers, the administrator behind an audit entry

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

import csdesk.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login', sa.String(length=60), nullable=True))
        batch_op.create_index(batch_op.f('ix_staff_login'), ['login'], unique=True)
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('merged_at', csdesk.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_customer_merged_into_id'), ['merged_into_id'], unique=False)
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voided_at', csdesk.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('void_reason', sa.String(length=500), nullable=True))
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admin_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('admin', sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('admin')
        batch_op.drop_column('admin_id')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('void_reason')
        batch_op.drop_column('voided_by_id')
        batch_op.drop_column('voided_at')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_merged_into_id'))
        batch_op.drop_column('merged_at')
        batch_op.drop_column('merged_into_id')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_login'))
        batch_op.drop_column('login')
