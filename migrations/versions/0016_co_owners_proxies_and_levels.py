"""co-owners, written proxies and verification levels (issue 15): flat_co_owner (the owners of a flat
after the first, in the roster's order); person_key widened to 128 characters on every table that
holds one ("owners:12+40+77" outgrows 32); binding.level (1 roster match, 2 a grid worker confirmed the person
in person), with who and when; proxy (written proxies, 委托书) and the proxy a ballot or pledge was
signed under.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28 15:37:58.464858

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('flat_co_owner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flat_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['flat_id'], ['flat.id'], name=op.f('fk_flat_co_owner_flat_id_flat')),
    sa.ForeignKeyConstraint(['owner_id'], ['owner.id'], name=op.f('fk_flat_co_owner_owner_id_owner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flat_co_owner')),
    sa.UniqueConstraint('flat_id', 'owner_id', name=op.f('uq_flat_co_owner_flat_id_owner_id')),
    sa.UniqueConstraint('flat_id', 'position', name=op.f('uq_flat_co_owner_flat_id_position'))
    )
    with op.batch_alter_table('flat_co_owner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flat_co_owner_owner_id'), ['owner_id'], unique=False)

    op.create_table('proxy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('flat_id', sa.Integer(), nullable=False),
    sa.Column('person_key', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('grantor_user_id', sa.Integer(), nullable=True),
    sa.Column('grantor_owner_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(), nullable=True),
    sa.Column('proxy_user_id', sa.Integer(), nullable=False),
    sa.Column('proxy_name', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('image_sha256', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_proxy_compound_id_compound')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user.id'], name=op.f('fk_proxy_confirmed_by_id_user')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultation.id'], name=op.f('fk_proxy_consultation_id_consultation')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['user.id'], name=op.f('fk_proxy_entered_by_id_user')),
    sa.ForeignKeyConstraint(['flat_id'], ['flat.id'], name=op.f('fk_proxy_flat_id_flat')),
    sa.ForeignKeyConstraint(['grantor_owner_id'], ['owner.id'], name=op.f('fk_proxy_grantor_owner_id_owner')),
    sa.ForeignKeyConstraint(['grantor_user_id'], ['user.id'], name=op.f('fk_proxy_grantor_user_id_user')),
    sa.ForeignKeyConstraint(['image_id'], ['blob.id'], name=op.f('fk_proxy_image_id_blob')),
    sa.ForeignKeyConstraint(['plan_id'], ['contribution_plan.id'], name=op.f('fk_proxy_plan_id_contribution_plan')),
    sa.ForeignKeyConstraint(['proxy_user_id'], ['user.id'], name=op.f('fk_proxy_proxy_user_id_user')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_proxy_revoked_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy')),
    sa.UniqueConstraint('flat_id', 'idempotency_key', name=op.f('uq_proxy_flat_id_idempotency_key')),
    sa.UniqueConstraint('number', name=op.f('uq_proxy_number'))
    )
    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_flat_id'), ['flat_id'], unique=False)
        batch_op.create_index('ix_proxy_holder_status', ['proxy_user_id', 'status'], unique=False)

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proxy_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ballot_proxy_id_proxy'), 'proxy', ['proxy_id'], ['id'])

    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proxy_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pledge_proxy_id_proxy'), 'proxy', ['proxy_id'], ['id'])

    with op.batch_alter_table('binding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('level_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('level_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_binding_level_by_id_user'), 'user', ['level_by_id'], ['id'])

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=128),
               existing_nullable=False)

    with op.batch_alter_table('plan_flat', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=128),
               existing_nullable=False)

    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=128),
               existing_nullable=False)

    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=128),
               existing_nullable=False)

    with op.batch_alter_table('vote_slot', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.VARCHAR(length=32),
               type_=sa.String(length=128),
               existing_nullable=False)



def downgrade():
    with op.batch_alter_table('vote_slot', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)

    with op.batch_alter_table('roll_entry', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)

    with op.batch_alter_table('pledge', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)

    with op.batch_alter_table('plan_flat', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)

    with op.batch_alter_table('ballot', schema=None) as batch_op:
        batch_op.alter_column('person_key',
               existing_type=sa.String(length=128),
               type_=sa.VARCHAR(length=32),
               existing_nullable=False)

    for table in ('pledge', 'ballot'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_proxy_id_proxy'), type_='foreignkey')
            batch_op.drop_column('proxy_id')
    op.drop_table('proxy')  # with its indexes (MariaDB: not the index a foreign key needs first)

    with op.batch_alter_table('binding', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_binding_level_by_id_user'), type_='foreignkey')
        batch_op.drop_column('level_at')
        batch_op.drop_column('level_by_id')
        batch_op.drop_column('level')

    # The table with its indexes (MariaDB refuses to drop the index its foreign key needs first).
    op.drop_table('flat_co_owner')
