"""half-yearly archives: the log of archives made (archive), the marker of an archive file (archive_marker),
and indexes on the call_id columns (moving calls out checks them)

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import csdesk.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('archive',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('before', sa.Date(), nullable=False),
    sa.Column('cutoff_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('first_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('counts', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('money', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_archive_created_by_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive'))
    )
    op.create_table('archive_marker',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('before', sa.Date(), nullable=False),
    sa.Column('cutoff_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('first_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_marker'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_call_id'), ['call_id'], unique=False)
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_call_id'), ['call_id'], unique=False)
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_call_id'), ['call_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustment_call_id'))
    with op.batch_alter_table('callback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_call_id'))
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_call_id'))
    op.drop_table('archive_marker')
    op.drop_table('archive')
