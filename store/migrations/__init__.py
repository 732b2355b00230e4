"""Alembic migrations; ``store.migrate`` runs them."""
