"""objections to a 公示 (publicity), and the end of a 公示 recorded on the notice

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:28:50

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('flat_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photo_id', sa.Integer(), nullable=True),
    sa.Column('check', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_objection_answered_by_id_user')),
    sa.ForeignKeyConstraint(['flat_id'], ['flat.id'], name=op.f('fk_objection_flat_id_flat')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_objection_notice_id_notice')),
    sa.ForeignKeyConstraint(['photo_id'], ['blob.id'], name=op.f('fk_objection_photo_id_blob')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_objection_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection')),
    sa.UniqueConstraint('notice_id', 'user_id', 'flat_id', name=op.f('uq_objection_notice_id_user_id_flat_id'))
    )
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_flat_id'), ['flat_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_objection_notice_id'), ['notice_id'], unique=False)

    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('objection_count', sa.Integer(), nullable=True))



def downgrade():
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('objection_count')
        batch_op.drop_column('ended_at')

    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_notice_id'))
        batch_op.drop_index(batch_op.f('ix_objection_flat_id'))

    op.drop_table('objection')
