"""The tables chapter 04 shows beside the scores, and its business rules: what each score
level covers, the segments' shares, who slipped from the best segments to the ones at risk
(the retention list), which segment to show first, and which segments to export."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..warehouse import sql
from ._common import _aggregated, _frame

__all__ = ["measure_summary", "score_ranges", "Distributions", "distributions", "Retention", "retention",
           "first_segment", "export_segments", "XLSX_MOST", "list_suffixes", "slug", "segment_members"]

_MEASURES = {"recency": "recency (days)", "frequency": "frequency (orders)", "monetary": "monetary (net spend)",
             "avg_order_value": "average order value"}


_QUANTILES = [0.2, 0.4, 0.5, 0.6, 0.8]


def measure_summary(scores) -> pd.DataFrame:
    """Recency, frequency, monetary value and average order value of the buyers: count, mean,
    spread and the quintile edges (20%, 40%, 50%, 60%, 80%), one row per measure, as pandas'
    ``describe`` gives them. ``scores``: a frame of scores (or of buyers) or the stored scores
    (:func:`dbmarketing.rfm.stored`), summed by the database."""
    with _aggregated(scores) as (con, relation, params, buyer):
        stats = ", ".join(sql.text("rfm.measure_stat", m=sql.ident(m)) for m in _MEASURES)
        row = sql.one(con, "rfm.measure_stats", {**params, "quantiles": _QUANTILES}, scores=relation, buyer=buyer,
                      stats=stats)
    rows = [[*row[i:i + 4], *(row[i + 4] or [None] * len(_QUANTILES)), row[i + 5]] for i in range(0, len(row), 6)]
    columns = ["count", "mean", "std", "min", *[f"{q:.0%}" for q in _QUANTILES], "max"]
    return pd.DataFrame(rows, index=list(_MEASURES.values()), columns=columns).astype("float64")


def score_ranges(scores) -> pd.DataFrame:
    """What each score level covers: one row per level, and per measure the lowest and highest
    value of the level (``recency_from``, ``recency_to`` in days, ``frequency_*`` in orders, both
    whole numbers; ``monetary_*`` money) and its customers (``recency_customers`` ...): ties make
    the levels unequal, most of all in frequency. ``scores``: a frame of scores (or of buyers)
    or the stored scores (:func:`dbmarketing.rfm.stored`)."""
    parts = []
    with _aggregated(scores) as (con, relation, params, buyer):
        for col, value in (("r_score", "recency"), ("f_score", "frequency"), ("m_score", "monetary")):
            rows = sql.run(con, "rfm.score_range", params, scores=relation, buyer=buyer, score=col, value=value).fetchall()
            g = pd.DataFrame(rows, columns=["score", f"{value}_from", f"{value}_to", f"{value}_customers"]).set_index("score")
            if value != "monetary":
                g[[f"{value}_from", f"{value}_to"]] = g[[f"{value}_from", f"{value}_to"]].astype("float64").round().astype("Int64")
            parts.append(g)
    out = pd.concat(parts, axis=1).sort_index()
    counts = [c for c in out.columns if c.endswith("_customers")]
    out[counts] = out[counts].astype("Int64")
    return out.reset_index().assign(score=lambda f: f["score"].astype(int))


@dataclass(frozen=True)
class Distributions:
    """The distributions of recency, frequency and monetary value over the buyers, as bars
    (``edges``, ``counts``: draw them with ``Axes.stairs``), and the figures read from them."""

    recency: tuple[np.ndarray, np.ndarray]  # equal-width bars from the least to the largest recency
    frequency: tuple[np.ndarray, np.ndarray]  # one bar per number of orders, 1 .. most_orders
    monetary: tuple[np.ndarray, np.ndarray]  # bars of equal width on a log scale, from max(least, 1)
    median_recency: float
    once: float  # share of the buyers who bought once
    median_monetary: float
    top_monetary: float  # the 99th percentile


def distributions(scores, bars: int = 40, most_orders: int = 30) -> Distributions:
    """The buyers' recency in ``bars`` equal bars, their frequency one bar per number of orders
    up to ``most_orders`` (more are left off the chart) and their monetary value in ``bars``
    bars of equal width on a log scale (values under 1, such as refunds, are left off), as
    numpy's histogram would draw them; counted by the database. ``scores``: a frame of scores
    or the stored scores (:func:`dbmarketing.rfm.stored`)."""
    with _aggregated(scores) as (con, relation, params, buyer):
        r_lo, r_hi, f_hi, lo, hi, *facts = sql.one(con, "rfm.distribution_facts", params, scores=relation, buyer=buyer)
        if r_lo is None:
            raise ValueError("distributions: no buyers")

        def bars_of(expr: str, keep: str, n: int) -> np.ndarray:
            counts = np.zeros(n, dtype="int64")
            for bar, count in sql.run(con, "rfm.bar_counts", params, scores=relation, buyer=buyer, bar=expr,
                                      keep=keep).fetchall():
                counts[int(bar)] = count
            return counts

        def equal_bars(x: str, lo: float, hi: float) -> str:  # numpy's bar of a value: the last bar holds the top edge
            return f"least(CAST(floor(({x} - {float(lo)!r}) / {float(hi - lo)!r} * {bars}) AS INTEGER), {bars - 1})"

        if r_lo == r_hi:  # one value: numpy's bars around it
            r_lo, r_hi = r_lo - 0.5, r_hi + 0.5
        recency = (np.linspace(r_lo, r_hi, bars + 1), bars_of(equal_bars("recency", r_lo, r_hi), "TRUE", bars))
        top = int(min(f_hi, most_orders))
        frequency = (np.arange(0.5, top + 1.5), bars_of("frequency - 1", f"frequency BETWEEN 1 AND {top}", top))
        lo = float(lo)
        hi = float(hi) if hi is not None and hi - lo > 1e-9 else lo + 1.0  # one value (or none from 1 up): a decade
        monetary = (np.logspace(lo, hi, bars + 1),
                    bars_of(equal_bars("log10(monetary)", lo, hi),
                            f"CASE WHEN monetary > 0 THEN log10(monetary) END BETWEEN {lo!r} AND {hi!r}", bars))
    return Distributions(recency, frequency, monetary, *(float(v) for v in facts))


@dataclass
class Retention:
    """Who left the best segments for the slipping ones between two dates.

    ``good``: the map's segments with the role best or loyal; ``slipping``: at_risk or
    win_back (empty when the map gives no such roles: then there is no retention list).
    ``kept``: per good segment (was, stayed, [(to, customers), ...] the three biggest moves
    elsewhere); ``slipped``: customers who were good and are slipping now."""
    good: list[str]
    slipping: list[str]
    kept: dict[str, tuple[int, int, list[tuple[str, int]]]] = field(default_factory=dict)
    slipped: int = 0


def retention(moves: pd.DataFrame, segments) -> Retention:
    """The retention rule over a migration matrix (:func:`dbmarketing.rfm.migration`: rows the
    earlier segment, columns the later one)."""
    good = [s.name for s in (segments.role("best"), segments.role("loyal")) if s]
    slipping = [s.name for s in (segments.role("at_risk"), segments.role("win_back")) if s]
    result = Retention(good, slipping)
    if not good or not slipping:
        return result

    def count(a, b):
        return int(moves.loc[a, b]) if a in moves.index and b in moves.columns else 0

    for name in good:
        was = int(moves.loc[name].sum()) if name in moves.index else 0
        moved = moves.loc[name].drop(index=name, errors="ignore").sort_values(ascending=False) if was else None
        top = [(to, int(n)) for to, n in moved[moved > 0].head(3).items()] if was else []
        result.kept[name] = (was, count(name, name) if was else 0, top)
    result.slipped = sum(count(a, b) for a in good for b in slipping)
    return result


def first_segment(segments, table: pd.DataFrame) -> str:
    """The segment shown first: the map's customers at risk, or else its largest segment of buyers."""
    at_risk = segments.role("at_risk")
    return at_risk.name if at_risk else table.drop(index=segments.prospects.name, errors="ignore").customers.idxmax()


