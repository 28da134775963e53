"""The throwaway database servers of tests/servers.py: they answer on a socket only, and
load_table / load_drop keep every value and give each column the intended type.
"""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from servers import Server

# Every test here starts a PostgreSQL or MariaDB server: left out by `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

UTC = dt.UTC
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

# One row of each kind of value, and a row of NULLs (ORDER BY loan_id IS NULL keeps it
# last on both servers: MariaDB sorts NULL first).
ROWS_TABLE = pa.table({
    "loan_id": pa.array(["L1", None], pa.string()),
    "amount": pa.array([Decimal("12.34"), None], pa.decimal128(12, 2)),
    "posted_at": pa.array([dt.datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), None],
                          pa.timestamp("us", "Asia/Shanghai")),
    "due_date": pa.array([dt.date(2026, 11, 20), None], pa.date32()),
    "paid_at": pa.array([dt.datetime(2026, 11, 22, 8, 30, 15, 123456), None],
                        pa.timestamp("us")),
    "borrower_name": pa.array(["张三，您好", None], pa.string()),
    "installment_no": pa.array([3, None], pa.int32()),
    "settled": pa.array([True, None], pa.bool_()),
})
EXPECTED_ROWS = [
    ("L1", Decimal("12.34"), dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC), dt.date(2026, 11, 20),
     dt.datetime(2026, 11, 22, 8, 30, 15, 123456), "张三，您好", 3, True),
    (None, None, None, None, None, None, None, None),
]
EXPECTED_TYPES = {
    "postgresql": ["text", "numeric(12,2)", "timestamp with time zone", "date",
                   "timestamp without time zone", "text", "bigint", "boolean"],
    "mysql": ["text", "decimal(12,2)", "timestamp(6)", "date", "datetime(6)", "text",
              "bigint(20)", "tinyint(1)"],
}


@pytest.fixture(params=["postgresql", "mysql"])
def database(request: pytest.FixtureRequest) -> Server:
    """A fresh database on each kind of server."""
    name = "postgres_database" if request.param == "postgresql" else "mariadb_database"
    server: Server = request.getfixturevalue(name)
    return server


def column_types(db: Server, schema: str | None, table: str) -> list[str]:
    if db.kind == "postgresql":
        relation = table if schema is None else f"{schema}.{table}"
        rows = db.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped"
            " ORDER BY attnum", [relation])
    else:
        rows = db.execute(
            "SELECT column_type FROM information_schema.columns"
            " WHERE table_schema = COALESCE(%s, DATABASE()) AND table_name = %s"
            " ORDER BY ordinal_position", [schema, table])
    return [row[0] for row in rows]


def normalized(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as Python values, whichever driver read it.

    ADBC gives NUMERIC as text; pymysql gives MariaDB's UTC TIMESTAMP without a zone and
    BOOLEAN as 0/1.
    """
    loan_id, amount, posted_at, due_date, paid_at, name, number, settled = row
    if amount is not None:
        amount = Decimal(str(amount))
    if posted_at is not None and posted_at.tzinfo is None:
        posted_at = posted_at.replace(tzinfo=UTC)
    if settled is not None:
        settled = bool(settled)
    return loan_id, amount, posted_at, due_date, paid_at, name, number, settled


def test_postgresql_listens_on_its_socket_only(postgres_server: Server) -> None:
    # Not SHOW: ADBC runs a query as COPY (...) TO STDOUT, which takes only a SELECT.
    assert postgres_server.execute("SELECT current_setting('listen_addresses')") == [("",)]
    assert (postgres_server.socket_dir / ".s.PGSQL.5432").is_socket()
    assert postgres_server.url == (
        f"postgresql://postgres@/reconcile?host={postgres_server.socket_dir}")
    import adbc_driver_postgresql.dbapi

    # The URL alone, as the product would use it.
    with adbc_driver_postgresql.dbapi.connect(postgres_server.url) as conn, \
            conn.cursor() as cursor:
        cursor.execute("SELECT current_database(), current_user")
        assert cursor.fetchone() == ("reconcile", "postgres")


def test_mariadb_listens_on_its_socket_only(mariadb_server: Server) -> None:
    assert mariadb_server.execute(
        "SELECT @@skip_networking, DATABASE(), @@character_set_database,"
        " @@collation_database") == [(1, "reconcile", "utf8mb4", "utf8mb4_bin")]
    assert mariadb_server.mysql_socket.is_socket()
    assert mariadb_server.url == (
        f"mysql://root@localhost/reconcile?unix_socket={mariadb_server.mysql_socket}")


def test_load_table_keeps_types_and_values(database: Server) -> None:
    database.load_table("core.repay_plan", ROWS_TABLE)

    assert column_types(database, "core", "repay_plan") == EXPECTED_TYPES[database.kind]
    rows = database.execute("SELECT * FROM core.repay_plan ORDER BY loan_id IS NULL, loan_id")
    assert [normalized(row) for row in rows] == EXPECTED_ROWS


def test_load_table_compares_ids_case_sensitively(database: Server) -> None:
    database.load_table("loans", pa.table({"loan_id": ["L1", "l1", "Ｌ1"]}))

    mark = "$1" if database.kind == "postgresql" else "%s"
    found = database.execute(f"SELECT loan_id FROM loans WHERE loan_id = {mark}", ["l1"])
    assert found == [("l1",)]


def test_load_table_replaces_a_table_of_the_same_name(database: Server) -> None:
    database.load_table("loans", pa.table({"loan_id": ["L1", "L2"]}))
    database.load_table("loans", pa.table({"status": ["active"]}))

    assert database.execute("SELECT * FROM loans") == [("active",)]


def test_load_drop_reads_csv_as_text_and_parquet_typed(database: Server, tmp_path: Path) -> None:
    (tmp_path / "payments.csv").write_text(
        "payment_id,amount,paid_at\nP1,12.34,2026-11-22T08:30:00Z\nP2,n/a,\n", encoding="utf-8")
    with gzip.open(tmp_path / "loans.csv.gz", "wt", encoding="utf-8") as handle:
        handle.write("loan_id,borrower_name\nL1,张三\n")
    pq.write_table(ROWS_TABLE, tmp_path / "installments.parquet")
    (tmp_path / "README.md").write_text("not a table\n", encoding="utf-8")

    loaded = database.load_drop(tmp_path)

    assert sorted(loaded) == ["installments", "loans", "payments"]
    assert column_types(database, None, "payments") == ["text"] * 3
    assert database.execute("SELECT * FROM payments ORDER BY payment_id") == [
        ("P1", "12.34", "2026-11-22T08:30:00Z"), ("P2", "n/a", None)]
    assert database.execute("SELECT * FROM loans") == [("L1", "张三")]
    assert column_types(database, None, "installments") == EXPECTED_TYPES[database.kind]
    rows = database.execute("SELECT * FROM installments ORDER BY loan_id IS NULL, loan_id")
    assert [normalized(row) for row in rows] == EXPECTED_ROWS


def test_fresh_databases_do_not_share_tables(database: Server) -> None:
    other = database.fresh_database()
    try:
        assert other.url != database.url
        other.load_table("core.loans", pa.table({"loan_id": ["L1"]}))
        database.load_table("loans", pa.table({"loan_id": ["L2"]}))

        assert other.execute("SELECT * FROM core.loans") == [("L1",)]
        assert database.execute("SELECT * FROM loans") == [("L2",)]
    finally:
        other.stop()
    schemas = ("SELECT schema_name FROM information_schema.schemata"
               if database.kind == "mysql" else "SELECT datname FROM pg_database")
    assert other.database not in [row[0] for row in database.execute(schemas)]
