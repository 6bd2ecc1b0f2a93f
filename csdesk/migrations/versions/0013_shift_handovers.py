"""shift handovers (交接班): the handover log (shift_handover), its checklist answers (shift_check) and
the open items of the moment (shift_item)

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import csdesk.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('shift_handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_id', sa.Integer(), nullable=False),
    sa.Column('to_id', sa.Integer(), nullable=False),
    sa.Column('at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('shift_start', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('shift_end', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('next_end', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('taken_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('taker_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('refused_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('refuse_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['from_id'], ['staff.id'], name=op.f('fk_shift_handover_from_id_staff')),
    sa.ForeignKeyConstraint(['to_id'], ['staff.id'], name=op.f('fk_shift_handover_to_id_staff')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff.id'], name=op.f('fk_shift_handover_reviewed_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_handover'))
    )
    with op.batch_alter_table('shift_handover', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_handover_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shift_handover_from_id'), ['from_id'], unique=False)
        batch_op.create_index('ix_shift_handover_status_at', ['status', 'at'], unique=False)
        batch_op.create_index('ix_shift_handover_to_status', ['to_id', 'status'], unique=False)
    op.create_table('shift_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['handover_id'], ['shift_handover.id'], name=op.f('fk_shift_check_handover_id_shift_handover')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_check'))
    )
    with op.batch_alter_table('shift_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_check_handover_id'), ['handover_id'], unique=False)
    op.create_table('shift_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handover_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('due_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['handover_id'], ['shift_handover.id'], name=op.f('fk_shift_item_handover_id_shift_handover')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_item'))
    )
    with op.batch_alter_table('shift_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shift_item_handover_id'), ['handover_id'], unique=False)


def downgrade() -> None:
    op.drop_table('shift_item')
    op.drop_table('shift_check')
    op.drop_table('shift_handover')
