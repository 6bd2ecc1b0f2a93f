"""complaint records that stay true: a finished clock's verdict kept on the event that ended it;
hand-made visit series that keep their exact times

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy): both columns have a constant default, which SQLite accepts.
    op.add_column('complaint_event', sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('callback_series', sa.Column('exact', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Series typed by hand before this revision kept the times they were given: they stay exact.
    op.execute("UPDATE callback_series SET exact = TRUE WHERE rule = 'manual'")


def downgrade() -> None:
    op.drop_column('callback_series', 'exact')
    op.drop_column('complaint_event', 'verdict')
