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
from contextlib import contextmanager
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .. import warehouse
from ..warehouse import dialect, sql
from ._common import _aggregated, _check_bins, _frame
from .segments import UNCLASSIFIED, Segments, grid_rows, load_segments
from .summary import MEASURES, population_of, summary_query

__all__ = ["METHODS", "score", "compute", "compute_and_store", "rf_matrix"]

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


def _quantiles(bins: int) -> list[str]:
    """[1/bins, 2/bins, ...] as DECIMAL texts rounded down (the statements cast them to
    DECIMAL(19, 18)): quantile_disc then picks the value at position ceil(j n / bins) exactly
    (integer arithmetic inside DuckDB)."""
    return [str((Decimal(j) / Decimal(bins)).quantize(Decimal("1e-18"), rounding=ROUND_FLOOR)) for j in range(1, bins)]


def _column(values) -> pa.Array:
    """Cut points (or group scores) as one column of a registered table: integers stay
    integers, other numbers are exact doubles, None is empty."""
    if all(v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) for v in values):
        return pa.array([None if v is None else int(v) for v in values], type=pa.int64())
    return pa.array([None if v is None else float(v) for v in values], type=pa.float64())


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



def _lookup_lists(bins: int, segments: Segments) -> tuple[list[str], list[str], bool]:
    """Every RFM cell's label ("543") and every score combination's segment
    (:func:`~dbmarketing.rfm.segments.grid_rows`); scoring looks the segment up by position,
    which is much faster than a CASE per customer. Returns (cells, segments, per_cell): segments
    are listed per R-F pair, or per R-F-M cell when a rule uses M."""
    rows, per_cell = grid_rows(bins, segments)
    sep = "" if bins < 10 else "-"
    labels = [f"{r}{sep}{f}{sep}{m}" for r in range(1, bins + 1) for f in range(1, bins + 1) for m in range(1, bins + 1)]
    return labels, [r[3] for r in rows], per_cell


@contextmanager
def _summary(con, parts: dict, params: dict):
    """The customer summary (``rfm.summary``: ``parts``, ``params``) as :func:`_scores` reads
    it: (its name, the WITH clause and parameters that define it, or None). Read from
    main.purchase_summary on DuckDB it is cheap to read again: each scoring statement reads it
    in a WITH clause of its own (writing ten million rows into a temporary table cost more than
    the three statements' reading). Aggregated over every purchase it is computed once, into a
    temporary table dropped after."""
    name = sql.temp_name("rfm_summary")
    if params["_summed"] and dialect.engine_of(con) == dialect.ENGINE:
        yield name, (sql.text("rfm.summary", order_by="", **parts), params)
        return
    sql.run(con, "rfm.temp_table", params, table=sql.ident(name), query=sql.text("rfm.summary", order_by="", **parts))
    try:
        yield name, None
    finally:
        sql.run(con, "rfm.drop_temp_table", table=sql.ident(name))


