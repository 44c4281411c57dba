"""Rows folded into one JSON array by the database, written for SQLite and PostgreSQL.

``json_rows(a, b, ...)`` is an aggregate: over the rows of its statement, the text of a
JSON array holding one array ``[a, b, ...]`` per row (in no set order), or NULL (or
``[]``) when there is no row. A scalar subquery with it brings a handful of related rows
along with one row of an outer query, in the same round trip.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class json_rows(FunctionElement):  # an SQL function, named as one
    type = String()
    name = "json_rows"
    inherit_cache = True


@compiles(json_rows)
def _json_rows_sqlite(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "postgresql")
def _json_rows_postgresql(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(json_agg(json_build_array({compiler.process(element.clauses, **kw)})) AS TEXT)"


def read_json_rows(text: str | None) -> list[tuple[Any, ...]]:
    """The rows ``json_rows`` folded, as tuples (none for NULL)."""
    return [tuple(row) for row in json.loads(text)] if text else []
