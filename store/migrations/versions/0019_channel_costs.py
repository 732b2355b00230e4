"""What each lead channel cost per month (in fen), for the acquisition cost per channel

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_costs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("spend", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("channel", "month", name="uq_channel_costs_channel_month"),
    )


def downgrade() -> None:
    op.drop_table("channel_costs")
