"""a customer's calls: the index by customer and time also holds `voided_at`, so counting a customer's
live calls (the card, the caller brief, the desk) reads the index alone (13 ms → 0.2 ms for a customer
with 4,000 calls); the latest calls still come from it in time order

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_call_customer_at', table_name='call')
    op.create_index('ix_call_customer_at', 'call', ['customer_id', 'at', 'voided_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_customer_at', table_name='call')
    op.create_index('ix_call_customer_at', 'call', ['customer_id', 'at'], unique=False)
