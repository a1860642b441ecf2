"""RFM scores: R, F and M scores, the combined score, the cell and the segment of every customer.

:func:`score` -- scores 1..``bins`` (5 by default, any of 2-10) for R, F and M, computed
in SQL. "Better" is a shorter recency, a higher frequency, a higher monetary value, so
5 is the most recent, most frequent, highest spending fifth. The rule, for the distinct
values v1 < v2 < ... of a measure from worst to best:

- the quantile score of a value is 1 + floor(bins x the share of scored customers with a
  strictly worse value): without ties these are equal quintiles;
- the score of v1 is 1, and the score of each next value is its quantile score, but at
  most one more than the score of the value before it:
  score(v_i) = min(quantile score(v_i), score(v_{i-1}) + 1).

So **customers with equal values always share a score** (SPSS's "ties: assign to the
same bin"; never split at random as NTILE does), a score never claims more than the
quantile rule (a 5 has at least 80% of the customers strictly below it), and **no level
is skipped** while there are values left: when 38% of the customers bought once and 25%
twice, the quantile rule alone would score them 1 and 2 and jump to 4 for three
purchases, leaving F = 3 (and every segment that needs it) empty; here three purchases
score 3, four score 4. Fewer distinct values than ``bins``, or a tie at the top (half
the customers bought on the last day) still leave the top levels empty: that is honest.
In SQL the rule is evaluated with cut points: the ``j``-th cut is first the value at
position ceil(j n / bins) in ascending order (``quantile_disc``), then raised to the next
distinct value above the previous cut whenever it is not above it; the score is 1 + the
number of cuts the value exceeds.
``method="nested"`` bins as IBM SPSS Direct Marketing does: R over all customers, F
within each R score, M within each R-F cell (ties then share a score within the group).
``breakpoints`` replace the quantile cuts by fixed ones. ``weights`` combine the three
scores into ``rfm_score`` (the weighted mean, 1..bins); ``rfm_cell`` writes them side by
side ("543").
:func:`compute` does summary, scores and segments in one go; :func:`rf_matrix` shows a value
over the R x F score cells.
"""

from __future__ import annotations

import math
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ..warehouse import sql
from ._common import _check_bins, _frame
from .segments import UNCLASSIFIED, Segments, grid_rows, load_segments
from .summary import MEASURES, population_of, summary_query

__all__ = ["METHODS", "score", "compute", "rf_matrix"]

METHODS = ("independent", "nested")


def _weights(weights) -> tuple[float, float, float]:
    if isinstance(weights, dict):
        unknown = set(weights) - {"r", "f", "m", *MEASURES}
        if unknown:
            raise ValueError(f"weights: unknown keys {sorted(unknown)} (use r, f, m)")
        weights = [weights.get(k, weights.get(n, 1.0)) for k, n in zip("rfm", MEASURES)]
    try:
        w = tuple(float(x) for x in weights)
    except (TypeError, ValueError):
        raise ValueError(f"weights: three numbers for R, F and M, got {weights!r}") from None
    if len(w) != 3 or any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
        raise ValueError(f"weights: three numbers >= 0 for R, F and M, not all 0, got {weights!r}")
    return w


def _breakpoints(breakpoints, bins: int) -> dict[str, list[float]]:
    if not breakpoints:
        return {}
    if not isinstance(breakpoints, dict):
        raise ValueError("breakpoints: a mapping like {'recency': [30, 90, 180, 365], 'frequency': [1, 2, 4, 8]}")
    alias = {"r": "recency", "f": "frequency", "m": "monetary"}
    out = {}
    for key, cuts in breakpoints.items():
        name = alias.get(key, key)
        if name not in MEASURES:
            raise ValueError(f"breakpoints: unknown measure {key!r} (recency, frequency or monetary)")
        try:
            cuts = [float(c) for c in cuts]
        except (TypeError, ValueError):
            raise ValueError(f"breakpoints {name}: a list of numbers, got {cuts!r}") from None
        if len(cuts) != bins - 1:
            raise ValueError(f"breakpoints {name}: {bins} bins need {bins - 1} breakpoints, got {len(cuts)}")
        if any(b <= a for a, b in zip(cuts, cuts[1:])) or not all(math.isfinite(c) for c in cuts):
            raise ValueError(f"breakpoints {name}: must be increasing numbers, got {cuts}")
        out[name] = cuts
    return out


