"""send windows: the per-recipient limit kept in the database, shared by every instance

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_windows",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("sends", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "recipient", name=op.f("pk_send_windows")),
    )


def downgrade() -> None:
    op.drop_table("send_windows")
