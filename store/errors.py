"""Errors the store raises whatever the backend, so callers never see SQLAlchemy's."""


class ConflictError(Exception):
    """A write broke a uniqueness or reference rule (duplicate name, unknown owner, …)."""


_RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected (PostgreSQL)
_SQLITE_BUSY = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is the database saying "try again": two transactions deadlocked or could not be serialized
    (PostgreSQL), or the file stayed locked past the busy timeout (SQLite; rare inside a handler, whose transaction
    already holds the writer). The same work done again later succeeds."""
    original = getattr(exc, "orig", None)
    if original is None:
        return False
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code is None:  # SQLAlchemy's asyncpg adapter keeps asyncpg's own error as the cause
        code = getattr(getattr(original, "__cause__", None), "sqlstate", None)
    if code in _RETRYABLE_SQLSTATES:
        return True
    return getattr(original, "sqlite_errorcode", None) in _SQLITE_BUSY