def _scores(con, relation: str, bins: int, method: str, weights, breakpoints: dict, monetary: str,
            segments: Segments, order_by: str = "", into: str | None = None, defined=None) -> pd.DataFrame | None:
    """Score every row of ``relation`` (a table or view of ``con`` with is_prospect, recency,
    frequency, monetary, avg_order_value): adds r_score, f_score, m_score, rfm_cell, rfm_score,
    segment. The cut points are found first, with a few small queries on ``relation``
    (quantiles, then the next distinct values where ties make cuts coincide), and registered
    as small tables of their own name that the scoring statement joins. Returns the scored
    rows, or (``into``) writes them into a temporary table of that name and returns None.
    ``defined``: (the text, its parameters) of a WITH clause defining ``relation`` (see :func:`_summary`)."""
    keys = {"recency": "(-recency)", "frequency": "frequency",
            "monetary": "coalesce(avg_order_value, 0)" if monetary == "average" else "monetary"}
    cut_cols = [f"c{j}" for j in range(1, bins)]
    params = {"quantiles": _quantiles(bins), "bins": bins}
    steps: list[str] = []  # the scoring steps so far, as WITH clauses
    if defined is not None:
        steps.append(f"{sql.ident(relation)} AS (\n{defined[0]})")
        params.update({k: v for k, v in defined[1].items() if not k.startswith("_")})
    registered: list[str] = []

    def register(stem: str, columns: dict) -> str:
        name = sql.temp_name(stem)
        con.register(name, pa.table(columns))
        registered.append(name)
        return sql.ident(name)

    def with_steps() -> str:
        return "WITH " + ",\n".join(steps) + "\n" if steps else ""

    def group_parts(groups: list[str], alias: str = "") -> dict:
        g = ", ".join(f"{alias}{c}" for c in groups)
        return {"groups": g + ", " if g else "", "group_by": " GROUP BY " + g if g else ""}

    def counted(m: str, stage: str) -> list | None:
        """The quantile cuts of measure ``m`` over all customers of ``stage`` from its counts
        (rfm.counted_cuts)."""
        steps_before = "WITH " + "".join(f"{step},\n" for step in steps)
        return sql.one(con, "rfm.counted_cuts", params, steps=steps_before, stage=stage, key=keys[m],
                       cuts=", ".join(sql.text("rfm.counted_cut", j=j) for j in range(1, bins)))[0]

    def quantile_cuts(measures: list[str], stage: str, groups: list[str]) -> dict[str, dict]:
        # recency and frequency take few distinct values: over all customers, counting them is
        # cheaper than sorting ten million customers (the same cuts); monetary value is sorted
        few = [m for m in measures if m in ("recency", "frequency")] if not groups else []
        sorted_ = [m for m in measures if m not in few]
        rows = sql.run(con, "rfm.quantile_cuts", params, steps=with_steps(), stage=stage, **group_parts(groups),
                       cuts=", ".join(sql.text("rfm.quantile_cut", key=keys[m]) for m in sorted_)).fetchall() \
            if sorted_ else [()]
        k = len(groups)
        out = {}
        for m in measures:
            if m in few:
                cut = counted(m, stage)
                raw = {(): cut} if cut is not None else {}
            else:
                i = sorted_.index(m)
                raw = {tuple(r[:k]): r[k + i] for r in rows if r[k + i] is not None}

            def successors(need, key=keys[m]):  # the smallest value above x, per group
                cuts = register("rfm_cut", {**{c: _column([grp[j] for grp in need]) for j, c in enumerate(groups)},
                                            "_x": _column(list(need.values()))})
                found = sql.run(con, "rfm.next_values", params, steps=with_steps(), stage=stage, key=key, cuts=cuts,
                                on="".join(f"s.{c} = p.{c} AND " for c in groups),
                                **group_parts(groups, "p.")).fetchall()
                return {tuple(r[:k]): r[k] for r in found if r[k] is not None}

            out[m] = _fill_levels(raw, successors)
        return out

    def cut_table(groups: list[str], cuts: dict) -> str:
        rows = sorted(cuts.items())
        if not rows:  # nobody to score: a row that matches nothing
            rows = [((None,) * len(groups), [None] * len(cut_cols))]
        return register("rfm_cuts", {**{c: _column([grp[j] for grp, _ in rows]) for j, c in enumerate(groups)},
                                     **{c: _column([cut[j] for _, cut in rows]) for j, c in enumerate(cut_cols)}})

    def expr(measure: str, table: str) -> str:
        cuts = [f"{table}.{c}" for c in cut_cols]
        if measure == "recency" and measure in breakpoints:  # recency <= first: best
            body = f"$bins - ({_count_above('recency', cuts)})"
        else:
            body = f"1 + {_count_above(keys[measure], cuts)}"
        return f"CASE WHEN NOT is_prospect THEN CAST({body} AS INTEGER) END"

    def breakpoint_table(measure: str) -> str:
        return register("rfm_breakpoints", {c: _column([float(b)]) for c, b in zip(cut_cols, breakpoints[measure])})

    try:
        if method == "independent":
            need = [m for m in MEASURES if m not in breakpoints]
            cuts = quantile_cuts(need, sql.ident(relation), []) if need else {}
            tables = {m: cut_table([], cuts[m]) if m in need else breakpoint_table(m) for m in MEASURES}
            steps.append(sql.text("rfm.scored_independently", relation=sql.ident(relation),
                                  r_score=expr("recency", "rc"), f_score=expr("frequency", "fc"),
                                  m_score=expr("monetary", "mc"),
                                  rc=tables["recency"], fc=tables["frequency"], mc=tables["monetary"]))
        else:  # nested: R over everybody, F within each R score, M within each R-F cell
            stage, groups = sql.ident(relation), []
            for m, name in zip(MEASURES, ("r", "f", "scored")):
                if m in breakpoints:
                    table, using = breakpoint_table(m), ""
                else:
                    table = cut_table(groups, quantile_cuts([m], stage, groups)[m])
                    using = f" USING ({', '.join(groups)})" if groups else ""
                steps.append(sql.text("rfm.scored_step", step=name, stage=stage, score=f"{expr(m, 'c')} AS {m[0]}_score",
                                      join="LEFT JOIN" if using else "CROSS JOIN", cuts=table, using=using))
                stage, groups = name, [*groups, f"{m[0]}_score"]
        wr, wf, wm = weights
        cells, names, per_cell = _lookup_lists(bins, segments)
        # rfm_cell and segment come back as ENUMs (pandas categories, segments in the map's order);
        # an ENUM's values and the weights are written as literals: a type takes no parameters, and a
        # weight as a parameter would be a DOUBLE where its literal is an exact DECIMAL
        statement = ({**params, "cells": cells, "segment_names": names, "prospects": segments.prospects.name}, dict(
            steps=with_steps(), cell_enum="ENUM(" + ", ".join(map(sql.literal, cells)) + ")",
            segment_enum="ENUM(" + ", ".join(map(sql.literal, dict.fromkeys([*segments.names, UNCLASSIFIED]))) + ")",
            segment_index=sql.text("rfm.cell_index") if per_cell else "(r_score - 1) * $bins + f_score",
            cell_index=sql.text("rfm.cell_index"), wr=sql.literal(wr), wf=sql.literal(wf), wm=sql.literal(wm),
            weight_sum=sql.literal(wr + wf + wm), order_by=order_by))
        if into is not None:
            sql.run(con, "rfm.temp_table", statement[0], table=sql.ident(into), query=sql.text("rfm.scores", **statement[1]))
            return None
        out = _frame(sql.relation(con, "rfm.scores", statement[0], **statement[1]))
        if dialect.engine_of(con) != dialect.ENGINE:  # an engine without ENUMs gives strings: the same categories
            out["rfm_cell"] = pd.Categorical(out["rfm_cell"], categories=cells)
            out["segment"] = pd.Categorical(out["segment"], categories=list(dict.fromkeys([*segments.names, UNCLASSIFIED])))
        return out
    finally:
        for name in registered:
            con.unregister(name)


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
        name = sql.temp_name("rfm_summary")
        con.register(name, frame)
        out = _scores(con, name, *opts, order_by="ORDER BY _row")
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
    if table is None:  # main.sales: on the session's engine (a caller's own table stays on its connection)
        con = warehouse.compute_on(con)
    as_of, parts, params = summary_query(con, as_of, window, table, customers, unit, frequency, customer_type, repeat)
    opts = _score_options(bins, method, weights, breakpoints, monetary, segments)
    with _summary(con, parts, params) as (name, defined):
        out = _scores(con, name, *opts, order_by="ORDER BY customer_id" if sort else "", defined=defined)
    out.attrs.update(as_of=as_of.isoformat())
    return _describe(out, *opts, window=window, frequency=frequency, population=population_of(customers, customer_type))


