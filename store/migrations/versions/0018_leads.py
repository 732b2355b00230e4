"""Leads and what they did (events), and each employee's level (the best leads go to senior reps)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("employees") as batch:
        batch.add_column(sa.Column("seniority", sa.String(10), nullable=False, server_default="junior"))
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("assigned_at", sa.DateTime(), nullable=True),
        sa.Column("first_response_at", sa.DateTime(), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
    )
    op.create_index("ix_leads_channel", "leads", ["channel"])
    op.create_index("ix_leads_customer_id", "leads", ["customer_id"])
    op.create_index("ix_leads_owner_assigned", "leads", ["owner_id", "assigned_at"])
    op.create_table(
        "lead_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("what", sa.String(200), nullable=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
    )
    op.create_index("ix_lead_events_lead_at", "lead_events", ["lead_id", "at"])


def downgrade() -> None:
    op.drop_table("lead_events")
    op.drop_table("leads")
    with op.batch_alter_table("employees") as batch:
        batch.drop_column("seniority")
