"""indexes for reports: callbacks by first due time; payment allocations by instalment, covering the
amount (the aging as of a past day sums them without a sort)

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_callback_first_due_at', 'callback', ['first_due_at'], unique=False)
    op.create_index('ix_payment_allocation_instalment_payment', 'payment_allocation', ['instalment_id', 'payment_id', 'amount_fen'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_payment_allocation_instalment_payment', table_name='payment_allocation')
    op.drop_index('ix_callback_first_due_at', table_name='callback')
