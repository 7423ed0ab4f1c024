"""Strict JSON: the one way a JSON body from outside is read, by the HTTP API's body gate and
by the webhook inbox alike (ADR 0023).

    document = parse_json(text)                    # structure and text, or an error
    document = parse_json(text, check_text=False)  # structure only (a webhook at the door)

Structure (`MalformedJsonError`, with a JSON pointer where there is one): the text is one
JSON document; no object repeats a key (which would make it ambiguous: the last one would win
silently); no `NaN` or `Infinity`; containers nest at most `MAX_DEPTH` levels.

Text (`TextLimitError`, a pointer per string or key): no string holds a C0 control character
other than tab, line feed and carriage return, nor DEL, nor an unpaired UTF-16 surrogate (a
`\\ud800` escape that no character follows): PostgreSQL refuses NUL in text outright, the
others break whatever prints, logs or exports the value, and a lone surrogate cannot even be
written as UTF-8. Keys allow no control character at all. A string is at most
`MAX_TEXT_LENGTH` characters (the longest free text any field accepts; ids and most fields
are shorter, each to its own declared limit), a key at most `MAX_KEY_LENGTH`.

One `json.loads` (whose pairs hook only marks an object with a repeated key) and one
iterative walk over the result that finds every problem with its pointer; no recursion, so
a deep document cannot exhaust the stack (the parser's own recursion limit, far above
`MAX_DEPTH`, is reported as too deep).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any, Final

from application.errors import MalformedJsonError, PayloadError

MAX_DEPTH: Final = 32
MAX_TEXT_LENGTH: Final = 2_000
MAX_KEY_LENGTH: Final = 200
#: A refusal names at most this many fields (a batch of a thousand bad entries would
#: otherwise answer with a thousand pointers).
MAX_PROBLEMS: Final = 50

#: In strings: C0 controls but tab, LF and CR; DEL; surrogates (only unpaired ones survive
#: decoding as surrogates: a correct pair becomes one character above U+FFFF).
_REFUSED_IN_TEXT: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_REFUSED_IN_KEY: Final = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")

Problem = tuple[str, str]
_NOT_FINITE: Final = "a number too large for a double (it would read as infinity)"


class TextLimitError(PayloadError):
    """A string or key of the body holds a character that is not text (a control character,
    an unpaired surrogate) or is longer than any field accepts."""

    code = "text_limit"


class _Repeated(dict[str, Any]):
    """An object in which a key appeared more than once (the walk reports where)."""

    repeated: str = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    marked = _Repeated(found)
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            marked.repeated = key
            break
        seen.add(key)
    return marked


def _no_constant(name: str) -> Any:
    raise MalformedJsonError([("", f"{name} is not a JSON number")])


def parse_json(text: str, *, check_text: bool = True) -> object:
    """The document `text` holds, read strictly (see the module doc)."""
    try:
        document = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except MalformedJsonError:
        raise
    except RecursionError:
        raise MalformedJsonError([("", f"nested more than {MAX_DEPTH} levels deep")]) from None
    except ValueError as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
        raise MalformedJsonError([("", f"the body is not valid JSON ({reason})")]) from None
    structure, refused_text = inspect_document(document, escapes=_may_hide_refused(text))
    if structure:
        raise MalformedJsonError(structure)
    if check_text and refused_text:
        raise TextLimitError(refused_text)
    return document


def _may_hide_refused(text: str) -> bool:
    """Whether a string of the document may hold a refused character. A strict parser refuses
    raw C0 characters, so only an escape, a raw DEL or (in a text not decoded from UTF-8) a
    surrogate can put one there; most texts have none, and then no string needs searching."""
    if "\\" in text or "\x7f" in text:
        return True
    return not text.isascii() and _SURROGATE.search(text) is not None


def decode_json(body: bytes, *, check_text: bool = True) -> object:
    """`parse_json` of a body that must be UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedJsonError(
            [("", f"the body is not UTF-8 (byte {error.start}: {error.reason})")]
        ) from None
    return parse_json(text, check_text=check_text)


