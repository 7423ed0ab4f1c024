"""Renditions of a document URL (ADR 0037): `GET /invoices/{id}` and `GET /credit-memos/{id}`
answer JSON by default, and the issued document itself in the format the `Accept` header asks
for. One table says which media types exist and what renders each; a format is added by adding
a row (`RENDERERS`).

Negotiation (RFC 9110, section 12.5.1): the media ranges of `Accept` are weighed by their `q`;
among the types we serve, the one the client weighs highest wins, JSON first on a tie. No
header, `*/*` or `application/*` is JSON. A header that accepts nothing we serve is answered 406
with a problem body. A draft has no rendition: asking one for it is a 409 `invalid-state`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response

from adapters.documents.ubl import MEDIA_TYPE as UBL_XML
from adapters.documents.ubl import (
    UBL_MEDIA_TYPE,
    AmountNotRepresentableError,
    DocumentIncompleteError,
    render_ubl,
)
from application.document_view import DocumentView
from application.documents import DocumentNotIssuedError
from application.unit_of_work import UnitOfWork
from entrypoints.http.problems import Problem
from entrypoints.http.runtime import context_of, services_of

JSON = "application/json"

Renderer = Callable[[DocumentView], bytes]

#: The printable document (ADR 0038).
PDF = "application/pdf"


def _printable(view: DocumentView) -> bytes:
    """The PDF of the view. fpdf2 (with Pillow) takes a second or more to import, so it is
    loaded with the first PDF asked for, not by every worker at start-up."""
    from adapters.documents.pdf import render_pdf

    return render_pdf(view)


#: Media type -> the renderer of an issued document's view in it and the file extension of
#: what it renders (JSON is the route's own).
RENDERERS: dict[str, tuple[Renderer, str]] = {
    UBL_XML: (render_ubl, "xml"),
    UBL_MEDIA_TYPE: (render_ubl, "xml"),
    PDF: (_printable, "pdf"),
}


def _ranges(accept: str) -> list[tuple[str, float]]:
    """(media range, q) of an Accept header; a malformed q counts as 0 (not acceptable)."""
    ranges = []
    for part in accept.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                q = q if 0.0 <= q <= 1.0 else 0.0
        ranges.append((media, q))
    return ranges


def _weight(media_type: str, ranges: list[tuple[str, float]]) -> float:
    """The q of the most specific range that matches the type (0: not acceptable)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] | None = None
    for media, q in ranges:
        if media == media_type:
            specificity = 2
        elif media == f"{kind}/*":
            specificity = 1
        elif media == "*/*":
            specificity = 0
        else:
            continue
        if best is None or specificity > best[0]:
            best = (specificity, q)
    return 0.0 if best is None else best[1]


def negotiate(accept: str | None) -> str | None:
    """The media type to answer with: JSON, or one of `RENDERERS`; None when the header
    accepts none of them."""
    if accept is None or not accept.strip():
        return JSON
    ranges = _ranges(accept)
    offered = [JSON, *RENDERERS]
    weights = [(_weight(media, ranges), -n, media) for n, media in enumerate(offered)]
    q, _, media = max(weights)
    return media if q > 0 else None


def wanted(request: Request[Any, Any, Any]) -> str:
    """The media type the request asks for; 406 when it asks for none we serve."""
    media = negotiate(request.headers.get("accept"))
    if media is None:
        served = ", ".join([JSON, *RENDERERS])
        raise Problem(
            "not-acceptable",
            f"this document is served as {served}; the Accept header asks for none of them",
        )
    return media


def rendition(
    request: Request[Any, Any, Any],
    media_type: str,
    view_of: Callable[[UnitOfWork], DocumentView],
    name: str,
) -> Response[bytes]:
    """The issued document in `media_type`: 409 for a draft, 422 when master data the format
    needs is missing or an amount the format cannot carry exactly."""
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        try:
            view = view_of(uow)
        except DocumentNotIssuedError as error:
            raise Problem("invalid-state", str(error)) from None
    render, extension = RENDERERS[media_type]
    try:
        body = render(view)
    except DocumentIncompleteError as error:
        raise Problem("master-data-missing", str(error)) from None
    except AmountNotRepresentableError as error:
        raise Problem("business-rule", str(error)) from None
    return Response(
        content=body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'inline; filename="{name or view.number}.{extension}"',
            "Vary": "Accept",
        },
    )


def document_answer(
    request: Request[Any, Any, Any],
    media_type: str,
    as_json: Callable[[], object],
    view_of: Callable[[UnitOfWork], DocumentView],
    name: str,
) -> Response[Any]:
    """A document's URL answered in `media_type` (from `wanted`): its JSON by default, else the
    issued document rendered from its view."""
    if media_type == JSON:
        return Response(as_json(), headers={"Vary": "Accept"})
    return rendition(request, media_type, view_of, name)
