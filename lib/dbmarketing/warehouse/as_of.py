"""The as-of date: the one resolver of the workbook ("latest" = the newest counted purchase),
the dates the data covers, and the check that a chosen date lies inside them."""

from __future__ import annotations

from datetime import date, datetime

from . import sql
from .catalog import table_exists

def newest_extraction(con) -> date | None:
    """The extraction date of the newest delivery (main.load_batches; the load date where a
    batch of an older version recorded none); None before anything was loaded."""
    return sql.one(con, "warehouse.newest_extraction")[0]


def _cleaning_is_current(con) -> bool:
    """main.sales exists and no load finished after the cleaning run that made it started (a
    main.sales written by hand, without cleaning runs, counts as current)."""
    if not table_exists(con, "main", "sales"):
        return False
    if not table_exists(con, "main", "cleaning_runs"):
        return True
    cleaned, loaded = sql.one(con, "warehouse.last_cleaning_and_load")
    return cleaned is not None and (loaded is None or cleaned >= loaded)


def purchase_dates(con) -> tuple[date | None, date | None]:
    """(first, newest) date of the purchases cleaning counts: from main.sales when the cleaning
    is newer than the last load, else from the raw orders that pass the order rules
    (the statement ``warehouse.order_exclusion``: completed sales with a customer number, not dated after their
    delivery's extraction date). (None, None) when there is none."""
    if _cleaning_is_current(con):
        return sql.one(con, "warehouse.sales_dates")
    return sql.one(con, "warehouse.purchase_dates", {"reference": date(9999, 12, 31)},
                   order_exclusion=sql.text("warehouse.order_exclusion"))


def _as_date(as_of) -> date:
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise ValueError(f"as_of must be a date like 2026-10-31 or 'latest', got {as_of!r}") from None


def resolve_as_of(con, as_of, purchases: str | None = None) -> date:
    """The analysis date, the one resolver of the workbook: a date, an ISO string, or "latest",
    the newest purchase that cleaning counts (:func:`purchase_dates`), or, given a relation of
    ``purchases`` (a table of the user's, with ``order_date``), the newest date in it. Nothing
    depends on today's clock: an order dated after its delivery's extraction date never counts."""
    if isinstance(as_of, str) and as_of.strip().lower() == "latest":
        if purchases is not None:
            newest = sql.one(con, "warehouse.newest_purchase_in", purchases=purchases)[0]
        else:
            newest = purchase_dates(con)[1]
        if newest is None:
            raise ValueError("as_of='latest' but the database holds no purchase yet (completed sale orders "
                             "with a customer number): load orders, or give as_of as a date")
        return newest
    return _as_date(as_of)


def data_range(con) -> tuple[date, date] | None:
    """The dates the data covers: from the first purchase (or sign-up, if earlier) to the
    extraction date of the newest delivery (or the newest purchase, if later). None when the
    database holds no dated customer or purchase."""
    first, newest = purchase_dates(con)
    signup = sql.one(con, "warehouse.first_signup")[0]
    extracted = newest_extraction(con)
    starts = [d for d in (first, signup) if d is not None]
    ends = [d for d in (newest, extracted) if d is not None]
    if not starts or not ends:
        return None
    return min(starts), max(ends)


def check_as_of(con, as_of, coming: date | None = None) -> date:
    """The resolved as-of date, refused in one line when it lies outside :func:`data_range`.
    ``coming``: the extraction date of deliveries about to be loaded, which extends the range."""
    day = resolve_as_of(con, as_of)
    covered = data_range(con)
    if covered is not None and coming is not None:
        covered = (covered[0], max(covered[1], coming))
    if covered is not None and not covered[0] <= day <= covered[1]:
        raise ValueError(f"as_of {day} is outside the data: the database covers {covered[0]} (first purchase or "
                         f"sign-up) to {covered[1]} (newest extraction date); choose a date in that range or 'latest'")
    return day


def stored_dates(con, table: str, schema: str = "main") -> list[date]:
    """The as-of dates kept in a dated mart (``schema.table`` with an ``as_of`` column), oldest
    first; empty when the table does not exist yet."""
    if not table_exists(con, schema, table):
        return []
    return [r[0] for r in sql.run(con, "warehouse.stored_dates", table=sql.ident(schema, table)).fetchall()]


def stored_as_of(con, table: str, as_of=None, schema: str = "main", how: str = "") -> date:
    """The as-of date of rows kept in a dated mart: None or "latest" is the newest stored one,
    any other date must be stored. ``how``: the calls that fill the table, for the message."""
    dates = stored_dates(con, table, schema)
    if not dates:
        raise ValueError(f"{schema}.{table} is empty" + (f": run {how} first" if how else ""))
    if as_of is None or (isinstance(as_of, str) and as_of.strip().lower() == "latest"):
        return dates[-1]
    day = _as_date(as_of)
    if day not in dates:
        raise ValueError(f"{schema}.{table} holds nothing for {day}; stored dates: {', '.join(map(str, dates))}")
    return day
