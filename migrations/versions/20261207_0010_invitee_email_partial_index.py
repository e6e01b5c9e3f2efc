"""the index on an invitation's e-mail address covers only invitations without an account, the only ones
found by address: PostgreSQL's generic plan for the calendar feed otherwise also scanned every such row

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WITHOUT_ACCOUNT = sa.text("user_id IS NULL")


def upgrade() -> None:
    op.drop_index("ix_invitee_email", table_name="invitee")
    op.create_index(
        "ix_invitee_email",
        "invitee",
        ["email"],
        sqlite_where=WITHOUT_ACCOUNT,
        postgresql_where=WITHOUT_ACCOUNT,
    )


def downgrade() -> None:
    op.drop_index("ix_invitee_email", table_name="invitee")
    op.create_index("ix_invitee_email", "invitee", ["email"])
