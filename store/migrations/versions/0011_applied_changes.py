"""applied changes: undo goes by the order changes were applied, not by brief

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MARKED = ("brief_updates", "stage_history", "points_ledger")


def upgrade() -> None:
    op.create_table(
        "applied_changes",
        sa.Column("employee_id", sa.String(length=64), nullable=False),
        sa.Column("brief_id", sa.Integer(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["brief_id"], ["briefs.id"], name=op.f("fk_applied_changes_brief_id_briefs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applied_changes")),
    )
    with op.batch_alter_table("applied_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applied_changes_brief_id"), ["brief_id"], unique=False)
        batch_op.create_index("ix_applied_changes_employee_undone", ["employee_id", "undone_at", "id"], unique=False)
    for table in _MARKED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("change_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_change_id"), ["change_id"], unique=False)
    # Before this revision a brief was applied in one go: one change per brief that wrote anything.
    op.execute(
        "INSERT INTO applied_changes (employee_id, brief_id, applied_at, undone_at) "
        "SELECT b.sender_id, b.id, b.received_at, CASE WHEN b.status = 'undone' THEN b.received_at END "
        "FROM briefs b WHERE EXISTS (SELECT 1 FROM brief_updates u WHERE u.brief_id = b.id) ORDER BY b.id"
    )
    for table in _MARKED:
        op.execute(
            f"UPDATE {table} SET change_id = (SELECT c.id FROM applied_changes c WHERE c.brief_id = {table}.brief_id) "
            "WHERE brief_id IS NOT NULL"
        )


def downgrade() -> None:
    for table in reversed(_MARKED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_change_id"))
            batch_op.drop_column("change_id")
    with op.batch_alter_table("applied_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_applied_changes_employee_undone")
        batch_op.drop_index(batch_op.f("ix_applied_changes_brief_id"))
    op.drop_table("applied_changes")
