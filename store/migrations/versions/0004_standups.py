"""standups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 23:00:38.753161
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "standups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("closes_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standups")),
        sa.UniqueConstraint("team", "day", name="uq_standups_team_day"),
    )
    op.create_table(
        "standup_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("standup_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("blockers", sa.Text(), nullable=False),
        sa.Column("plans", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["standup_id"], ["standups.id"], name=op.f("fk_standup_entries_standup_id_standups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standup_entries")),
        sa.UniqueConstraint("standup_id", "employee_id", name="uq_standup_entries_member"),
    )
    with op.batch_alter_table("standup_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standup_entries_standup_id"), ["standup_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("standup_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standup_entries_standup_id"))

    op.drop_table("standup_entries")
    op.drop_table("standups")
