"""audit entries hold up to 16 MB on MySQL/MariaDB (MEDIUMTEXT), not 64 KB

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 13:25:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.alter_column("audit_entry", "payload", existing_type=sa.Text(), type_=mysql.MEDIUMTEXT(),
                        existing_nullable=False)


def downgrade():
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.alter_column("audit_entry", "payload", existing_type=mysql.MEDIUMTEXT(), type_=sa.Text(),
                        existing_nullable=False)