def inspect_document(
    document: object, *, escapes: bool = True
) -> tuple[list[Problem], list[Problem]]:
    """(structure problems, text problems) of a parsed document, each with its pointer, in
    document order, at most `MAX_PROBLEMS` of each. `escapes=False` says the text it came from
    holds no escape that decodes to a refused character, so no string needs searching."""
    structure: list[Problem] = []
    text: list[Problem] = []
    if not isinstance(document, dict | list):
        _check_value(document, (), structure, text)
        return structure, text
    if isinstance(document, _Repeated):
        structure.append((_pointer((document.repeated,)), _repeated(document.repeated)))
    # Without escapes only lengths need checking: the searches are then not even called.
    refused_in_text = _REFUSED_IN_TEXT.search
    refused_in_key = _REFUSED_IN_KEY.search
    stack: list[tuple[Iterator[tuple[Any, Any]], tuple[str | int, ...]]] = [
        (_children(document), ())
    ]
    while stack:
        children, path = stack[-1]
        for token, value in children:
            # Inline checks, and a path built only for a problem: this loop runs per value.
            if type(token) is str and (
                len(token) > MAX_KEY_LENGTH or (escapes and refused_in_key(token))
            ):
                _check_key(token, (*path, token), text)
            kind = type(value)
            if kind is str:
                if len(value) > MAX_TEXT_LENGTH or (escapes and refused_in_text(value)):
                    _check_value(value, (*path, token), structure, text)
            elif kind is dict or kind is list or kind is _Repeated:
                inner = (*path, token)
                if len(inner) >= MAX_DEPTH:
                    structure.append((_pointer(inner), f"nested more than {MAX_DEPTH} levels deep"))
                    continue
                if kind is _Repeated:
                    structure.append(
                        (_pointer((*inner, value.repeated)), _repeated(value.repeated))
                    )
                stack.append((_children(value), inner))
                break
            elif kind is float and not math.isfinite(value):
                _check_value(value, (*path, token), structure, text)
        else:
            stack.pop()
        if len(structure) >= MAX_PROBLEMS or len(text) >= MAX_PROBLEMS:
            break
    return structure[:MAX_PROBLEMS], text[:MAX_PROBLEMS]


def _children(node: dict[str, Any] | list[Any]) -> Iterator[tuple[Any, Any]]:
    items: Iterable[tuple[Any, Any]] = node.items() if isinstance(node, dict) else enumerate(node)
    return iter(items)


def _check_value(
    value: object, path: tuple[str | int, ...], structure: list[Problem], text: list[Problem]
) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        structure.append((_pointer(path), _NOT_FINITE))
    if not isinstance(value, str):
        return
    if len(value) > MAX_TEXT_LENGTH:
        text.append((_pointer(path), f"at most {MAX_TEXT_LENGTH} characters, got {len(value)}"))
    refused = _REFUSED_IN_TEXT.search(value)
    if refused is not None:
        text.append((_pointer(path), f"{_describe(refused.group())} is not accepted in text"))


def _check_key(key: str, path: tuple[str | int, ...], problems: list[Problem]) -> None:
    if len(key) > MAX_KEY_LENGTH:
        problems.append((_pointer(path), f"a key is at most {MAX_KEY_LENGTH} characters"))
    refused = _REFUSED_IN_KEY.search(key)
    if refused is not None:
        problems.append((_pointer(path), f"{_describe(refused.group())} is not accepted in a key"))


def _describe(character: str) -> str:
    code = ord(character)
    if 0xD800 <= code <= 0xDFFF:
        return f"a lone UTF-16 surrogate (U+{code:04X})"
    return f"a control character (U+{code:04X})"


def _repeated(key: str) -> str:
    return f"the key {key[:60]!r} appears twice in one object"


def _pointer(path: Iterable[str | int]) -> str:
    """An RFC 6901 JSON pointer; a character a key may not hold is written as its `\\uXXXX`
    escape, so the pointer itself can be stored and sent anywhere."""
    return "".join("/" + _token(token) for token in path)


def _token(token: str | int) -> str:
    if isinstance(token, int):
        return str(token)
    escaped = token.replace("~", "~0").replace("/", "~1")
    return _REFUSED_IN_KEY.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped)
