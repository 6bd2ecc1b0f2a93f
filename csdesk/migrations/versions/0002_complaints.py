"""complaints and their events

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import csdesk.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('opened_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('acked_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('closed_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('first_response_due', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('resolution_due', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('next_due', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('escalate_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('response_breached', sa.Boolean(), nullable=False),
    sa.Column('resolution_breached', sa.Boolean(), nullable=False),
    sa.Column('breach_count', sa.Integer(), nullable=False),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('updated_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff.id'], name=op.f('fk_complaint_assignee_id_staff')),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_complaint_call_id_call')),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_complaint_customer_id_customer')),
    sa.ForeignKeyConstraint(['owner_id'], ['staff.id'], name=op.f('fk_complaint_owner_id_staff')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_complaint_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_assignee_status', ['assignee_id', 'status'], unique=False)
        batch_op.create_index('ix_complaint_customer_opened', ['customer_id', 'opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_escalate_at'), ['escalate_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index('ix_complaint_owner_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaint_resolved_at'), ['resolved_at'], unique=False)
        batch_op.create_index('ix_complaint_status_next_due', ['status', 'next_due'], unique=False)

    op.create_table('complaint_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=False),
    sa.Column('at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('from_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('to_value', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['staff.id'], name=op.f('fk_complaint_event_actor_id_staff')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_complaint_event_complaint_id_complaint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint_event')),
    sa.UniqueConstraint('key', name=op.f('uq_complaint_event_key'))
    )
    with op.batch_alter_table('complaint_event', schema=None) as batch_op:
        batch_op.create_index('ix_complaint_event_complaint_at', ['complaint_id', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaint_event', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_event_complaint_at')

    op.drop_table('complaint_event')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status_next_due')
        batch_op.drop_index(batch_op.f('ix_complaint_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_project_id'))
        batch_op.drop_index('ix_complaint_owner_status')
        batch_op.drop_index(batch_op.f('ix_complaint_opened_at'))
        batch_op.drop_index(batch_op.f('ix_complaint_escalate_at'))
        batch_op.drop_index('ix_complaint_customer_opened')
        batch_op.drop_index('ix_complaint_assignee_status')

    op.drop_table('complaint')
