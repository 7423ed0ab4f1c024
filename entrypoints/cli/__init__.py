"""The `throughline` command line: the typer app (`app.py`), one module per command family,
what every command shares (`support.py`) and how answers are printed (`views.py`)."""

from entrypoints.cli.app import app, main

__all__ = ["app", "main"]
