"""`throughline document`: the demo's issued invoice and credit memo as the files the customer
gets, from the real command on a SQLite file; the same bytes as over HTTP's renditions, since
both render the one document view."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from adapters.documents.ubl import render_ubl
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.documents import document_for_invoice
from tests.e2e.cli_harness import Subprocess
from tests.support.ubl_validation import schematron, xsd_errors

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Subprocess, str, Path]:
    where = tmp_path_factory.mktemp("document-cli")
    url = f"sqlite:///{where / 'demo.db'}"
    throughline = Subprocess(url, where)
    loaded = throughline("demo")
    assert loaded.code == 0, loaded.text
    return throughline, url, where


def test_an_issued_invoice_is_written_as_its_en_16931_e_invoice(
    demo: tuple[Subprocess, str, Path],
) -> None:
    throughline, url, where = demo
    done = throughline("document", "invoice", "INV-000006", "--format", "ubl", "-o", "inv.xml")
    assert done.code == 0, done.text
    assert "Wrote INV-2026-000006 (ubl) to inv.xml." in done.err
    written = (where / "inv.xml").read_bytes()
    assert xsd_errors(written) == []
    assert schematron(written).fatal == ()
    database = Database(url)
    try:
        with database.unit_of_work(
            RequestContext("t", "t"), lambda: datetime.now(UTC), read_only=True
        ) as uow:
            assert written == render_ubl(document_for_invoice(uow, "INV-000006"))
    finally:
        database.dispose()


def test_a_credit_memo_is_written_as_a_pdf_naming_the_invoice_it_credits(
    demo: tuple[Subprocess, str, Path],
) -> None:
    throughline, _, where = demo
    done = throughline("document", "credit-memo", "CM-1001", "-o", "cn.pdf")
    assert done.code == 0, done.text
    text = "".join(page.extract_text() for page in PdfReader(where / "cn.pdf").pages)
    assert "Credit note" in text
    assert "INV-2026-000006" in text


def test_an_unknown_document_or_format_is_refused_with_exit_2(
    demo: tuple[Subprocess, str, Path],
) -> None:
    throughline, _, _ = demo
    unknown = throughline("document", "invoice", "INV-NOPE")
    assert (unknown.code, "there is no invoice INV-NOPE" in unknown.err) == (2, True)
    bad = throughline("document", "invoice", "INV-000006", "--format", "docx")
    assert bad.code == 2
    assert "'docx' is not one of 'ubl', 'pdf'" in bad.err
