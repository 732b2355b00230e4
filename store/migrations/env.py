"""Alembic environment: runs on the connection ``store.migrate`` hands over."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from store.orm import Base, on_dialect

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    def present(item: Any, name: str | None, kind: str, reflected: bool, other: Any) -> bool:
        return reflected or on_dialect(item, connection.dialect.name)  # an index made for the other dialect only

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=present,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `genjin db upgrade`, which supplies the connection")
run(connection)
