"""`python -m reconcile` is the `reconcile` command."""

from reconcile.cli.main import main

main()