@contextmanager
def scored_rows(con, as_of, opts: tuple, window: int | None = None, table: str | None = None,
                customers: str | None = "main.customers", frequency: str = "orders", customer_type: str | None = None,
                unit: str = "days"):
    """Every customer scored at ``as_of`` with ``opts`` (:func:`_score_options`) as rows of the
    customer database: (their name, compute's ``attrs`` of them), dropped after. On DuckDB the
    scoring statement writes them into a temporary table; on Spark (a session's engine)
    :func:`compute` scores them there and its frame is registered with the database."""
    name = sql.temp_name("rfm_scored")
    if table is None and warehouse.compute_on(con) is not con:
        bins, method, weights, breakpoints, monetary, segments = opts
        frame = compute(con, as_of, bins=bins, method=method, weights=weights, breakpoints=breakpoints,
                        monetary=monetary, segments=segments, window=window, customers=customers, frequency=frequency,
                        customer_type=customer_type, unit=unit)
        con.register(name, frame)
        try:
            yield name, frame.attrs
        finally:
            con.unregister(name)
        return
    as_of, parts, params = summary_query(con, as_of, window, table, customers, unit, frequency, customer_type, False)
    try:
        with _summary(con, parts, params) as (summary, defined):
            _scores(con, summary, *opts, into=name, defined=defined)
        attrs = _describe(pd.DataFrame(), *opts, window=window, frequency=frequency,
                          population=population_of(customers, customer_type)).attrs
        yield name, {"as_of": as_of.isoformat(), **attrs}
    finally:
        sql.run(con, "rfm.drop_temp_table", table=sql.ident(name))


