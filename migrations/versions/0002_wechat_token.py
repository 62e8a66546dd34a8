"""wechat_token: the access token every process shares when there is no Redis

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wechat_token',
    sa.Column('appid', sa.String(length=32), nullable=False),
    sa.Column('token', sa.String(length=512), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('appid', name=op.f('pk_wechat_token'))
    )


def downgrade():
    op.drop_table('wechat_token')
