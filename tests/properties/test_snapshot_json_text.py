"""Aggregate snapshots written as JSON text by msgspec on SQLite's bulk insert (ADR 0060): the
same document `json.dumps` writes, whitespace and escapes aside, read back equal; what msgspec
cannot write goes through the column's own processor as before."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from adapters.sqlalchemy.bulk import EncodedJson, encoded_json, insert_many

#: The values a checked snapshot may hold: exact JSON types, no float.
plain_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(document=plain_json)
def test_a_plain_snapshot_is_written_as_the_text_json_dumps_writes_compactly(
    document: Any,
) -> None:
    text = encoded_json(document)
    if isinstance(text, EncodedJson):
        assert text == json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        assert json.loads(text) == document
    else:  # a lone surrogate: left to the column's processor
        assert text is document


def test_a_snapshot_msgspec_cannot_write_is_handed_back_unchanged() -> None:
    document = {"note": "\ud800"}
    assert encoded_json(document) is document


def test_encoded_and_plain_documents_read_back_alike_from_sqlite() -> None:
    metadata = sa.MetaData()
    table = sa.Table(
        "snapshots",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("body", sa.JSON),
    )
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    documents = [{"a": ["Zoë ✓", 1, None]}, {"note": "\ud800"}, {"b": {"c": True}}]
    with engine.begin() as connection:
        insert_many(
            connection,
            table,
            [{"id": n, "body": encoded_json(d)} for n, d in enumerate(documents)],
        )
        stored = connection.execute(sa.select(table.c.body).order_by(table.c.id)).scalars().all()
        raw = connection.exec_driver_sql("SELECT body FROM snapshots WHERE id = 0").scalar()
    assert stored == documents
    assert raw == '{"a":["Zoë ✓",1,null]}'  # the text itself, not the text of a string
