"""The stored scores: ``main.rfm_scores``, one row per customer and as-of date.

:func:`store` keeps the scores (registered in the catalog, with the settings they were
computed with) so that :func:`dbmarketing.rfm.migration` can compare two dates. Storing
replaces the rows of the same date for the same customers or the same population (e.g.
consumers); it refuses to replace rows computed with other settings unless ``replace=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd

from .. import warehouse
from ..warehouse import sql
from ._common import _frame

__all__ = ["SCORE_COLUMNS", "SCORES_TABLE", "store", "store_rows", "stored_dates", "load", "Stored", "stored"]

C = warehouse.Column
SCORE_COLUMNS = (
    C("customer_id", "VARCHAR", "Master customer", warehouse.PUBLIC),
    C("as_of", "DATE", "As-of date of the scores: only purchases up to this day count", warehouse.PUBLIC),
    C("customer_type", "VARCHAR", "consumer or distributor (from the customer master)", warehouse.PUBLIC),
    C("is_prospect", "BOOLEAN", "Signed up by the as-of date but never bought (not scored)", warehouse.PUBLIC),
    C("first_purchase", "DATE", "First purchase up to the as-of date", warehouse.PUBLIC),
    C("last_purchase", "DATE", "Last purchase up to the as-of date", warehouse.PUBLIC),
    C("recency", "INTEGER", "Days from the last purchase to the as-of date", warehouse.PUBLIC),
    C("frequency", "BIGINT", "Purchases (orders or purchase days) in the window", warehouse.PUBLIC),
    C("monetary", "DOUBLE", "Net spend (after returns) in the window", warehouse.DEEP_PUBLIC),
    C("avg_order_value", "DOUBLE", "Net spend per order in the window", warehouse.DEEP_PUBLIC),
    C("r_score", "INTEGER", "Recency score 1..bins (bins = most recent)", warehouse.PUBLIC),
    C("f_score", "INTEGER", "Frequency score 1..bins (bins = most frequent)", warehouse.PUBLIC),
    C("m_score", "INTEGER", "Monetary score 1..bins (bins = highest spend)", warehouse.PUBLIC),
    C("rfm_cell", "VARCHAR", "R, F and M scores side by side (e.g. 543)", warehouse.PUBLIC),
    C("rfm_score", "DOUBLE", "Weighted mean of the three scores (1..bins)", warehouse.PUBLIC),
    C("segment", "VARCHAR", "Named segment (segments.yaml)", warehouse.PUBLIC),
    C("bins", "INTEGER", "Number of score bins", warehouse.PUBLIC),
    C("method", "VARCHAR", "independent or nested binning (or breakpoints)", warehouse.PUBLIC),
    C("window_days", "INTEGER", "Days counted for frequency and monetary value (empty = all history)", warehouse.PUBLIC),
    C("weights", "VARCHAR", "Weights of R, F and M in rfm_score", warehouse.PUBLIC),
    C("population", "VARCHAR", "Customers scored together: a customer type, all customers, or all buyers", warehouse.PUBLIC),
    C("settings", "VARCHAR", "Every scoring setting in words: rows with equal settings are comparable", warehouse.PUBLIC),
    C("scored_at", "TIMESTAMP", "When the scores were stored", warehouse.PUBLIC),
)
SCORES_TABLE = "rfm_scores"
SCORES = warehouse.Table(SCORES_TABLE, "RFM values, scores and segment per customer and as-of date", SCORE_COLUMNS,
                         key=("customer_id", "as_of"))


def store(con, scores: pd.DataFrame, replace: bool = False) -> int:
    """Write scores into ``main.rfm_scores``, one row per customer and as-of date.

    The rows of the same as-of date for the same customers, or for the same population (a
    customer type, all customers), are replaced, and so are rows of that date stored before
    settings were recorded (an older version of this module); other dates and other populations are kept
    (consumers and distributors scored apart live side by side). Rows that would be replaced
    but were computed with other settings (bins, binning, bases, window, weights, population,
    segment map: the ``settings`` column) are only replaced with ``replace=True``; without it
    a ValueError says which. Registers the table in the catalog (privacy tiers 1 and 2).
    Returns rows written.
    """
    if "as_of" not in scores or "customer_id" not in scores:
        raise ValueError("store: the scores need customer_id and as_of columns (the output of rfm.compute or rfm.score)")
    needed = [c for c in ("r_score", "f_score", "m_score", "segment") if c not in scores]
    if needed:
        raise ValueError(f"store: not scored yet (no {', '.join(needed)}); run rfm.score first")
    frame = scores.copy()
    for name, value in _constants(scores.attrs).items():
        if name not in frame:
            frame[name] = value
    frame["scored_at"] = pd.Timestamp(datetime.now().replace(microsecond=0))
    return _write(con, frame, sorted({str(x) for x in frame["settings"].dropna().unique()}), replace)


def store_rows(con, relation: str, attrs: dict, replace: bool = False) -> int:
    """:func:`store` for scores the database holds: ``relation`` (a temporary table of
    ``con`` with the columns of :func:`dbmarketing.rfm.compute`'s frame) and the ``attrs`` that
    frame would carry. Nothing per customer goes through pandas. Returns rows written."""
    constants = _constants(attrs)
    rows = sql.temp_name("rfm_stored")
    values = {**constants, "scored_at": datetime.now().replace(microsecond=0)}
    sql.run(con, "rfm.scores_to_store", view=sql.ident(rows), scores=sql.ident(relation),
            **{k: sql.literal(v) for k, v in values.items()})
    try:
        return _write(con, rows, [constants["settings"]] if constants["settings"] else [], replace)
    finally:
        sql.run(con, "customers.drop_view", view=sql.ident(rows))


def _constants(attrs: dict) -> dict:
    """The columns every stored row of one computation shares, from the scores' ``attrs``."""
    return {"bins": attrs.get("bins"), "method": attrs.get("method"), "window_days": attrs.get("window"),
            "weights": attrs.get("weights"), "population": attrs.get("population"), "settings": attrs.get("settings")}


def _write(con, rows, settings: list[str], replace: bool) -> int:
    """Write the rows (a frame, or a relation of ``con``) into main.rfm_scores, replacing those
    they stand for: refused where those were computed with other settings, unless ``replace``."""

    def same_settings(con, new: str) -> None:
        """Refuse to replace rows computed with other settings (unless ``replace``)."""
        clash = sql.run(con, "rfm.settings_clash", new=sql.ident(new),
                        replaced=sql.text("rfm.replaced_scores", new=sql.ident(new))).fetchall()
        if clash:
            old = "; ".join(f"{n:,} rows of {d} computed with: {t}" for d, t, n in clash)
            raise ValueError(f"main.{SCORES_TABLE} already holds {old}. These scores were computed with: "
                             f"{'; '.join(settings or ['(settings not recorded)'])}. Pass replace=True to replace "
                             f"them, or store other settings under another as-of date")

    return warehouse.write_mart(con, SCORES, rows, replace="rows", where="rfm.replaced_scores",
                                check=None if replace else same_settings)


def stored_dates(con) -> list[date]:
    """As-of dates kept in ``main.rfm_scores``, oldest first."""
    return warehouse.stored_dates(con, SCORES_TABLE)


def stored_as_of(con, as_of) -> date:
    """The stored as-of date ``as_of`` stands for (None or "latest": the newest)."""
    return warehouse.stored_as_of(con, SCORES_TABLE, as_of, how="rfm.compute and rfm.store")


def load(con, as_of=None, customer_type: str | None = None) -> pd.DataFrame:
    """The stored scores of one as-of date (None: the latest), sorted by customer; only
    customers of ``customer_type`` if given."""
    params = {"as_of": stored_as_of(con, as_of), "customer_type": customer_type or None}
    out = _frame(sql.relation(con, "rfm.load_scores", params, scores=sql.text("rfm.stored_scores")))
    first = out.iloc[0] if len(out) else None
    if first is not None:
        out.attrs.update(as_of=params["as_of"].isoformat(), bins=int(first["bins"]) if pd.notna(first["bins"]) else None,
                         method=first["method"], weights=first["weights"],
                         window=int(first["window_days"]) if pd.notna(first["window_days"]) else None,
                         population=first["population"], settings=first["settings"])
    return out


@dataclass(frozen=True)
class Stored:
    """The stored scores of one as-of date (one population) where they are, in the database.

    What chapter 04 shows of ten million customers are sums over them: every function that
    takes a frame of scores (segment_table, empty_segments, rf_matrix, pareto,
    measure_summary, score_ranges, distributions) takes a ``Stored`` too and has the database
    aggregate it, so no customer-level frame passes through pandas. Made by :func:`stored`."""

    con: object
    as_of: date
    customer_type: str | None
    customers: int  # scored together at the date: buyers and prospects
    buyers: int
    attrs: dict = field(default_factory=dict)  # the settings, as :func:`load` puts them on its frame

    @property
    def prospects(self) -> int:
        return self.customers - self.buyers

    def relation(self) -> tuple[str, dict]:
        """The rows as an SQL relation and its parameters."""
        return f"({sql.text('rfm.stored_scores')})", {"as_of": self.as_of, "customer_type": self.customer_type}


def stored(con, as_of=None, customer_type: str | None = None) -> Stored:
    """The stored scores of ``as_of`` (None or "latest": the newest stored date; a date with no
    stored scores has no customers), only customers of ``customer_type`` if given."""
    if as_of is None or as_of == "latest":
        as_of = stored_as_of(con, as_of)
    params = {"as_of": pd.Timestamp(as_of).date(), "customer_type": customer_type or None}
    customers, buyers, bins, method, weights, window, population, settings = sql.one(
        con, "rfm.stored_counts", params, scores=sql.text("rfm.stored_scores"))
    attrs = {"as_of": params["as_of"].isoformat(), "bins": bins, "method": method, "weights": weights,
             "window": window, "population": population, "settings": settings} if customers else {}
    return Stored(con, params["as_of"], params["customer_type"], int(customers), int(buyers), attrs)
