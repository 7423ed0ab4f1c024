"""The read side on SQLAlchemy Core: one module per route family, each implementing that
family's query port from `application/queries/` with filtering, sorting, paging and
aggregates done by the database (ADR 0042)."""
