"""access: confirmed e-mail addresses

Revision ID: 0004
Revises: 0003e
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import samrad.models.base

revision: str = "0004"
down_revision: str | None = "0003e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("email_confirmed_at", samrad.models.base.UTCDateTime(timezone=True), nullable=True)
        )
    # Every existing address was given by the register or confirmed through an invitation.
    op.execute(sa.text('UPDATE "user" SET email_confirmed_at = created_at'))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("email_confirmed_at")
