"""Rows of a DuckDB query as records: each a dict keyed by column name, never by position.

The SQL files and the Python that reads their answers are kept apart by names only: a
column added to a query, or to a history table a query selects `*` from, moves no value
into another field. `records` and `first_record` read what a statement returned;
`from_record` fills a dataclass from the columns named as its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = dict[str, Any]
DataclassType = TypeVar("DataclassType", bound="DataclassInstance")


def _column_names(cursor: duckdb.DuckDBPyConnection) -> list[str]:
    names = [column[0] for column in cursor.description or ()]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"a query's columns must have distinct names: {', '.join(repeated)} "
                         "appear more than once")
    return names


def records(cursor: duckdb.DuckDBPyConnection) -> list[Record]:
    """Every row the cursor's last statement returned, each as {column name: value}."""
    names = _column_names(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def first_record(cursor: duckdb.DuckDBPyConnection) -> Record | None:
    """The first row the cursor's last statement returned as {column name: value}, or None
    when it returned none."""
    names = _column_names(cursor)
    row = cursor.fetchone()
    return None if row is None else dict(zip(names, row, strict=True))


def from_record(cls: type[DataclassType], record: Mapping[str, Any],
                **values: Any) -> DataclassType:
    """An instance of the dataclass cls: each field from `values` if given there, else from
    the record's column of the same name (a field with a default may have neither).
    Columns that name no field are left out."""
    chosen: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name in values:
            chosen[field.name] = values[field.name]
        elif field.name in record:
            chosen[field.name] = record[field.name]
    unknown = sorted(set(values) - {field.name for field in dataclasses.fields(cls)})
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    return cls(**chosen)