def _quantiles(bins: int) -> str:
    """[1/bins, 2/bins, ...] as DECIMALs rounded down: quantile_disc then picks the value at
    position ceil(j n / bins) exactly (integer arithmetic inside DuckDB)."""
    qs = [(Decimal(j) / Decimal(bins)).quantize(Decimal("1e-18"), rounding=ROUND_FLOOR) for j in range(1, bins)]
    return "[" + ", ".join(f"{q}::DECIMAL(19, 18)" for q in qs) + "]"


def _num(value) -> str:
    """A cut point as an exact SQL literal (floats through their shortest round-trip text)."""
    if value is None:
        return "CAST(NULL AS DOUBLE)"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _count_above(value: str, cuts: list[str]) -> str:
    return " + ".join(f"CAST({value} > {c} AS INTEGER)" for c in cuts)


def _fill_levels(cuts: dict, successors) -> dict:
    """Cut points under which scores climb one level at a time (the rule of the module docstring).

    ``cuts`` maps a group (a tuple, ``()`` without groups) to its quantile cuts, ascending;
    ``successors({group: value})`` returns {group: the smallest value above it in that group}
    (groups with none left out). Each cut is raised to the next distinct value above the
    previous cut when it is not above it: c'_1 = c_1, c'_j = max(c_j, next(c'_{j-1})). A group
    whose cut reached its highest value keeps it (nobody exceeds it: the levels above stay
    empty)."""
    out = {g: list(c[:1]) for g, c in cuts.items()}
    top = set()  # groups whose last cut is their highest value
    n = max((len(c) for c in cuts.values()), default=0)
    for j in range(1, n):
        need = {}
        for g, c in cuts.items():
            prev = out[g][-1]
            if c[j] > prev:
                out[g].append(c[j])
            elif g in top:
                out[g].append(prev)
            else:
                need[g] = prev
        found = successors(need) if need else {}
        for g, prev in need.items():
            nxt = found.get(g)
            if nxt is None:
                top.add(g)
            out[g].append(prev if nxt is None else nxt)
    return out



def _lookup_lists(bins: int, segments: Segments) -> tuple[str, str, bool]:
    """SQL list literals of every RFM cell's label ("543") and every score combination's segment
    (:func:`~dbmarketing.rfm.segments.grid_rows`); scoring looks the segment up by position, which is much faster than a
    CASE per customer. Returns (cells, segments, per_cell): segments are listed per R-F pair,
    or per R-F-M cell when a rule uses M."""
    rows, per_cell = grid_rows(bins, segments)
    sep = "" if bins < 10 else "-"
    labels = [f"{r}{sep}{f}{sep}{m}" for r in range(1, bins + 1) for f in range(1, bins + 1) for m in range(1, bins + 1)]
    return ("[" + ", ".join(map(sql.literal, labels)) + "]", "[" + ", ".join(sql.literal(r[3]) for r in rows) + "]", per_cell)


