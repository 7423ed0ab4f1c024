"""`python -m entrypoints.cli ...`: the same command line as the `throughline` script."""

from entrypoints.cli.app import main

main()
