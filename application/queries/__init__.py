"""The read side: query ports, one per screen or route family.

A query port answers one question a screen or a route asks, in one call, with plain read
models (frozen attrs classes), never aggregates to filter in the caller. Lists take a
`PageRequest` and answer a `Page` whose cursor is a keyset position, so filtering, sorting and
paging happen in the store (SQL in `adapters/sqlalchemy/queries/`, dictionaries in
`adapters/memory/`).
"""