def _score_sql(con, relation: str, bins: int, method: str, weights, breakpoints: dict, monetary: str,
               segments: Segments) -> str:
    """SQL scoring every row of ``relation`` (a table or view of ``con`` with is_prospect,
    recency, frequency, monetary, avg_order_value): adds r_score, f_score, m_score, rfm_cell,
    rfm_score, segment. The cut points are found first, with a few small queries on
    ``relation`` (quantiles, then the next distinct values where ties make cuts coincide),
    and written into the returned SQL as numbers."""
    Q = _quantiles(bins)
    keys = {"recency": "(-recency)", "frequency": "frequency",
            "monetary": "coalesce(avg_order_value, 0)" if monetary == "average" else "monetary"}
    cut_cols = [f"c{j}" for j in range(1, bins)]
    ctes: list[str] = []

    def query(select: str) -> list[tuple]:
        return con.execute(("WITH " + ",\n".join(ctes) + "\n" if ctes else "") + select).fetchall()

    def quantile_cuts(measures: list[str], stage: str, groups: list[str]) -> dict[str, dict]:
        g = ", ".join(groups)
        rows = query(f"SELECT {g + ', ' if g else ''}{', '.join(f'quantile_disc({keys[m]}, {Q})' for m in measures)} "
                     f"FROM {stage} WHERE NOT is_prospect{' GROUP BY ' + g if g else ''}")
        k = len(groups)
        out = {}
        for i, m in enumerate(measures):
            raw = {tuple(r[:k]): r[k + i] for r in rows if r[k + i] is not None}

            def successors(need, key=keys[m]):  # the smallest value above x, per group
                values = ", ".join("(" + ", ".join([*map(str, grp), _num(x)]) + ")" for grp, x in need.items())
                on = " AND ".join([*(f"s.{c} = p.{c}" for c in groups), f"{key} > p._x"])
                pg = ", ".join(f"p.{c}" for c in groups)
                found = query(f"SELECT {pg + ', ' if pg else ''}min({key}) "
                              f"FROM {stage} s JOIN (VALUES {values}) p({', '.join([*groups, '_x'])}) ON {on} "
                              f"WHERE NOT s.is_prospect{' GROUP BY ' + pg if pg else ''}")
                return {tuple(r[:k]): r[k] for r in found if r[k] is not None}

            out[m] = _fill_levels(raw, successors)
        return out

    def cut_table(name: str, groups: list[str], cuts: dict) -> str:
        rows = [", ".join([*map(str, grp), *map(_num, c)]) for grp, c in sorted(cuts.items())]
        if not rows:  # nobody to score: a row that matches nothing
            rows = [", ".join(["CAST(NULL AS INTEGER)"] * len(groups) + [_num(None)] * len(cut_cols))]
        values = ", ".join(f"({r})" for r in rows)
        return f"{name} AS (SELECT * FROM (VALUES {values}) t({', '.join([*groups, *cut_cols])}))"

    def expr(measure: str, cut_table_name: str) -> str:
        if measure in breakpoints:
            cuts = [_num(float(c)) for c in breakpoints[measure]]
            body = (f"{bins} - ({_count_above('recency', cuts)})" if measure == "recency"  # recency <= first: best
                    else f"1 + {_count_above(keys[measure], cuts)}")
        else:
            body = f"1 + {_count_above(keys[measure], [f'{cut_table_name}.{c}' for c in cut_cols])}"
        return f"CASE WHEN NOT is_prospect THEN CAST({body} AS INTEGER) END"

    if method == "independent":
        need = [m for m in MEASURES if m not in breakpoints]
        cuts = quantile_cuts(need, relation, []) if need else {}
        joins = ""
        for m in need:
            ctes.append(cut_table(f"{m[0]}c", [], cuts[m]))
            joins += f" CROSS JOIN {m[0]}c"
        ctes.append(f"""scored AS (SELECT s.*, {expr('recency', 'rc')} AS r_score, {expr('frequency', 'fc')} AS f_score,
            {expr('monetary', 'mc')} AS m_score FROM {relation} s{joins})""")
    else:  # nested: R over everybody, F within each R score, M within each R-F cell
        stage, groups = relation, []
        for m, name in zip(MEASURES, ("r", "f", "scored")):
            table, join = f"{m[0]}c", ""
            if m not in breakpoints:
                ctes.append(cut_table(table, groups, quantile_cuts([m], stage, groups)[m]))
                join = f" LEFT JOIN {table} USING ({', '.join(groups)})" if groups else f" CROSS JOIN {table}"
            ctes.append(f"{name} AS (SELECT s.*, {expr(m, table)} AS {m[0]}_score FROM {stage} s{join})")
            stage, groups = name, [*groups, f"{m[0]}_score"]
    wr, wf, wm = weights
    cells, names, per_cell = _lookup_lists(bins, segments)
    cell_index = f"((r_score - 1) * {bins} + f_score - 1) * {bins} + m_score"
    seg_index = cell_index if per_cell else f"(r_score - 1) * {bins} + f_score"
    # rfm_cell and segment come back as ENUMs (pandas categories, segments in the map's order)
    segment_enum = "ENUM(" + ", ".join(map(sql.literal, dict.fromkeys([*segments.names, UNCLASSIFIED]))) + ")"
    cell_enum = f"ENUM({cells[1:-1]})"
    select = f"""SELECT * EXCLUDE (r_score, f_score, m_score), r_score, f_score, m_score,
        CASE WHEN NOT is_prospect THEN CAST({cells} AS {cell_enum}[])[{cell_index}] END AS rfm_cell,
        ({wr!r} * r_score + {wf!r} * f_score + {wm!r} * m_score) / {wr + wf + wm!r} AS rfm_score,
        CAST(CASE WHEN is_prospect THEN {sql.literal(segments.prospects.name)} ELSE {names}[{seg_index}] END AS {segment_enum})
            AS segment
    FROM scored"""
    return "WITH " + ",\n".join(ctes) + "\n" + select


