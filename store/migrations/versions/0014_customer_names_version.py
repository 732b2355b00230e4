"""customer names version: triggers keep a counter and a log, so the parser's index follows every rename

A later migration that rebuilds ``customers`` on SQLite (batch "move and copy") drops these triggers with the old
table and must create them again; tests/integration/test_migrations.py checks they exist at head. The log keeps
one row per rename or deletion and is not pruned (renames are rare; pruning would need a floor version below which
``names_changed_since`` answers "rebuild").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite: a trigger cannot change NEW, so the row is updated after the write; a batch insert that sets names_rev
# itself (the import) skips the per-row work.
_SQLITE = [
    """CREATE TRIGGER customers_names_insert AFTER INSERT ON customers WHEN NEW.names_rev = 0 BEGIN
        UPDATE catalog_versions SET version = version + 1 WHERE name = 'customers';
        UPDATE customers SET names_rev = (SELECT version FROM catalog_versions WHERE name = 'customers')
        WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER customers_names_update AFTER UPDATE OF name, aliases ON customers
    WHEN OLD.name IS NOT NEW.name OR OLD.aliases IS NOT NEW.aliases BEGIN
        UPDATE catalog_versions SET version = version + 1 WHERE name = 'customers';
        INSERT INTO customer_name_log (version, old_name)
        SELECT version, OLD.name FROM catalog_versions WHERE name = 'customers' AND OLD.name IS NOT NEW.name;
        UPDATE customers SET names_rev = (SELECT version FROM catalog_versions WHERE name = 'customers')
        WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER customers_names_delete AFTER DELETE ON customers BEGIN
        UPDATE catalog_versions SET version = version + 1 WHERE name = 'customers';
        INSERT INTO customer_name_log (version, old_name)
        SELECT version, OLD.name FROM catalog_versions WHERE name = 'customers';
    END""",
]
# PostgreSQL: one BEFORE trigger sets NEW.names_rev itself; the counter row's lock, held to the commit, keeps the
# versions in commit order when several transactions write names at once.
_POSTGRES = [
    """CREATE FUNCTION genjin_customer_names() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE v bigint;
    BEGIN
        IF TG_OP = 'INSERT' AND NEW.names_rev <> 0 THEN
            RETURN NEW;
        END IF;
        IF TG_OP = 'UPDATE' AND NEW.name IS NOT DISTINCT FROM OLD.name
                AND NEW.aliases::text IS NOT DISTINCT FROM OLD.aliases::text THEN
            NEW.names_rev := OLD.names_rev;
            RETURN NEW;
        END IF;
        UPDATE catalog_versions SET version = version + 1 WHERE name = 'customers' RETURNING version INTO v;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.name IS DISTINCT FROM OLD.name) THEN
            INSERT INTO customer_name_log (version, old_name) VALUES (v, OLD.name);
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        NEW.names_rev := v;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER customers_names BEFORE INSERT OR UPDATE OR DELETE ON customers
    FOR EACH ROW EXECUTE FUNCTION genjin_customer_names()""",
]


def upgrade() -> None:
    op.create_table(
        "catalog_versions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_catalog_versions")),
    )
    op.create_table(
        "customer_name_log",
        sa.Column("version", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("old_name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_customer_name_log")),
    )
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("names_rev", sa.BigInteger(), server_default="0", nullable=False))
        batch.create_index(batch.f("ix_customers_names_rev"), ["names_rev"], unique=False)
    bind = op.get_bind()
    bind.execute(sa.text("INSERT INTO catalog_versions (name, version) VALUES ('customers', 0)"))
    for statement in _POSTGRES if bind.dialect.name == "postgresql" else _SQLITE:
        bind.execute(sa.text(statement))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("DROP TRIGGER customers_names ON customers"))
        bind.execute(sa.text("DROP FUNCTION genjin_customer_names()"))
    else:
        for name in ("insert", "update", "delete"):
            bind.execute(sa.text(f"DROP TRIGGER customers_names_{name}"))
    with op.batch_alter_table("customers") as batch:
        batch.drop_index(batch.f("ix_customers_names_rev"))
        batch.drop_column("names_rev")
    op.drop_table("customer_name_log")
    op.drop_table("catalog_versions")
