"""notify channels: digests (sent messages, recorded before sending) and deliveries (notice x channel)

Revision ID: 0008
Revises: 0007

Notices still waiting for mail (notice.mail_status = 'pending') become pending deliveries on the
`email` channel, so the next run that sends mails them as before.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import csdesk.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('notices', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', csdesk.models.UTCDateTime(), nullable=False),
    sa.Column('tried_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.Column('sent_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['recipient_id'], ['staff.id'], name=op.f('fk_digest_recipient_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digest')),
    sa.UniqueConstraint('message_id', name=op.f('uq_digest_message_id'))
    )
    with op.batch_alter_table('digest', schema=None) as batch_op:
        batch_op.create_index('ix_digest_channel_status', ['channel', 'status'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('digest_id', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('sent_at', csdesk.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['digest_id'], ['digest.id'], name=op.f('fk_delivery_digest_id_digest')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_delivery_notice_id_notice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('notice_id', 'channel', name='uq_delivery_notice_channel')
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_channel_status', ['channel', 'status', 'digest_id'], unique=False)

    op.execute(
        "INSERT INTO delivery (notice_id, channel, status, attempts, error) "
        "SELECT id, 'email', 'pending', mail_attempts, mail_error FROM notice WHERE mail_status = 'pending'"
    )


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_channel_status')
    op.drop_table('delivery')
    with op.batch_alter_table('digest', schema=None) as batch_op:
        batch_op.drop_index('ix_digest_channel_status')
    op.drop_table('digest')
