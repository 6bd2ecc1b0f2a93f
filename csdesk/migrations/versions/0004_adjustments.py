"""adjustments, instalments, payments (and their allocations), collection steps

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import csdesk.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instalment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('due_event', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('due_after', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_instalment_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instalment')),
    sa.UniqueConstraint('project_id', 'seq', name=op.f('uq_instalment_project_id'))
    )
    with op.batch_alter_table('instalment', schema=None) as batch_op:
        batch_op.create_index('ix_instalment_open_due', ['due_on'], unique=False, sqlite_where=sa.text('paid_fen < amount_fen'), postgresql_where=sa.text('paid_fen < amount_fen'))

    op.create_table('payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('received_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_payment_project_id_project')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staff.id'], name=op.f('fk_payment_recorded_by_id_staff')),
    sa.ForeignKeyConstraint(['reverses_id'], ['payment.id'], name=op.f('fk_payment_reverses_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_payment_reverses_id'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_received_at'), ['received_at'], unique=False)

    op.create_table('adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('item', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('responsible', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('in_warranty', sa.Boolean(), nullable=False),
    sa.Column('cost_fen', sa.BigInteger(), nullable=True),
    sa.Column('payer', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('done_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('verdict_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('rejections', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], name=op.f('fk_adjustment_call_id_call')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_adjustment_created_by_id_staff')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_adjustment_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment'))
    )
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_adjustment_status_due', ['status', 'due_on'], unique=False)

    op.create_table('collection_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['by_id'], ['staff.id'], name=op.f('fk_collection_step_by_id_staff')),
    sa.ForeignKeyConstraint(['instalment_id'], ['instalment.id'], name=op.f('fk_collection_step_instalment_id_instalment')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_collection_step_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_step'))
    )
    with op.batch_alter_table('collection_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_step_instalment_id'), ['instalment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_step_project_id'), ['project_id'], unique=False)

    op.create_table('payment_allocation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['instalment_id'], ['instalment.id'], name=op.f('fk_payment_allocation_instalment_id_instalment')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_payment_allocation_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_allocation'))
    )
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_allocation_instalment_id'), ['instalment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_allocation_payment_id'), ['payment_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payment_allocation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_allocation_payment_id'))
        batch_op.drop_index(batch_op.f('ix_payment_allocation_instalment_id'))

    op.drop_table('payment_allocation')
    with op.batch_alter_table('collection_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_step_project_id'))
        batch_op.drop_index(batch_op.f('ix_collection_step_instalment_id'))

    op.drop_table('collection_step')
    with op.batch_alter_table('adjustment', schema=None) as batch_op:
        batch_op.drop_index('ix_adjustment_status_due')
        batch_op.drop_index(batch_op.f('ix_adjustment_project_id'))

    op.drop_table('adjustment')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_received_at'))
        batch_op.drop_index(batch_op.f('ix_payment_project_id'))

    op.drop_table('payment')
    with op.batch_alter_table('instalment', schema=None) as batch_op:
        batch_op.drop_index('ix_instalment_open_due', sqlite_where=sa.text('paid_fen < amount_fen'), postgresql_where=sa.text('paid_fen < amount_fen'))

    op.drop_table('instalment')
