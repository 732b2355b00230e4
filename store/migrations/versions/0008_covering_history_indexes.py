"""covering indexes for the forecast's statistics: stages reached and when, closed customers' outcome

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 00:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stage_history", schema=None) as batch_op:
        batch_op.create_index("ix_stage_history_customer_stage_time", ["customer_id", "to_stage", "changed_at"])
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_stage_closed", ["stage", "closed_at", "owner_id", "amount"])


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_stage_closed")
    with op.batch_alter_table("stage_history", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_history_customer_stage_time")
