"""The price list (a version per product code and effective date) and the quotes made from it, each version of a
numbered quote a row, with its documents

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("list_price", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("floor_price", sa.BigInteger()),
        sa.Column("max_discount", sa.Integer()),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("includes", sa.JSON(), nullable=False),
        sa.UniqueConstraint("code", "effective_from", name="uq_products_code_effective_from"),
    )
    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False, index=True),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(64), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("discount", sa.JSON()),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("payment_terms", sa.Text()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approval", sa.String(20), nullable=False),
        sa.Column("waiting_for", sa.String(64)),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("note", sa.Text()),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("pdf", sa.LargeBinary()),
        sa.Column("xlsx", sa.LargeBinary()),
        sa.UniqueConstraint("number", "version", name="uq_quotes_number_version"),
    )


def downgrade() -> None:
    op.drop_table("quotes")
    op.drop_table("products")
