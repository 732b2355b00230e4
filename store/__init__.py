"""Persistence: SQLAlchemy models, repositories, the unit of work, migrations, importers.

SQLAlchemy never leaves this package; callers get the records of ``sales.model``.
"""
