"""The statement the generic dump runs: the pipeline's query, filtered from a day on and ordered by day."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any, Final

import sqlalchemy as sa

from pipelines.common.db import QueryNotFoundError, query_names, read_query
from pipelines.common.dump_parameters import DumpError, DumpParameters

# What a query's own `:since` gets on a full load (no watermark, no lower bound).
FULL_LOAD_SINCE: Final = datetime(1900, 1, 1)
_SINCE = re.compile(r"(?<![:\w\\]):since\b")
# Any other `:name` in a query is text (e.g. '{"a":1}' or 'a:b' in a literal), not a bind parameter: the
# same pattern SQLAlchemy's text() binds, minus :since.
_OTHER_COLON = re.compile(r"(?<![:\w\\]):(?!since\b)(?=\w+(?!:))")
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)


def base_query(parameters: DumpParameters, package: str, engine: sa.Engine) -> str:
    """The SQL of ``queries/<query>.sql`` in the pipeline's package, or ``SELECT *`` from ``source_table``."""
    if parameters.source_table is not None:
        preparer = engine.dialect.identifier_preparer
        return "SELECT * FROM " + ".".join(
            preparer.quote(part) for part in parameters.source_table.split(".")
        )
    try:
        return read_query(package, parameters.query_name)
    except QueryNotFoundError:
        available = ", ".join(query_names(package)) or "none"
        raise DumpError(
            f"unknown table {parameters.query_name!r}: no queries/{parameters.query_name}.sql in {package} "
            f"(its queries: {available})"
        ) from None


def dump_query(
    dialect: str,
    sql: str,
    *,
    partition_column: str | None,
    since: date | None,
    text_format: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The statement the dump runs and its bind parameters.

    A query that uses ``:since`` itself gets the first day to read (``FULL_LOAD_SINCE`` on a full load) and
    runs as written (it must then order its rows by the partition column). Otherwise, with a partition
    column, the query is wrapped: ``SELECT * FROM (<query>) dump_source [WHERE <column> >= :since] ORDER BY
    <column>``, so rows stream day by day. Colons other than ``:since`` are escaped (text, not parameters).
    """
    body = _OTHER_COLON.sub(r"\\:", sql.strip().rstrip(";").rstrip())
    start = datetime.combine(since, time.min) if since is not None else None
    if _SINCE.search(body):
        return body, {"since": _since_value(dialect, start or FULL_LOAD_SINCE, text_format)}
    if partition_column is None:
        return body, {}
    if dialect == "mssql" and _ORDER_BY.search(_top_level(body)):
        raise DumpError(
            "SQL Server refuses ORDER BY inside the dump's subquery: remove the ORDER BY from the query "
            f"(the dump orders the rows by {partition_column})"
        )
    statement = f"SELECT * FROM (\n{body}\n) dump_source"
    params: dict[str, Any] = {}
    if start is not None:
        statement += f" WHERE {partition_column} >= :since"
        params["since"] = _since_value(dialect, start, text_format)
    return f"{statement} ORDER BY {partition_column}", params


def _since_value(dialect: str, start: datetime, text_format: str | None) -> datetime | str:
    if text_format is not None:
        # Text dates are compared as text: the format must sort like the dates (e.g. %Y-%m-%d).
        return start.strftime(text_format)
    if dialect == "sqlite":
        return start.isoformat(sep=" ")  # SQLite keeps timestamps as ISO text
    return start


def _top_level(sql: str) -> str:
    """``sql`` without comments and what is inside quotes or parentheses (what an ORDER BY at the end
    of the query could be)."""
    text = re.sub(r"'(?:[^']|'')*'", "''", sql)
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", text, flags=re.DOTALL)
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\([^()]*\)", "()", text)
    return text
