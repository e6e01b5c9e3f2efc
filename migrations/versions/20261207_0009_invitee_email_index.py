"""an index on an invitation's e-mail address: finding a person's invitations (by account, or by a confirmed
address for an invitation sent before the account existed) starts from the person, not from every meeting

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_invitee_email", "invitee", ["email"])


def downgrade() -> None:
    op.drop_index("ix_invitee_email", table_name="invitee")
