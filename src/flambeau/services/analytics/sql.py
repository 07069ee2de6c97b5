"""The read-only SQL surface: one DuckDB cursor per query, over Arrow tables, locked down.

Each query:

1. must parse as exactly one ``SELECT`` statement (:func:`check_statement`): ``ATTACH``,
   ``COPY``, ``INSTALL``/``LOAD``, ``SET``, ``PRAGMA``, ``CREATE``, ``INSERT`` and every other
   statement type is refused before anything runs;
2. names its streams as quoted tables (``FROM "analytics.kpis"``); :func:`tables_of` lists
   them so the caller can check each one against the caller's scopes;
3. runs on its own cursor of one in-memory DuckDB whose configuration is locked with external
   access off
   (no file, no network, no extension install or autoload), so a table function such as
   ``read_csv('/etc/passwd')`` that is a ``SELECT`` still fails;
4. is interrupted after :attr:`Limits.timeout` and refused when it returns more than
   :attr:`Limits.max_rows` rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from flambeau.errors import FlambeauError

__all__ = [
    "Limits",
    "QueryRefusedError",
    "QueryTimeoutError",
    "RowLimitError",
    "SqlError",
    "check_statement",
    "run_query",
    "tables_of",
]

LOCKED_CONFIG: dict[str, str | int | float | bool | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "threads": 2,
    "memory_limit": "512MB",
    "lock_configuration": True,
}
"""The configuration of every query's database (locked: ``SET`` cannot change it)."""
MAX_QUERY_CHARS = 20_000


@dataclass(frozen=True)
class Limits:
    """Per-query limits: seconds before interruption, and rows a reply may carry."""

    timeout: float = 5.0
    max_rows: int = 10_000


class SqlError(FlambeauError):
    """A query was refused or failed; the message says why."""


class QueryRefusedError(SqlError):
    """The query is not one read-only ``SELECT`` (or does not parse)."""


class QueryTimeoutError(SqlError):
    """The query ran past its time limit and was interrupted."""


class RowLimitError(SqlError):
    """The query returns more rows than a reply may carry."""


def check_statement(sql: str) -> None:
    """Refuse anything but exactly one ``SELECT``.

    Raises:
        QueryRefusedError: empty, too long, unparsable, several statements, or not a SELECT.
    """
    if not sql.strip():
        raise QueryRefusedError("field 'sql' is empty")
    if len(sql) > MAX_QUERY_CHARS:
        raise QueryRefusedError(f"field 'sql' has {len(sql)} characters; at most {MAX_QUERY_CHARS}")
    try:
        with locked() as con:
            statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefusedError(f"field 'sql' does not parse: {exc}") from None
    if len(statements) != 1:
        raise QueryRefusedError(f"field 'sql' holds {len(statements)} statements; give one SELECT")
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryRefusedError(f"field 'sql' is a {kind.name} statement; only SELECT is allowed")


def tables_of(sql: str) -> set[str]:
    """The tables (streams) ``sql`` names, CTE names excluded.

    Raises:
        QueryRefusedError: DuckDB cannot bind the names (a remote file, for one).
    """
    try:
        with locked() as con:
            return set(con.get_table_names(sql))
    except duckdb.Error as exc:
        raise QueryRefusedError(f"the query failed: {exc}") from None


_database: list[duckdb.DuckDBPyConnection] = []
_opening = threading.Lock()


def locked() -> duckdb.DuckDBPyConnection:
    """A new connection (cursor) to the process's one in-memory database with
    :data:`LOCKED_CONFIG`; close it after use.

    Opening a database costs tens of milliseconds, a cursor almost nothing. Each cursor sees
    only the tables registered on it. (The module-level helpers such as
    ``duckdb.get_table_names`` use a default connection that would install extensions.)
    """
    with _opening:
        if not _database:
            _database.append(duckdb.connect(":memory:", config=dict(LOCKED_CONFIG)))
        return _database[0].cursor()


def run_query(sql: str, tables: dict[str, pa.Table], limits: Limits) -> pa.Table:
    """Run ``sql`` over ``tables`` (name -> Arrow table) on a cursor of the locked-down DuckDB.

    Blocking: call it from a worker thread.

    Raises:
        QueryRefusedError: the statement is not a single SELECT, or DuckDB refuses it (an
            external access, an unknown function or column).
        QueryTimeoutError: it ran longer than ``limits.timeout``.
        RowLimitError: it returns more than ``limits.max_rows`` rows.
    """
    check_statement(sql)
    con = locked()
    timer = threading.Timer(limits.timeout, con.interrupt)
    try:
        for name, table in tables.items():
            con.register(name, table)
        timer.start()
        result = con.sql(sql)
        if result is None:  # pragma: no cover - a SELECT always has a relation
            raise QueryRefusedError("the query returned no relation")
        table = result.limit(limits.max_rows + 1).to_arrow_table()
    except duckdb.InterruptException:
        raise QueryTimeoutError(f"the query ran past its limit of {limits.timeout:g} s") from None
    except duckdb.Error as exc:
        raise QueryRefusedError(f"the query failed: {exc}") from None
    finally:
        timer.cancel()
        con.close()
    if table.num_rows > limits.max_rows:
        raise RowLimitError(
            f"the query returns more than {limits.max_rows} rows; add a LIMIT or aggregate"
        )
    return table
