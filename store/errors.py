"""Errors the store raises whatever the backend, so callers never see SQLAlchemy's."""


class ConflictError(Exception):
    """A write broke a uniqueness or reference rule (duplicate name, unknown owner, …)."""
