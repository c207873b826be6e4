"""Statements sent straight to the driver: the hot path's few (issue 9)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import Compiled


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement as one dialect's driver takes it: its SQL, how its parameters are made, and
    how its result's values are read."""

    compiled: Compiled
    sql: str
    order: tuple[str, ...] | None                      # parameter names in order (a positional driver)
    binds: tuple[tuple[str, Callable], ...]             # parameter name -> its type's bind processor
    keys: tuple[str, ...]                               # the result's columns
    results: tuple[Callable | None, ...]                # each result column's processor


class Direct:
    """A Core statement sent straight to the driver on the session's connection, in its
    transaction: for the hot path's few statements (issue 9). SQLAlchemy's execution of even a
    compiled, cached statement cost 250 µs of CPU here where psycopg's own took 70.

    Compiled once per dialect (and set of parameter names). Parameters and results go through the
    columns' own type processors, so the values sent and read are those SQLAlchemy would send and
    read. The engine's ``before_cursor_execute`` hooks still see every statement (SQLite's check
    that a reader does not write; tests counting round trips), and a driver error goes through
    SQLAlchemy's own handling: wrapped as ``sqlalchemy.exc.DBAPIError``, and a lost connection
    invalidates the pool as any other statement meeting it would."""

    def __init__(self, statement):
        self.statement = statement
        self._plans: dict[tuple, _Plan] = {}

    def rows(self, session: Session, params: Mapping) -> list[dict]:
        """The rows the statement answers with, each a dict of its columns."""
        connection = session.connection()
        dialect = connection.dialect
        plan = self._plans.get((dialect.name, *params))
        if plan is None:
            plan = self._plans[(dialect.name, *params)] = self._plan(dialect, tuple(params))
        values = plan.compiled.construct_params(params)
        for name, process in plan.binds:
            values[name] = process(values[name])
        if plan.order is not None:
            values = tuple(values[name] for name in plan.order)
        cursor = None
        try:
            cursor = connection.connection.dbapi_connection.cursor()
            if connection.dispatch.before_cursor_execute:
                connection.dispatch.before_cursor_execute(connection, cursor, plan.sql, values, None, False)
            cursor.execute(plan.sql, values)
            fetched = cursor.fetchall() if plan.keys else ()
            cursor.close()
        except Exception as error:
            # SQLAlchemy's own handler of a failed statement (private, but the one place that wraps
            # the error, tells a lost connection and invalidates the pool); it always raises.
            connection._handle_dbapi_exception(error, plan.sql, values, cursor, None)
        keys, results = plan.keys, plan.results
        return [{key: value if process is None or value is None else process(value)
                 for key, value, process in zip(keys, row, results)} for row in fetched]

    def first(self, session: Session, params: Mapping) -> dict | None:
        rows = self.rows(session, params)
        return rows[0] if rows else None

    def one(self, session: Session, params: Mapping) -> dict:
        rows = self.rows(session, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]

    def _plan(self, dialect, names: tuple[str, ...]) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(names))
        binds = []
        for bind, name in compiled.bind_names.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                binds.append((compiled.escaped_bind_names.get(name, name), process))
        columns = tuple(self.statement.exported_columns)   # a SELECT's columns, a DML's RETURNING
        return _Plan(compiled, compiled.string, tuple(compiled.positiontup) if compiled.positional else None,
                     tuple(binds), tuple(column.key for column in columns),
                     tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns))