def _score_options(bins, method, weights, breakpoints, monetary, segments):
    bins = _check_bins(bins)
    if method not in METHODS:
        raise ValueError(f"method must be 'independent' or 'nested', got {method!r}")
    if monetary not in ("total", "average"):
        raise ValueError(f"monetary must be 'total' or 'average' (per order), got {monetary!r}")
    return bins, method, _weights(weights), _breakpoints(breakpoints, bins), monetary, load_segments(segments)


def _describe(frame: pd.DataFrame, bins, method, weights, breakpoints, monetary, segments: Segments,
              window=None, frequency=None, population=None) -> pd.DataFrame:
    """Record how the scores were computed in ``frame.attrs`` (and, in words, in ``settings``)."""
    label = method
    if breakpoints:
        label += " + breakpoints " + "; ".join(f"{m} {'/'.join(f'{c:g}' for c in cuts)}" for m, cuts in breakpoints.items())
    weights_text = ":".join(f"{w:g}" for w in weights)
    settings = (f"{bins} bins, {label}, F {frequency or 'orders'}, M {monetary}, "
                f"window {f'{window} days' if window else 'all history'}, weights {weights_text}, "
                f"{population or 'population not recorded'}, map {Path(segments.source.split(' (')[0]).name} "
                f"#{segments.fingerprint}")
    frame.attrs.update(bins=bins, method=label, weights=weights_text, monetary_basis=monetary, window=window,
                       frequency=frequency, population=population, segment_map=segments.source, settings=settings)
    return frame


