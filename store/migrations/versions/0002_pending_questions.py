"""pending questions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 22:26:22.100080
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("chat_id", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_questions")),
    )
    with op.batch_alter_table("pending_questions", schema=None) as batch_op:
        batch_op.create_index("ix_pending_conversation", ["platform", "chat_id", "user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_questions_brief_id"), ["brief_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_questions_brief_id"))
        batch_op.drop_index("ix_pending_conversation")

    op.drop_table("pending_questions")