def export_segments(segments) -> list[str]:
    """The segments whose lists are exported: the best customers and the ones at risk (the map's
    roles), or else the map's first segment."""
    names = [s.name for s in (segments.role("best"), segments.role("at_risk")) if s]
    return names or [segments.segments[0].name]


# A list a call center works through is opened in Excel: written as .xlsx too up to this many
# customers. A longer one is for an e-mail or SMS tool, which reads CSV; writing a million rows
# into .xlsx takes openpyxl many minutes (1.5 million: over 8 minutes, unfinished).
XLSX_MOST = 100_000


def list_suffixes(customers: int) -> tuple[str, ...]:
    """The files a segment list of ``customers`` is written as: CSV, and .xlsx up to :data:`XLSX_MOST`."""
    return (".csv", ".xlsx") if customers <= XLSX_MOST else (".csv",)


def slug(name: str) -> str:
    """A segment name as part of a file name: ``"Can't Lose Them"`` -> ``cant_lose_them``."""
    return name.lower().replace(" ", "_").replace("'", "")


def segment_members(con, as_of, segment: str, bins: int = 5, method: str = "independent", weights=(1, 1, 1),
                    segments=None, customer_type: str | None = None, rows: int = 20) -> pd.DataFrame:
    """The customers of one segment when every customer is scored with these settings (as
    :func:`dbmarketing.rfm.compute`), with their name, phone and city (mask them for the reader
    with :func:`dbmarketing.present.show_table`), best combined score first: the first ``rows``.
    ``attrs``: ``members`` (the segment's customers) and ``scored`` (every customer scored).
    The scores stay in the database: for ten million customers only the rows shown come back."""
    from .scoring import _score_options, scored_rows

    opts = _score_options(bins, method, weights, None, "total", segments)
    name = opts[-1].get(segment).name
    with scored_rows(con, as_of, opts, customer_type=customer_type) as (scored, _):
        scored_count, members = sql.one(con, "rfm.scored_counts", {"segment": name}, scored=scored)
        out = _frame(sql.relation(con, "rfm.members_of", {"segment": name, "rows": int(rows)}, scored=scored))
    out.attrs.update(members=int(members), scored=int(scored_count))
    return out
