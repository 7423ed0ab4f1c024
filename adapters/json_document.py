"""The reading of our own JSON documents (the charts of accounts, the legal entities): the file
parsed, and each object held to the fields it may have, every refusal naming where it is."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any


def read_document(path: Path, refusal: type[Exception]) -> Any:
    """The file's JSON document; one that cannot be read or parsed is `refusal`, naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise refusal(f"{path}: cannot be read as JSON ({error})") from None


def known_object(
    where: str, raw: Any, fields: frozenset[str], refusal: type[Exception]
) -> Mapping[str, Any]:
    """`raw` as an object holding none but `fields`, or `refusal` naming `where`."""
    if not isinstance(raw, Mapping):
        raise refusal(f"{where}: an object is expected")
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise refusal(f"{where}: unknown fields {', '.join(unknown)}")
    return raw


def listed(
    document: Any, key: str, where: str, item: str, refusal: type[Exception]
) -> Iterator[tuple[str, Any]]:
    """The entries of the list `document` holds under `key` (`{"charts": [...]}`), each with
    where it stands (`where, chart 2`, counting from 1); no such list is `refusal`."""
    if not isinstance(document, Mapping) or not isinstance(document.get(key), list):
        raise refusal(f'{where}: a "{key}" list is expected')
    for n, raw in enumerate(document[key], start=1):
        yield f"{where}, {item} {n}", raw
