"""covering brief index: activity counts per sender and day from the index alone

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_briefs_received_at"))
        batch_op.create_index("ix_briefs_received_sender_status", ["received_at", "sender_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("briefs", schema=None) as batch_op:
        batch_op.drop_index("ix_briefs_received_sender_status")
        batch_op.create_index(batch_op.f("ix_briefs_received_at"), ["received_at"], unique=False)
