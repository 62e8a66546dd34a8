"""console tickets: one-time sign-in tickets of the staff console (/console), stored hashed, each
confirmed once from the mini-program by a staff member within two minutes.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28 14:56:19.076848

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('console_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_hash', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_console_ticket_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_ticket')),
    sa.UniqueConstraint('ticket_hash', name=op.f('uq_console_ticket_ticket_hash'))
    )
    with op.batch_alter_table('console_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_ticket_user_id'), ['user_id'], unique=False)



def downgrade():
    # The table with its indexes (MariaDB refuses to drop the index its foreign key needs first).
    op.drop_table('console_ticket')
