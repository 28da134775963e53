"""`python -m reconcile` is the `reconcile` command; so is this file given to spark-submit
as the application (docs/spark.md)."""

from reconcile.cli.main import main

if __name__ == "__main__":
    main()
