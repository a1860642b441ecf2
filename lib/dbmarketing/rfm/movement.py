"""Migration: how customers moved between segments from one stored as-of date to another.

Both dates must have been scored with the same settings (see :func:`dbmarketing.rfm.store`)
unless the caller allows otherwise.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..warehouse import sql
from ._common import _frame
from .segments import NOT_YET, load_segments, ordered
from .storage import stored_as_of

__all__ = ["migration", "movers"]


def _check_same_settings(con, a: date, b: date, customer_type: str | None) -> None:
    """Refuse to compare two dates whose scores were computed with different settings."""
    rows = sql.run(con, "rfm.settings_of_dates", {"a": a, "b": b, "customer_type": customer_type or None}).fetchall()
    if len({r[1] for r in rows}) > 1:
        found = "; ".join(f"{d}: {n:,} customers scored with {t}" for d, t, n in rows)
        raise ValueError(f"the scores of {a} and {b} were computed with different settings ({found}): their segments "
                         f"are not comparable. Score both dates with the same settings (rfm.compute + rfm.store), "
                         f"narrow the comparison with customer_type=, or pass allow_different_settings=True")


def migration(con, from_as_of, to_as_of, segments=None, customer_type: str | None = None,
              allow_different_settings: bool = False) -> pd.DataFrame:
    """How many customers moved from each segment at ``from_as_of`` (rows) to each segment at
    ``to_as_of`` (columns), from ``main.rfm_scores``. Customers who were not yet in the database
    at the first date are the row "(not yet in the database)". Rows and columns follow the
    segment map's order; ``attrs`` hold both dates. Both dates must have been scored with the
    same settings (see :func:`dbmarketing.rfm.store`) unless ``allow_different_settings``."""
    seg = load_segments(segments)
    a, b = stored_as_of(con, from_as_of), stored_as_of(con, to_as_of)
    if not allow_different_settings:
        _check_same_settings(con, a, b, customer_type)
    rows = sql.run(con, "rfm.migration", {"from_as_of": a, "to_as_of": b, "not_yet": NOT_YET,
                                          "customer_type": customer_type or None}).fetchall()
    frame = pd.DataFrame(rows, columns=["from", "to", "customers"])
    table = frame.pivot_table(index="from", columns="to", values="customers", aggfunc="sum", fill_value=0)
    table = table.reindex(index=ordered(table.index, seg), columns=ordered(table.columns, seg), fill_value=0)
    table.index.name, table.columns.name = f"segment on {a}", f"segment on {b}"
    table = table.astype("int64")
    table.attrs.update(from_as_of=a.isoformat(), to_as_of=b.isoformat())
    return table


def movers(con, from_as_of, to_as_of, from_segment, to_segment, segments=None,
           customer_type: str | None = None) -> pd.DataFrame:
    """The customers who were in ``from_segment`` at ``from_as_of`` and are in ``to_segment`` at
    ``to_as_of`` (each a segment name or a list of names), with their segments, cells and
    recency at both dates and their values now (largest spend first)."""
    seg = load_segments(segments)
    a, b = stored_as_of(con, from_as_of), stored_as_of(con, to_as_of)

    def names(which) -> list[str]:
        which = [which] if isinstance(which, str) else list(which)
        return [seg.get(n).name for n in which]

    return _frame(sql.relation(con, "rfm.movers", {"from_as_of": a, "to_as_of": b, "customer_type": customer_type or None,
                                                   "from_segments": names(from_segment), "to_segments": names(to_segment)}))
