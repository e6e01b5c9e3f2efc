"""the statistics generation: cached statistics are used only while nothing they count has changed

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:30:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "statisticsgeneration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # A random start: two databases (or one made again) never share a generation.
    op.bulk_insert(table, [{"id": 1, "generation": secrets.randbelow(2**62)}])


def downgrade() -> None:
    op.drop_table("statisticsgeneration")
