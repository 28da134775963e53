"""`reconcile query`: read-only SQL over the run history that `reconcile run --db` keeps."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from reconcile.cli.common import error_handler
from reconcile.history import query as history_query
from reconcile.history.query import FORMATS, QueryError


@click.command("query")
@click.argument("sql", required=False, metavar="[SQL]")
@click.option("--db", "history_db", type=click.Path(path_type=Path, dir_okay=False),
              metavar="FILE",
              help="The history database written by `reconcile run --db`; opened read-only, "
                   "never created.")
@click.option("--format", "output_format", type=click.Choice(FORMATS), default="table",
              show_default=True,
              help="table (aligned), csv (lists joined by ';') or json (a list of objects; "
                   "decimals as strings, timestamps ISO 8601).")
@click.option("--list-views", is_flag=True,
              help="List the documented views and the question each answers.")
@click.option("--debug", is_flag=True, help="Show a traceback on failure.")
def query(sql: str | None, history_db: Path | None, output_format: str, list_views: bool,
          debug: bool) -> None:
    """Run one read-only SQL statement on the run history and print its rows.

    SQL may use the documented views (see --list-views) and the tables runs and
    findings; '-' reads it from stdin. Writes (INSERT, CREATE, DROP, ATTACH, COPY,
    INSTALL, SET, ...) are refused.

    Exit status: 0 the query ran, 2 a refused statement, bad SQL or no such database,
    1 any other failure.
    """
    with error_handler(debug):
        if list_views:
            if sql is not None:
                raise QueryError("--list-views takes no SQL")
            click.echo(history_query.views_listing(output_format))
            return
        if sql is None:
            raise QueryError("give the SQL to run (or --list-views)")
        if history_db is None:
            raise QueryError("--db FILE is required: the history database to query")
        text = sys.stdin.read() if sql == "-" else sql
        columns, rows = history_query.run_query(history_db, text)
        click.echo(history_query.render(columns, rows, output_format))
