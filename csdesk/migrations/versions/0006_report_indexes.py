"""indexes for reports: complaint deadlines and timeline entries by kind and time

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_complaint_first_response_due', 'complaint', ['first_response_due'], unique=False)
    op.create_index('ix_complaint_resolution_due', 'complaint', ['resolution_due'], unique=False)
    op.create_index('ix_complaint_event_kind_at', 'complaint_event', ['kind', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaint_event_kind_at', table_name='complaint_event')
    op.drop_index('ix_complaint_resolution_due', table_name='complaint')
    op.drop_index('ix_complaint_first_response_due', table_name='complaint')
