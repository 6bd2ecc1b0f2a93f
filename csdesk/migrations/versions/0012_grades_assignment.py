"""staff grades (初级/中级/高级) and the assignment rule that chose a complaint's or callback's assignee

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy). Staff already there become intermediate (中级): every key account
    # they manage stays validly managed; a supervisor lowers whoever is really junior (staff edit --grade).
    op.add_column('staff', sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False,
                                     server_default='intermediate'))
    # Which rule chose the assignee (account_manager, category, opener, round_robin, fewest_open, named …)
    # and the decision as JSON (the candidates skipped and why), for `csdesk assign explain`.
    # NULL: made before this revision.
    for table in ('complaint', 'callback'):
        op.add_column(table, sa.Column('assign_rule', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        op.add_column(table, sa.Column('assign_detail', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    for table in ('callback', 'complaint'):
        op.drop_column(table, 'assign_detail')
        op.drop_column(table, 'assign_rule')
    op.drop_column('staff', 'grade')
