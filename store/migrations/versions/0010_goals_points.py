"""goals, the points ledger and redemptions

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("kpi", sa.String(length=20), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("objective", sa.String(length=500), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
        sa.UniqueConstraint("month", "level", "subject", "kpi", name="uq_goals_month_level_subject_kpi"),
    )
    op.create_table(
        "points_ledger",
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_ledger")),
        sa.UniqueConstraint("key", name=op.f("uq_points_ledger_key")),
    )
    with op.batch_alter_table("points_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_points_ledger_employee_at", ["employee_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_ledger_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_ledger_brief_id"), ["brief_id"], unique=False)
    op.create_table(
        "redemptions",
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("reward", sa.String(length=200), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redemptions_employee_id"), ["employee_id"], unique=False)


def downgrade() -> None:
    op.drop_table("redemptions")
    op.drop_table("points_ledger")
    op.drop_table("goals")
