"""a case's version, compared by every change of it: two changes made from the same reading of a case no
longer both land (PostgreSQL's READ COMMITTED let the second write over the first)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("case_record") as batch:
        batch.drop_column("version")
