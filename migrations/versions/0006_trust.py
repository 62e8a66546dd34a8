"""trust before breadth: bindings name their roster owner, flats a binding guard; no session_key

Bindings know the roster owner they were verified against; flats carry a binding guard (a lock after
repeated failures, and when failures count again from); WeChat's session_key is no longer kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 09:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('binding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_binding_owner_id'), ['owner_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_binding_owner_id_owner'), 'owner', ['owner_id'], ['id'])
    # Owner bindings made before this revision were verified against the flat's owner of today.
    op.execute(
        "UPDATE binding SET owner_id = (SELECT flat.owner_id FROM flat WHERE flat.id = binding.flat_id) "
        "WHERE relation = 'owner' AND status IN ('approved', 'pending')"
    )
    with op.batch_alter_table('flat', schema=None) as batch_op:
        batch_op.add_column(sa.Column('binding_locked_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('binding_failures_since', sa.DateTime(), nullable=True))
    with op.batch_alter_table('binding_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_binding_attempt_flat_time', ['flat_id', 'created_at'], unique=False)
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('session_key')


def downgrade():
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_key', sa.String(length=64), nullable=True))
    with op.batch_alter_table('binding_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_binding_attempt_flat_time')
    with op.batch_alter_table('flat', schema=None) as batch_op:
        batch_op.drop_column('binding_failures_since')
        batch_op.drop_column('binding_locked_at')
    with op.batch_alter_table('binding', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_binding_owner_id_owner'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_binding_owner_id'))
        batch_op.drop_column('owner_id')
