"""callbacks and return visits

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import csdesk.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callback_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('rrule', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('start_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('skip_first', sa.Boolean(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('ended_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], name=op.f('fk_callback_series_assignee_id_staff')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_callback_series_created_by_id_staff')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_callback_series_customer_id_customer')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_callback_series_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_series')),
    sa.UniqueConstraint('key', name=op.f('uq_callback_series_key'))
    )
    with op.batch_alter_table('callback_series', schema=None) as batch_op:
        batch_op.create_index('ix_callback_series_active_rule', ['active', 'rule'], unique=False)
        batch_op.create_index('ix_callback_series_customer_rule', ['customer_id', 'rule'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_series_project_id'), ['project_id'], unique=False)

    op.create_table('callback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=True),
    sa.Column('rule', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.Column('due_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('first_due_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_attempt_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('result_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('closed_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], name=op.f('fk_callback_assignee_id_staff')),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_callback_call_id_call')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff.id'], name=op.f('fk_callback_closed_by_id_staff')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_callback_created_by_id_staff')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_callback_customer_id_customer')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_callback_project_id_project')),
    sa.ForeignKeyConstraint(['series_id'], ['callback_series.id'], name=op.f('fk_callback_series_id_callback_series')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback')),
    sa.UniqueConstraint('key', name=op.f('uq_callback_key'))
    )
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.create_index('ix_callback_assignee_status_due', ['assignee_id', 'status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index('ix_callback_customer_status', ['customer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_callback_status_closed', ['status', 'closed_at'], unique=False)
        batch_op.create_index('ix_callback_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ux_callback_series_seq', ['series_id', 'seq'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_index('ux_callback_series_seq')
        batch_op.drop_index('ix_callback_status_due')
        batch_op.drop_index('ix_callback_status_closed')
        batch_op.drop_index(batch_op.f('ix_callback_project_id'))
        batch_op.drop_index('ix_callback_customer_status')
        batch_op.drop_index(batch_op.f('ix_callback_complaint_id'))
        batch_op.drop_index('ix_callback_assignee_status_due')

    op.drop_table('callback')
    with op.batch_alter_table('callback_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_series_project_id'))
        batch_op.drop_index('ix_callback_series_customer_rule')
        batch_op.drop_index('ix_callback_series_active_rule')

    op.drop_table('callback_series')
