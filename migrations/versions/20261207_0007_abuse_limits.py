"""rate-limit counters shared by the web workers; join requests announced in a digest

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

from samrad.models.base import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ratelimitcounter",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_ratelimitcounter_expires_at"), "ratelimitcounter", ["expires_at"])
    with op.batch_alter_table("joinrequest") as batch:
        batch.add_column(sa.Column("announced_at", UTCDateTime(timezone=True), nullable=True))
    # Requests that were already there were announced one by one when they came in.
    op.execute("UPDATE joinrequest SET announced_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("joinrequest") as batch:
        batch.drop_column("announced_at")
    op.drop_index(op.f("ix_ratelimitcounter_expires_at"), table_name="ratelimitcounter")
    op.drop_table("ratelimitcounter")
