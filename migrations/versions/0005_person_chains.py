"""vote slots carry the head of each person's own audit chain

Every ballot used to be appended to its consultation's one chain, whose head row every ballot of
the consultation locked in turn. From here on a person's ballots are chained in a chain of their
own whose head (seq, hash) is kept in their vote slot, the row signing locks anyway; the
consultation's chain keeps the roll freeze, the result (which seals every person chain's head)
and the publication. Ballot entries written before this revision stay in the consultation chain
and are still verified there.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 16:25:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade():
    with op.batch_alter_table('vote_slot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('head', sa.String(length=64), server_default=GENESIS, nullable=False))


def downgrade():
    with op.batch_alter_table('vote_slot', schema=None) as batch_op:
        batch_op.drop_column('head')
        batch_op.drop_column('seq')
