"""Renditions of the document view (ADR 0037): the UBL 2.1 e-invoice, and the printable form."""
