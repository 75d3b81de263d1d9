"""Reads made on every step, compiled once (the engine's and this layer's own).

Django builds and compiles a queryset's SQL each time it runs. For the read every step makes
(its task with the process, the application, its call, institution and program version) that
takes about a millisecond of Python, ten times what the database takes to answer it. A
`Prepared` read compiles its queryset once per database connection, with stand-ins for the
values that change, and then runs the kept SQL with each call's values: the rows come back as
the same objects (or dicts, for a `.values()` read) the queryset would give.

Only values that the compiled SQL carries as parameters can vary: whole numbers and strings,
alone or in a list (a list's length is part of the compiled shape), and aware datetimes compared
with a datetime column (carried as the database takes them). Anything else is written into the
queryset where it is built.
"""

import functools
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count

from django.apps import apps
from django.conf import settings
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.sql.constants import MULTI

_STAND_IN_INT = -(2**52)  # no row's key or count is near it
_STAND_IN_TIME = datetime(1970, 1, 1, tzinfo=UTC)  # no lease or deadline is near it
# A list's length is part of the compiled shape: longer lists are compiled each time (their
# rows outweigh the compiling), so that the kept SQL stays a handful per read.
LIST_KEPT_UP_TO = 8
NEVER_UNASKED = 2**31 - 1  # psycopg prepares a statement run this often without being asked
_serial = count()


class Prepared:
    """`Prepared(Model, build)`: `build(**values)` returns a queryset of `Model` (or of the
    model named "app_label.Model"); `prepared(**values)` its rows, from SQL compiled on the
    first call with values of the same shape (on the database the router reads `Model` from)."""

    def __init__(self, model, build: Callable[..., QuerySet]):
        self._model, self.build = model, build
        self.key = next(_serial)

    @property
    def model(self):
        """The model, or its "app_label.Model" name given where models cannot be imported yet."""
        if isinstance(self._model, str):
            self._model = apps.get_model(self._model)
        return self._model

    def first(self, **values):
        """The first row, or None."""
        found = self(**values)
        return found[0] if found else None

    def __call__(self, **values) -> list:
        shape = tuple(sorted((name, _shape_of(name, value)) for name, value in values.items()))
        if any(length == 0 or (length or 0) > LIST_KEPT_UP_TO for _, (_, length) in shape):
            return list(self.build(**values))  # an empty list, or a long one: none kept
        alias = router.db_for_read(self.model)
        kept = connections[alias].__dict__.setdefault("_ipgrants_prepared", {})
        compiled = kept.get((self.key, shape))
        if compiled is None:
            compiled = kept[(self.key, shape)] = _Compiled(self.build, shape, alias)
        return compiled.rows(values)


def _shape_of(name: str, value):
    if isinstance(value, Sequence) and not isinstance(value, str):
        kinds = {_kind_of(name, one) for one in value}
        if len(kinds) > 1:
            raise TypeError(f"prepared value {name!r} mixes kinds")
        return (kinds.pop() if kinds else "int", len(value))
    return (_kind_of(name, value), None)


def _kind_of(name: str, value) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError(f"prepared value {name!r} must be an aware datetime")
        return "datetime"
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"prepared value {name!r} must be an int or a str, not {value!r}")
    return "int" if isinstance(value, int) else "str"


class _Compiled:
    """One queryset's SQL and compiler, with the positions of each value among its parameters."""

    def __init__(self, build, shape, alias):
        stand_ins, self.positions = {}, {}
        for name, (kind, length) in shape:
            made = [_stand_in(kind) for _ in range(length if length is not None else 1)]
            stand_ins[name] = made if length is not None else made[0]
        self.queryset = build(**stand_ins)
        self.compiler = self.queryset.query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        # A datetime is carried as the database takes it (SQLite: text in UTC).
        adapt = connections[alias].ops.adapt_datetimefield_value
        self.adapted = {name for name, (kind, _length) in shape if kind == "datetime"}
        self.adapt = adapt
        for name, made in stand_ins.items():
            for index, stand_in in enumerate(made if isinstance(made, list) else [made]):
                carried = adapt(stand_in) if name in self.adapted else stand_in
                found = [i for i, param in enumerate(self.params) if param == carried]
                if not found:
                    raise TypeError(f"prepared value {name!r} is not a parameter of the SQL")
                self.positions.setdefault(name, []).append((index, found))
        self.lists = {name for name, (_, length) in shape if length is not None}
        self.alias = alias
        # The queryset's iterable asks its query for a compiler and the compiler for rows: both
        # answer with what is kept here.
        self.queryset.query.get_compiler = lambda *args, **kwargs: self.compiler
        self.compiler.execute_sql = self._execute
        # The converters of the columns (dates, JSON, decimals) looked up once too: for a read
        # of six tables' columns that takes longer than running it.
        columns = [selected[0] for selected in self.compiler.select[: self.compiler.col_count]]
        converters = self.compiler.get_converters(columns)
        self.compiler.get_converters = lambda expressions: converters

    def rows(self, values) -> list:
        params = list(self.params)
        for name, places in self.positions.items():
            value = values[name]
            for index, found in places:
                one = value[index] if name in self.lists else value
                if name in self.adapted:
                    one = self.adapt(one)
                for i in found:
                    params[i] = one
        self._params = params
        return list(self.queryset._iterable_class(self.queryset))

    def _execute(self, result_type=MULTI, *args, **kwargs):
        return [statement_rows(self.sql, self._params, using=self.alias)]


def statement_rows(sql: str, params, *, using: str = "default") -> list[tuple]:
    """The rows of a statement run on every step (a kept read's, or one written by hand). On
    PostgreSQL the server prepares it once per connection and plans it once: planning the
    engine's reads (joins and correlated subqueries) takes the server several times longer than
    running them. Off with `settings.PREPARED_STATEMENTS` (a transaction-mode pooler older than
    PgBouncer 1.21 does not keep prepared statements)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            # Django turns psycopg's preparing off (None); its own cursors bind on the client
            # and never prepare, so this only lets ours prepare when they ask.
            connection.connection.prepare_threshold = NEVER_UNASKED
        raw = _preparing_cursor_class()(connection.connection)
    connection.validate_thread_sharing()
    if connection.queries_logged:
        # Logged and counted as Django logs its own cursors' statements, with the parameters
        # written in (psycopg keeps no text of a prepared statement's run).
        with connection.make_debug_cursor(raw) as cursor:
            logged = connection.ops.compose_sql(sql, params)
            with cursor.debug_sql(logged, params), connection.wrap_database_errors:
                return cursor.cursor.execute(sql, params).fetchall()
    with connection.make_cursor(raw) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@functools.cache
def _preparing_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        """A cursor binding its parameters on the server, which prepares each statement the
        first time the connection runs it (psycopg keeps them per connection)."""

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


def _stand_in(kind: str):
    number = next(_serial)
    if kind == "datetime":
        return _STAND_IN_TIME + timedelta(microseconds=number + 1)
    return _STAND_IN_INT - number if kind == "int" else f"\x1fprepared-{number}\x1f"
