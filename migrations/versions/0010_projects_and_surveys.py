"""projects, surveys, site reports and acceptance

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 12:13:07.079750

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('budget_fen', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('plan_consultation_id', sa.Integer(), nullable=True),
    sa.Column('contribution_plan_id', sa.Integer(), nullable=True),
    sa.Column('needs_survey_id', sa.Integer(), nullable=True),
    sa.Column('satisfaction_survey_id', sa.Integer(), nullable=True),
    sa.Column('acceptance_share', sa.String(length=16), nullable=False),
    sa.Column('acceptance_strict', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('phase_changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_project_compound_id_compound')),
    sa.ForeignKeyConstraint(['contribution_plan_id'], ['contribution_plan.id'], name=op.f('fk_project_contribution_plan_id_contribution_plan')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_project_created_by_id_user')),
    sa.ForeignKeyConstraint(['plan_consultation_id'], ['consultation.id'], name=op.f('fk_project_plan_consultation_id_consultation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_phase'), ['phase'], unique=False)

    op.create_table('acceptance_signature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('opinion', sa.String(length=24), nullable=False),
    sa.Column('remarks', sa.Text(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('signature_sha256', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_acceptance_signature_project_id_project')),
    sa.ForeignKeyConstraint(['signature_id'], ['blob.id'], name=op.f('fk_acceptance_signature_signature_id_blob')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_acceptance_signature_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance_signature')),
    sa.UniqueConstraint('project_id', 'user_id', name=op.f('uq_acceptance_signature_project_id_user_id'))
    )
    op.create_table('project_phase',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('entered_at', sa.DateTime(), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_project_phase_by_id_user')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_phase_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_phase'))
    )
    with op.batch_alter_table('project_phase', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_phase_project_id'), ['project_id'], unique=False)

    op.create_table('survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('scope_type', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('flats', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_survey_compound_id_compound')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_survey_created_by_id_user')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_survey_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey'))
    )
    with op.batch_alter_table('survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_status'), ['status'], unique=False)

    # project <-> survey refer to each other: the project's survey links are added once both exist.
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_project_needs_survey_id_survey'), 'survey', ['needs_survey_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_project_satisfaction_survey_id_survey'), 'survey', ['satisfaction_survey_id'], ['id'])

    op.create_table('defect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_defect_project_id_project')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_defect_resolved_by_id_user')),
    sa.ForeignKeyConstraint(['signature_id'], ['acceptance_signature.id'], name=op.f('fk_defect_signature_id_acceptance_signature')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_defect'))
    )
    with op.batch_alter_table('defect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_defect_project_id'), ['project_id'], unique=False)

    op.create_table('site_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=100), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('photo_ids', sa.JSON(), nullable=False),
    sa.Column('text_state', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('answered_by_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_by_id'], ['user.id'], name=op.f('fk_site_report_answered_by_id_user')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_site_report_building_id_building')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_site_report_project_id_project')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_site_report_resolved_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_site_report_unit_id_unit')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_site_report_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_report'))
    )
    with op.batch_alter_table('site_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_report_project_id'), ['project_id'], unique=False)

    op.create_table('survey_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('flat_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('current', sa.Boolean(), nullable=True),
    sa.Column('text_state', sa.String(length=16), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['flat_id'], ['flat.id'], name=op.f('fk_survey_response_flat_id_flat')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user.id'], name=op.f('fk_survey_response_reviewed_by_id_user')),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], name=op.f('fk_survey_response_survey_id_survey')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_survey_response_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_response')),
    sa.UniqueConstraint('survey_id', 'flat_id', 'current', name=op.f('uq_survey_response_survey_id_flat_id_current'))
    )
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_response_flat_id'), ['flat_id'], unique=False)



def downgrade():
    # Dropping a table drops its indexes (dropping them first would fail on MariaDB, which keeps an index a
    # foreign key needs).
    op.drop_table('survey_response')
    op.drop_table('site_report')
    op.drop_table('defect')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_project_satisfaction_survey_id_survey'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_project_needs_survey_id_survey'), type_='foreignkey')
    op.drop_table('survey')
    op.drop_table('project_phase')
    op.drop_table('acceptance_signature')
    op.drop_table('project')
