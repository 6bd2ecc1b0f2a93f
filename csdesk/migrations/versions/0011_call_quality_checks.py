"""call quality checks (质检): a recording reference on calls, the samples drawn (qa_sample) and their
scores (qa_score)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import csdesk.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): no table copy of the calls.
    op.add_column('call', sa.Column('recording', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    op.create_table('qa_sample',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('assigned_to_id', sa.Integer(), nullable=False),
    sa.Column('sampled_by_id', sa.Integer(), nullable=True),
    sa.Column('sampled_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_qa_sample_call_id_call')),
    sa.ForeignKeyConstraint(['assigned_to_id'], ['staff.id'], name=op.f('fk_qa_sample_assigned_to_id_staff')),
    sa.ForeignKeyConstraint(['sampled_by_id'], ['staff.id'], name=op.f('fk_qa_sample_sampled_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_sample')),
    sa.UniqueConstraint('call_id', name=op.f('uq_qa_sample_call_id'))
    )
    op.create_index('ix_qa_sample_period_assigned', 'qa_sample', ['period', 'assigned_to_id'], unique=False)
    op.create_table('qa_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('scorer_id', sa.Integer(), nullable=True),
    sa.Column('items', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('weighted', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('scored_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_qa_score_call_id_call')),
    sa.ForeignKeyConstraint(['scorer_id'], ['staff.id'], name=op.f('fk_qa_score_scorer_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_score'))
    )
    op.create_index('ix_qa_score_call_scored', 'qa_score', ['call_id', 'scored_at'], unique=False)
    op.create_index(op.f('ix_qa_score_scored_at'), 'qa_score', ['scored_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_qa_score_scored_at'), table_name='qa_score')
    op.drop_index('ix_qa_score_call_scored', table_name='qa_score')
    op.drop_table('qa_score')
    op.drop_index('ix_qa_sample_period_assigned', table_name='qa_sample')
    op.drop_table('qa_sample')
    with op.batch_alter_table('call', schema=None) as batch_op:
        batch_op.drop_column('recording')