def score(summary: pd.DataFrame, bins: int = 5, method: str = "independent", weights=(1, 1, 1),
          breakpoints: dict | None = None, monetary: str = "total", segments=None) -> pd.DataFrame:
    """Score a customer summary: R, F and M scores 1..``bins``, the combined score and the segment.

    Computed in SQL (an in-memory DuckDB over the frame) by the rule in the module docstring:
    equal values always share a score; a score is at most 1 + floor(bins x the share of
    scored customers with a strictly worse value) and climbs at most one level from one value
    to the next, so no level is skipped; recency is reversed (``bins`` = most recent).

    Parameters
    ----------
    summary : the output of :func:`summarize` (``is_prospect``, ``recency``, ``frequency``,
        ``monetary``, ``avg_order_value``; ``is_prospect`` may be left out).
    bins : number of scores, 2..10 (5: quintiles).
    method : "independent" (each measure over all customers) or "nested" (F within each R
        score, M within each R-F cell, as IBM SPSS Direct Marketing does).
    weights : weights of R, F, M in ``rfm_score`` (three numbers, or {"r": .., "f": .., "m": ..}).
    breakpoints : fixed cut points instead of quantiles, per measure, ``bins - 1`` increasing
        numbers: {"recency": [30, 90, 180, 365]} gives R = 5 for 0-30 days, 4 for 31-90, ...,
        1 beyond 365; {"frequency": [1, 2, 4, 8]} gives F = 1 for 1 purchase, 2 for 2, 3 for
        3-4, 4 for 5-8, 5 above. A value equal to a breakpoint belongs to the bin below it (F, M)
        or above it (R).
    monetary : score M on the "total" net spend or on the "average" per order.
    segments : a segment map path (YAML) or :class:`Segments`; None = the default map.

    Returns
    -------
    The summary with ``r_score``, ``f_score``, ``m_score`` (empty for prospects),
    ``rfm_cell``, ``rfm_score`` and ``segment`` added, in the same row order; ``attrs`` record
    the settings (see :func:`store`).
    """
    opts = _score_options(bins, method, weights, breakpoints, monetary, segments)
    frame = summary.copy()
    if "is_prospect" not in frame:
        frame["is_prospect"] = False
    if "avg_order_value" not in frame:
        frame["avg_order_value"] = np.nan
    missing = [c for c in MEASURES if c not in frame]
    if missing:
        raise ValueError(f"score: the summary has no column {', '.join(missing)}")
    frame = frame.drop(columns=[c for c in ("r_score", "f_score", "m_score", "rfm_cell", "rfm_score", "segment")
                                if c in frame])
    frame["_row"] = np.arange(len(frame))
    con = duckdb.connect()
    try:
        con.register("_summary", frame)
        out = _frame(con.sql(_score_sql(con, "_summary", *opts) + " ORDER BY _row"))
    finally:
        con.close()
    out = out.drop(columns="_row")
    out.index = summary.index
    attrs = dict(summary.attrs)
    out.attrs.update(attrs)
    return _describe(out, *opts, window=attrs.get("window"), frequency=attrs.get("frequency"),
                     population=attrs.get("population"))


def compute(con, as_of, bins: int = 5, method: str = "independent", weights=(1, 1, 1),
            breakpoints: dict | None = None, monetary: str = "total", segments=None, window: int | None = None,
            table: str | None = None, customers: str | None = "main.customers", frequency: str = "orders",
            customer_type: str | None = None, repeat: bool = False, unit: str = "days",
            sort: bool = False) -> pd.DataFrame:
    """Summary, scores and segments at ``as_of`` inside DuckDB: :func:`summarize` then
    :func:`score` (see both for the parameters; ``table=None`` reads the purchases as known
    at ``as_of``). The summary is kept in a temporary table while the cut points are found;
    one row per customer comes back (sorted by customer with ``sort``), ready for :func:`store`."""
    as_of, parts, params = summary_query(con, as_of, window, table, customers, unit, frequency, customer_type, repeat)
    opts = _score_options(bins, method, weights, breakpoints, monetary, segments)
    temp = sql.temp_name("rfm_summary")
    sql.run(con, "rfm.temp_table", params, table=sql.ident(temp), query=sql.text("rfm.summary", order_by="", **parts))
    try:
        out = _frame(con.sql(_score_sql(con, temp, *opts) + ("\nORDER BY customer_id" if sort else "")))
    finally:
        sql.run(con, "rfm.drop_temp_table", table=sql.ident(temp))
    out.attrs.update(as_of=as_of.isoformat())
    return _describe(out, *opts, window=window, frequency=frequency, population=population_of(customers, customer_type))


def rf_matrix(scores: pd.DataFrame, value: str = "monetary", agg: str = "mean") -> pd.DataFrame:
    """``value`` aggregated (``agg``: mean, median, sum, count) over each R x F score cell:
    rows F (highest first), columns R (1..bins), for a heat-map."""
    buyers = scores[scores["r_score"].notna()]
    bins = int(scores.attrs.get("bins") or max(buyers["r_score"].max(), buyers["f_score"].max()))
    table = buyers.astype({value: "float64"}).pivot_table(index="f_score", columns="r_score", values=value,
                                                          aggfunc=agg, observed=False)
    table = table.reindex(index=range(bins, 0, -1), columns=range(1, bins + 1))
    table.index.name, table.columns.name = "F score", "R score"
    return table
