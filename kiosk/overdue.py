"""What is overdue, and how badly: the policy status of every held item, as SQL.

DOMAIN.md ("Items the desk holds", "Keys", "Mail and parcels"): large luggage over
24 hours and small items over a week belong in the storeroom and are long stays;
items past their expected pickup; keys lent and not back by their due time or
still out overnight; undeliverable mail not back at the post office within three
days; parcels and mail whose owner nobody has reached.

Each held item gets the first status that applies, in the order below, and a
``since`` (when it became that). The list is sorted by urgency — status rank,
then oldest ``since`` — and paged with a keyset cursor, so page 200 costs what
page 1 does. The rules are one SQL ``CASE`` evaluated in the database: the same
expression filters, sorts, counts and exports, so the list, the summary and the
CSV never disagree.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from types import EllipsisType

from sqlalchemy import ColumnElement, Select, and_, case, func, select, text, tuple_
from sqlalchemy.orm import Session

from . import policy
from .errors import InvalidInput
from .mail import RETURN_WITHIN
from .models import Base, Item
from .sqltime import epoch, start_of_local_day

# Most urgent first. ``return_to_post`` is work due (within its three days), not yet
# overdue; ``ok`` is nothing due.
STATUSES = (
    "key_out_overnight",       # a key lent yesterday or before and not back ("不过夜")
    "key_loan_overdue",        # a key lent and not back by its due time
    "return_to_post_overdue",  # undeliverable mail, found so over three days ago
    "express_not_reached",     # an express item (快件, 挂号信, …) whose owner nobody has reached
    "past_expected_pickup",
    "owner_not_reached",       # other mail and parcels, a day on
    "long_stay",               # large items over 24 hours, small ones over a week
    "return_to_post",          # undeliverable mail, still within its three days
    "ok",
)
OVERDUE = STATUSES[:STATUSES.index("return_to_post")]
RANK = {status: rank for rank, status in enumerate(STATUSES)}
NOT_HELD = 99    # the rank of items no longer held: they sort after every held one

RETURN_TO_POST_WITHIN = RETURN_WITHIN     # counted from when the letter was found undeliverable
EXPRESS_NOT_REACHED_AFTER = timedelta(hours=1)
NOT_REACHED_AFTER = timedelta(days=1)
ORDERS = ("urgency", "newest")
IN_CUSTODY = "in_custody"     # a status filter: held, or lent (a key out on loan)
STATUS_FILTERS = (*policy.ITEM_STATUSES, IN_CUSTODY)


# ---------------------------------------------------------------- key loans (issue 13)

@dataclass(frozen=True)
class Loans:
    """What these rules need of key loans: the loans table's columns.

    Loans belong to the keys work (issue 13). When its table is in the models,
    ``loans_in`` finds it by ``LOANS_TABLE`` and ``LOAN_COLUMNS``; until then key
    loans are simply not looked at.
    """

    item_id: ColumnElement
    lent_at: ColumnElement
    due_at: ColumnElement
    returned_at: ColumnElement


LOANS_TABLE = "key_loans"
LOAN_COLUMNS = {"item_id": "item_id", "lent_at": "lent_at", "due_at": "due_back_at", "returned_at": "returned_at"}


def loans_in(metadata=Base.metadata) -> Loans | None:
    table = metadata.tables.get(LOANS_TABLE)
    if table is None:
        return None
    return Loans(**{field: table.c[column] for field, column in LOAN_COLUMNS.items()})


# ---------------------------------------------------------------- the rules as SQL

@dataclass(frozen=True)
class Rules:
    rank: ColumnElement
    since: ColumnElement     # whole seconds since 1970


def rules(now: datetime, tz: tzinfo, loans: Loans | None) -> Rules:
    """The status rank and its ``since`` for every item row, as two CASE expressions."""
    deposited = epoch(Item.deposited_at)
    notice = Item.kind.in_(policy.NOTICE_KINDS)
    not_reached = Item.owner_reached_at.is_(None)
    undeliverable = and_(notice, Item.undeliverable_at.is_not(None))
    not_key = Item.kind != "key"

    # (condition, status, since) in the order they are tried; the first that holds wins.
    tried: list[tuple[ColumnElement, str | int, ColumnElement]] = [
        (Item.status.not_in(policy.CUSTODY), NOT_HELD, deposited)]
    if loans is not None:
        out = and_(loans.item_id == Item.id, loans.returned_at.is_(None))
        lent = select(func.min(loans.lent_at)).where(out).scalar_subquery()
        due = select(func.min(loans.due_at)).where(out).scalar_subquery()
        tried += [
            (and_(Item.kind == "key", lent < start_of_local_day(now, tz)), "key_out_overnight", epoch(lent)),
            (and_(Item.kind == "key", due < now), "key_loan_overdue", epoch(due)),
        ]
    tried += [
        (and_(undeliverable, Item.undeliverable_at < now - RETURN_TO_POST_WITHIN), "return_to_post_overdue",
         epoch(Item.undeliverable_at) + int(RETURN_TO_POST_WITHIN.total_seconds())),
        # Undeliverable mail is for the post office now, whatever else holds.
        (undeliverable, "return_to_post", epoch(Item.undeliverable_at)),
        (and_(notice, Item.urgent.is_(True), Item.deposited_at <= now - EXPRESS_NOT_REACHED_AFTER, not_reached),
         "express_not_reached", deposited),
        (Item.expected_pickup_at < now, "past_expected_pickup", epoch(Item.expected_pickup_at)),
        (and_(notice, Item.deposited_at <= now - NOT_REACHED_AFTER, not_reached), "owner_not_reached", deposited),
        (and_(not_key, Item.size == "large", Item.deposited_at < now - policy.LARGE_AT_DESK), "long_stay",
         deposited + int(policy.LARGE_AT_DESK.total_seconds())),
        (and_(not_key, Item.deposited_at < now - policy.SMALL_AT_DESK), "long_stay",
         deposited + int(policy.SMALL_AT_DESK.total_seconds())),
    ]
    as_rank = [(condition, status if isinstance(status, int) else RANK[status]) for condition, status, _ in tried]
    return Rules(rank=case(*as_rank, else_=RANK["ok"]),
                 since=case(*[(condition, since) for condition, _, since in tried], else_=deposited))


def status_name(rank: int) -> str | None:
    return None if rank == NOT_HELD else STATUSES[rank]


# ---------------------------------------------------------------- filters

@dataclass(frozen=True)
class Filters:
    """What the list, the summary and the CSV all filter by."""

    # The item's status (policy.ITEM_STATUSES), ``in_custody`` (held or lent), or None: any.
    status: str | None = IN_CUSTODY
    kind: str | None = None
    unit: str | None = None
    location: str | None = None
    policy: tuple[str, ...] = ()         # policy statuses (STATUSES); empty: any
    overdue: bool = False                # only the statuses in OVERDUE

    def checked(self) -> Filters:
        for field, value, choices in (("status", self.status, STATUS_FILTERS), ("kind", self.kind, policy.KINDS),
                                      ("location", self.location, policy.LOCATIONS)):
            if value is not None and value not in choices:
                raise InvalidInput(code=f"invalid_{field}", field=field, choices=choices)
        unknown = [status for status in self.policy if status not in STATUSES]
        if unknown:
            raise InvalidInput(code="invalid_policy_status", field="policy", choices=STATUSES, value=unknown[0])
        unit = (self.unit or "").strip() or None
        return replace(self, unit=unit, policy=tuple(dict.fromkeys(self.policy)))


HELD = Filters()    # every item in the desk's custody


def _filtered(query: Select, filters: Filters, found: Rules) -> Select:
    if filters.status == IN_CUSTODY:
        query = query.where(Item.status.in_(policy.CUSTODY))
    elif filters.status is not None:
        query = query.where(Item.status == filters.status)
    for column, value in ((Item.kind, filters.kind), (Item.owner_unit, filters.unit), (Item.location, filters.location)):
        if value is not None:
            query = query.where(column == value)
    if filters.policy:
        query = query.where(found.rank.in_([RANK[status] for status in filters.policy]))
    if filters.overdue:
        query = query.where(found.rank <= RANK[OVERDUE[-1]])
    return query


# ---------------------------------------------------------------- cursors

def _cursor_text(order: str, rank: int, since: int, item_id: int) -> str:
    return f"{rank}.{since}.{item_id}" if order == "urgency" else str(item_id)


def _cursor_values(order: str, cursor: str) -> tuple[int, ...]:
    parts = cursor.split(".")
    try:
        values = tuple(int(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != (3 if order == "urgency" else 1):
        raise InvalidInput(code="invalid_cursor", field="cursor")
    return values


def _page_query(query: Select, order: str, found: Rules, after: str | None) -> Select:
    if order == "urgency":
        if after is not None:
            query = query.where(tuple_(found.rank, found.since, Item.id) > tuple_(*_cursor_values(order, after)))
        return query.order_by(found.rank, found.since, Item.id)
    if after is not None:
        query = query.where(Item.id < _cursor_values(order, after)[0])
    return query.order_by(Item.id.desc())


# ---------------------------------------------------------------- the list

def _without_jit(session: Session) -> None:
    """Keep PostgreSQL's JIT compiler out of this transaction's list queries.

    The rules' CASE with its loan subqueries looks expensive to the planner once a keyset
    cursor narrows the estimate, which pushes it past ``jit_optimize_above_cost``: each
    batch of the CSV then spent 5–6 s compiling for a query that runs in 0.1 s (measured
    on the bench's 1M items). ``SET LOCAL`` ends with the transaction; SQLite has no JIT.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


@dataclass(frozen=True)
class Listed:
    item: Item
    status: str | None       # None when the item is no longer held
    since: datetime          # when it became that status (for ``ok``: when deposited)


@dataclass(frozen=True)
class Page:
    rows: list[Listed]
    next_cursor: str | None


def _prepare(filters: Filters, order: str, now: datetime, tz: tzinfo,
             loans: Loans | None | EllipsisType) -> tuple[Filters, Rules]:
    if order not in ORDERS:
        raise InvalidInput(code="invalid_order", field="order", choices=ORDERS)
    return filters.checked(), rules(now, tz, loans_in() if loans is ... else loans)


def _page(columns: Sequence, filters: Filters, found: Rules, order: str, after: str | None, limit: int,
          offset: int = 0) -> Select:
    """``columns``, rank and since of one page, in two steps: the page's ids ranked from the
    index of held items alone (``ix_items_held`` covers every column the rules read, so
    PostgreSQL never visits the table for the thousands of rows it ranks), then only the
    page's rows fetched by id."""
    ranked = _filtered(select(Item.id.label("id"), found.rank.label("rank"), found.since.label("since")),
                       filters, found)
    page = _page_query(ranked, order, found, after).offset(offset).limit(limit).subquery("page")
    ordering = (page.c.rank, page.c.since, page.c.id) if order == "urgency" else (page.c.id.desc(),)
    return (select(*columns, page.c.rank, page.c.since).join_from(Item, page, Item.id == page.c.id)
            .order_by(*ordering))


def list_query(filters: Filters = HELD, *, now: datetime, tz: tzinfo = UTC, order: str = "urgency",
               after: str | None = None, limit: int = 50, offset: int = 0,
               loans: Loans | None | EllipsisType = ...) -> Select:
    """The SELECT of one page of (Item, rank, since): filtered, ordered, from ``after`` on."""
    filters, found = _prepare(filters, order, now, tz, loans)
    return _page((Item,), filters, found, order, after, limit, offset)


def list_items(session: Session, filters: Filters = HELD, *, now: datetime | None = None, tz: tzinfo = UTC,
               order: str = "urgency", limit: int = 50, after: str | None = None,
               loans: Loans | None | EllipsisType = ...) -> Page:
    """A page of items with their policy status, most urgent (or newest) first.

    ``after`` is the ``next_cursor`` of the page before. ``loans`` defaults to the key
    loans table when the models have one.
    """
    now = now or datetime.now(UTC)
    query = list_query(filters, now=now, tz=tz, order=order, after=after, limit=limit + 1, loans=loans)
    _without_jit(session)
    rows = session.execute(query).all()
    listed = [Listed(item=item, status=status_name(rank), since=datetime.fromtimestamp(since, UTC))
              for item, rank, since in rows[:limit]]
    cursor = None
    if len(rows) > limit:
        item, rank, since = rows[limit - 1]
        cursor = _cursor_text(order, rank, since, item.id)
    return Page(rows=listed, next_cursor=cursor)


def status_of(session: Session, item: Item, *, now: datetime | None = None, tz: tzinfo = UTC,
              loans: Loans | None | EllipsisType = ...) -> Listed:
    """One item's policy status, by the same rules as the list."""
    now = now or datetime.now(UTC)
    _, found = _prepare(HELD, "urgency", now, tz, loans)
    rank, since = session.execute(select(found.rank, found.since).where(Item.id == item.id)).one()
    return Listed(item=item, status=status_name(rank), since=datetime.fromtimestamp(since, UTC))


def summary(session: Session, filters: Filters = HELD, *, now: datetime | None = None, tz: tzinfo = UTC,
            loans: Loans | None | EllipsisType = ...) -> dict[str, int]:
    """How many items of the filtered list are in each policy status (every status listed, zeros too)."""
    now = now or datetime.now(UTC)
    filters, found = _prepare(filters, "urgency", now, tz, loans)
    rank = found.rank.label("rank")
    query = _filtered(select(rank, func.count()), filters, found).group_by(rank)
    _without_jit(session)
    counts = {status: 0 for status in STATUSES}
    for value, count in session.execute(query):
        if value != NOT_HELD:
            counts[STATUSES[value]] = count
    return counts


def iter_rows(session: Session, columns: Sequence[ColumnElement], filters: Filters = HELD, *,
              now: datetime | None = None, tz: tzinfo = UTC, order: str = "urgency", batch: int = 1000,
              loans: Loans | None | EllipsisType = ...) -> Iterator[list]:
    """The whole filtered list as plain rows, ``batch`` at a time, for exports and print-outs.

    Each row is ``columns`` followed by ``rank`` and ``since``. Each batch is one keyset
    query: memory holds one batch, however long the list.
    """
    now = now or datetime.now(UTC)
    filters, found = _prepare(filters, order, now, tz, loans)
    after = None
    while True:
        _without_jit(session)     # again each batch: the caller may end the transaction between them
        rows = session.execute(_page((*columns, Item.id.label("_id")), filters, found, order, after, batch)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = rows[-1]
        after = _cursor_text(order, last.rank, last.since, last._id)