def compute_and_store(con, as_of, bins: int = 5, method: str = "independent", weights=(1, 1, 1),
                      breakpoints: dict | None = None, monetary: str = "total", segments=None,
                      window: int | None = None, table: str | None = None, customers: str | None = "main.customers",
                      frequency: str = "orders", customer_type: str | None = None, unit: str = "days",
                      replace: bool = False) -> int:
    """:func:`compute` then :func:`dbmarketing.rfm.store`, all in the database: the scores go
    from the scoring statement straight into ``main.rfm_scores`` (the same rows, replacing the
    same stored rows, refusing other settings unless ``replace``) and nothing per customer
    goes through pandas -- for ten million customers, what a scheduled run does. Read what a
    table or chart needs with :func:`dbmarketing.rfm.stored`. Returns the rows stored. (With a
    Spark session the scores are computed on Spark and come back once, to be stored.)"""
    from .storage import store_rows

    opts = _score_options(bins, method, weights, breakpoints, monetary, segments)
    with scored_rows(con, as_of, opts, window=window, table=table, customers=customers, frequency=frequency,
                     customer_type=customer_type, unit=unit) as (scored, attrs):
        return store_rows(con, scored, attrs, replace=replace)


_AGGS = {"mean": "avg", "median": "median", "sum": "sum", "count": "count"}


def rf_matrix(scores, value: str = "monetary", agg: str = "mean") -> pd.DataFrame:
    """``value`` aggregated (``agg``: mean, median, sum, count) over each R x F score cell:
    rows F (highest first), columns R (1..bins), for a heat-map. ``scores``: a frame of scores
    or the stored scores (:func:`dbmarketing.rfm.stored`), summed by the database."""
    if agg not in _AGGS:
        raise ValueError(f"agg must be one of {', '.join(_AGGS)}, got {agg!r}")
    with _aggregated(scores, value) as (con, relation, params, _):
        cells = pd.DataFrame(sql.run(con, "rfm.rf_cells", params, scores=relation, agg=_AGGS[agg],
                                     value=sql.ident(value)).fetchall(), columns=["f_score", "r_score", value])
    bins = int(scores.attrs.get("bins") or max(cells.r_score.max(), cells.f_score.max()))
    table = cells.astype({value: "float64"}).pivot(index="f_score", columns="r_score", values=value)
    table = table.reindex(index=range(bins, 0, -1), columns=range(1, bins + 1))
    table.index.name, table.columns.name = "F score", "R score"
    return table
