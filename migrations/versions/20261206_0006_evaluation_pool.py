"""evaluation answers wait sealed in a pool; used tokens are keyed markers; no rowid on answer tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate renders sqlmodel.sql.sqltypes.AutoString)
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluationspent",
        sa.Column("marker", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("marker"),
        sqlite_with_rowid=False,
    )
    op.create_index(op.f("ix_evaluationspent_evaluation_id"), "evaluationspent", ["evaluation_id"])
    op.create_table(
        "evaluationpendinganswer",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["evaluation_id"], ["evaluation.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    op.create_index(
        op.f("ix_evaluationpendinganswer_evaluation_id"), "evaluationpendinganswer", ["evaluation_id"]
    )
    # Tokens used before this version are marked by their plain hash (the app also looks for that), so an
    # evaluation that is open during the upgrade still takes each token once.
    op.execute(
        "INSERT INTO evaluationspent (marker, evaluation_id) "
        "SELECT token_hash, evaluation_id FROM evaluationtoken WHERE used"
    )
    with op.batch_alter_table("evaluationtoken") as batch:
        batch.drop_column("used")
    if op.get_bind().dialect.name == "sqlite":
        # Rebuilt without a rowid: the physical order of the comments is then that of their random keys.
        with op.batch_alter_table(
            "evaluationcomment", recreate="always", table_kwargs={"sqlite_with_rowid": False}
        ):
            pass


def downgrade() -> None:
    with op.batch_alter_table("evaluationtoken") as batch:
        batch.add_column(sa.Column("used", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE evaluationtoken SET used = TRUE WHERE token_hash IN (SELECT marker FROM evaluationspent)"
    )
    op.drop_index(op.f("ix_evaluationpendinganswer_evaluation_id"), table_name="evaluationpendinganswer")
    op.drop_table("evaluationpendinganswer")
    op.drop_index(op.f("ix_evaluationspent_evaluation_id"), table_name="evaluationspent")
    op.drop_table("evaluationspent")
