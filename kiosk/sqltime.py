"""Time arithmetic the database does for the supervisor's lists and charts, on both dialects.

Times are stored in UTC (PostgreSQL ``timestamptz``; SQLite text, naive UTC). The
desk thinks in local days and hours, so a few expressions turn a stored time into
whole seconds, a local day number or a local hour, inside SQL, where a million
rows can be grouped without coming back to Python.

PostgreSQL converts with the site's time-zone name (``AT TIME ZONE``), daylight
saving included. SQLite has no time-zone database: it shifts by the zone's offset
at the moment of the question, which is exact for zones without daylight saving
(the default, Asia/Shanghai) and off by an hour around a change elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import BigInteger, Integer, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select, func
from sqlalchemy.sql.functions import FunctionElement

EPOCH_DAY = date(1970, 1, 1)


@dataclass(frozen=True)
class Zone:
    """The site's time zone, as each dialect needs it."""

    tz: tzinfo
    name: str              # for PostgreSQL
    offset_minutes: int    # for SQLite, the offset at ``now``

    @classmethod
    def at(cls, tz: tzinfo, now: datetime) -> Zone:
        name = getattr(tz, "key", None) or now.astimezone(tz).tzname() or "UTC"
        offset = now.astimezone(tz).utcoffset() or timedelta(0)
        return cls(tz=tz, name=name, offset_minutes=int(offset.total_seconds() // 60))


class epoch(FunctionElement):
    """Whole seconds since 1970 of a UTC time column (an integer both dialects sort alike)."""

    type = BigInteger()
    inherit_cache = True
    name = "kiosk_epoch"


@compiles(epoch, "postgresql")
def _epoch_pg(element, compiler, **kw):
    return f"CAST(floor(extract(epoch FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


class _Local(FunctionElement):
    """A UTC time column seen in the site's zone; each subclass spells it per dialect."""

    inherit_cache = True
    postgresql = sqlite = ""

    def __init__(self, column, zone: Zone):
        super().__init__(column, literal(zone.name), literal(f"{zone.offset_minutes:+d} minutes"))


class local_day(_Local):
    """The local calendar day of a UTC time column, as days since 1970-01-01."""

    type = Integer()
    inherit_cache = True
    name = "kiosk_local_day"
    postgresql = "(CAST(({column} AT TIME ZONE CAST({zone} AS TEXT)) AS DATE) - DATE '1970-01-01')"
    sqlite = "CAST(julianday({column}, {offset}) - 2440587.5 AS INTEGER)"


class local_hour(_Local):
    """The local hour (0–23) of a UTC time column."""

    type = Integer()
    inherit_cache = True
    name = "kiosk_local_hour"
    postgresql = "CAST(extract(hour FROM ({column} AT TIME ZONE CAST({zone} AS TEXT))) AS INTEGER)"
    sqlite = "CAST(strftime('%H', {column}, {offset}) AS INTEGER)"


def _local(element: _Local, compiler, **kw) -> str:
    column, zone, offset = (compiler.process(clause, **kw) for clause in element.clauses.clauses)
    return getattr(element, compiler.dialect.name).format(column=column, zone=zone, offset=offset)


for _kind in (local_day, local_hour):
    for _dialect in ("postgresql", "sqlite"):
        compiles(_kind, _dialect)(_local)


def integers(dialect: str, first: int, last: int, name: str = "n") -> Select:
    """The whole numbers first..last as rows of one column ``name``:
    ``generate_series`` on PostgreSQL, a recursive CTE on SQLite."""
    if dialect == "postgresql":
        series = func.generate_series(first, last).table_valued(name).render_derived()
        return select(series.c[name].label(name))
    seed = select(literal(first, Integer).label(name)).cte(f"series_{name}", recursive=True)
    seed = seed.union_all(select((seed.c[name] + 1).label(name)).where(seed.c[name] < last))
    return select(seed.c[name].label(name))


def day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def from_day_number(number: int) -> date:
    return EPOCH_DAY + timedelta(days=number)


def start_of_local_day(moment: datetime, tz: tzinfo) -> datetime:
    """The local midnight that began ``moment``'s day, as an aware time."""
    local = moment.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def seconds(value: ColumnElement | datetime) -> ColumnElement | int:
    """Whole seconds since 1970 of a column (SQL) or of an aware time (Python), alike."""
    if isinstance(value, datetime):
        return int(value.timestamp() // 1)
    return epoch(value)
