"""a period's complaint events by kind: the index by kind and time also holds `complaint_id`, so finding the
complaints resolved, escalated or reopened in a period (the report's candidates, counted resolutions) reads
the index alone — 0.07 → 0.03 s for a year's 91,000 resolutions, found three times by an annual report

Revision ID: 0016
Revises: 0015
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_complaint_event_kind_at', table_name='complaint_event')
    op.create_index('ix_complaint_event_kind_at', 'complaint_event', ['kind', 'at', 'complaint_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_complaint_event_kind_at', table_name='complaint_event')
    op.create_index('ix_complaint_event_kind_at', 'complaint_event', ['kind', 'at'], unique=False)
