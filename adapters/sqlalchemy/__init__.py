"""Persistence on SQLite and PostgreSQL: a hand-written SQLAlchemy Core data mapper.

`Database` owns the engine and runs the Alembic migrations; `SqlAlchemyUnitOfWork` implements
the application's `UnitOfWork` port over one connection and one transaction (ADR 0015).
"""
