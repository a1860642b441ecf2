"""RFM: recency, frequency and monetary value, scores and named segments.

The three figures database marketing reads first, for every customer at an as-of date:

- **recency** -- days from the last purchase to the as-of date (0 = bought that day);
- **frequency** -- how many purchases: orders (default) or purchase days;
- **monetary value** -- net spend (after returns), in total and per order.

Everything over transactions runs as SQL inside DuckDB (:func:`summarize`, :func:`compute`);
pandas receives one row per customer. Steps and verbs:

1. :func:`summarize` -- the customer summary at ``as_of``. By default it reads the purchases
   **as they were known at** ``as_of`` (:func:`dbmarketing.cleanse.sales_as_of`): sales dated up
   to ``as_of``, net of the returns made up to ``as_of`` only, so a summary of last quarter
   does not see this month's returns. ``table=`` names any other purchase table or view
   (``customer_id``, ``order_date``, ``net_amount``, optionally ``order_id``). Frequency counts
   distinct orders (``order_id``; the workbook's own ``main.sales`` is one row per order, so
   its rows are counted directly) or distinct purchase days. With ``window`` only the last
   ``window`` days count for frequency and monetary value (recency always looks at the
   whole history). Customers of the ``customers`` table who had signed up by ``as_of`` (or
   have no signup date) but never bought are **prospects**: a row with ``is_prospect`` true
   and empty values and scores, never zeros mixed into the scores.
   With ``repeat=True`` it adds the **repeat-purchase summary** the CLV models use
   (``clv_frequency``, ``clv_recency``, ``clv_T``, ``clv_monetary_value``), following the
   conventions of :func:`dbmarketing.clv.summary_from_events` exactly (purchases on one day
   are one purchase; the first purchase is not a repeat purchase; times are whole days,
   in days or weeks). :func:`repeat_summary` returns that summary with the lifetimes
   column names, optionally split into calibration and holdout periods.
2. :func:`score` -- scores 1..``bins`` (5 by default, any of 2-10) for R, F and M, computed
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
3. Segments -- named groups from a YAML map (``segments.yaml`` in this package, or a path of
   your own; see :func:`load_segments`) with an English and a Chinese label, a suggested
   action and optionally a ``role`` (best, loyal, at_risk, win_back) that reports use to
   find "the best customers" in any map. Rules are written for 5-point R and F (optionally
   M) scores; with other ``bins`` scores are first rescaled to 1-5 (see the YAML file).
   :func:`compute` does summary, scores and segments; :func:`empty_segments` says why a
   segment has no customers.
4. :func:`store` keeps the scores in ``main.rfm_scores`` (one row per customer and as-of
   date, registered in the catalog, with the settings they were computed with) so that
   :func:`migration` can compare two dates. Storing replaces the rows of the same date for
   the same customers or the same population (e.g. consumers); it refuses to replace rows
   computed with other settings unless ``replace=True``, and :func:`migration` refuses to
   compare dates scored with different settings.
5. Reading the result: :func:`segment_table`, :func:`rf_matrix`, :func:`pareto`,
   :func:`movers`, and :func:`export_segment` (CSV or Excel, masked by ``clearance``).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from importlib.resources import files
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from .. import cleanse, warehouse, messages, privacy

__all__ = [
    "Segment", "Segments", "Pareto", "load_segments", "summarize", "repeat_summary", "score", "compute",
    "segment_grid", "empty_segments", "store", "load", "stored_dates", "migration", "movers", "segment_table",
    "rf_matrix", "pareto", "export_segment", "UNCLASSIFIED", "ROLES",
]

UNCLASSIFIED = "Unclassified"
NOT_YET = "(not yet in the database)"
UNITS = {"days": 1, "d": 1, "weeks": 7, "w": 7}
METHODS = ("independent", "nested")
MEASURES = ("recency", "frequency", "monetary")
# Sums of money are rounded to this many decimals: a floating-point sum depends on the order
# DuckDB adds in, and equal spend must stay equal (ties share a score).
MONEY_DIGITS = 6
# Distinct purchase days are counted with a bitstring per customer when the date range is
# at most this many days (fast, ~range/8 bytes per customer); beyond it with count(DISTINCT).
BITSTRING_MAX_DAYS = 4000

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


# --------------------------------------------------------------------------------------
# segments
# --------------------------------------------------------------------------------------


# What a segment stands for, so a report can find "the best customers" in any map.
ROLES = {
    "best": "the best customers now (the default map's Champions)",
    "loyal": "good, regular customers (Loyal)",
    "at_risk": "good customers who are slipping away (At risk)",
    "win_back": "once among the best, gone quiet (Can't lose them)",
}


@dataclass(frozen=True)
class Segment:
    """A named segment: labels, suggested action, the rule on 5-point scores, an optional role."""

    name: str
    label_en: str
    label_zh: str
    action: str
    rule: dict[str, tuple[int, int]] = field(default_factory=dict)
    role: str | None = None


@dataclass(frozen=True)
class Segments:
    """The segment map: rules tried in order, plus the entry for prospects."""

    segments: tuple[Segment, ...]
    prospects: Segment
    source: str = "segments.yaml"

    @property
    def names(self) -> list[str]:
        """Segment names in map order, prospects last."""
        return [s.name for s in self.segments] + [self.prospects.name]

    @property
    def fingerprint(self) -> str:
        """A short digest of the names and rules: equal for maps that segment alike."""
        spec = [(s.name, sorted(s.rule.items())) for s in self.segments] + [self.prospects.name]
        return hashlib.sha1(repr(spec).encode("utf-8")).hexdigest()[:8]

    def frame(self) -> pd.DataFrame:
        """The map as a table: name, labels, rule, role and action."""
        rows = []
        for s in (*self.segments, self.prospects):
            rows.append({"segment": s.name, "label_en": s.label_en, "label_zh": s.label_zh,
                         "rule (5-point scores)": _rule_text(s.rule) or ("never bought" if s is self.prospects else "any"),
                         "role": s.role or "", "action": s.action})
        return pd.DataFrame(rows)

    def get(self, name: str) -> Segment:
        """The segment called ``name`` (its name or either label)."""
        for s in (*self.segments, self.prospects):
            if name in (s.name, s.label_en, s.label_zh):
                return s
        raise ValueError(f"unknown segment {name!r}; the map ({self.source}) has: {', '.join(self.names)}")

    def role(self, role: str) -> Segment | None:
        """The segment with this role (see :data:`ROLES`), or None when the map has none."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return next((s for s in self.segments if s.role == role), None)


def _rule_text(rule: dict[str, tuple[int, int]]) -> str:
    return ", ".join(f"{k.upper()} {lo}-{hi}" if lo != hi else f"{k.upper()} {lo}" for k, (lo, hi) in rule.items())


def load_segments(path: str | Path | Segments | None = None) -> Segments:
    """Read a segment map (YAML). ``None`` or ``""`` reads the default map bundled with the package.

    The file holds ``segments:`` (a list of name, label_en, label_zh, action, rule, and
    optionally role) and ``prospects:`` (name, labels, action). A rule maps ``r``, ``f`` and
    optionally ``m`` to an inclusive range ``[low, high]`` of 5-point scores. A role (one of
    :data:`ROLES`, each used at most once) tells reports which segment holds the best
    customers, which the ones at risk. Errors name the file and the segment.
    """
    if isinstance(path, Segments):
        return path
    if path is None or (isinstance(path, str) and not path.strip()):
        text = (files("dbmarketing.rfm") / "segments.yaml").read_text(encoding="utf-8")
        spec = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # safe_load, in C when available
        where = "segments.yaml (default)"
    else:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"segment map {path} does not exist")
        spec, where = messages.read_yaml(path, ValueError, "segment map"), str(path)  # errors in one line
    if not isinstance(spec, dict) or not isinstance(spec.get("segments"), list) or not spec["segments"]:
        raise ValueError(f"{where}: needs a list 'segments:' of segments")

    def entry(item, i, with_rule: bool) -> Segment:
        label = f"{where}: segment {i + 1}" if with_rule else f"{where}: prospects"
        if not isinstance(item, dict):
            raise ValueError(f"{label}: must be a mapping with name, label_en, label_zh, action")
        missing = [k for k in ("name", "label_en", "label_zh", "action") if not item.get(k)]
        if missing:
            raise ValueError(f"{label} ({item.get('name', '?')}): missing {', '.join(missing)}")
        rule = {}
        if with_rule:
            raw = item.get("rule")
            if not isinstance(raw, dict) or not raw:
                raise ValueError(f"{label} ({item['name']}): needs a rule such as {{r: [4, 5], f: [4, 5]}}")
            for key, value in raw.items():
                if key not in ("r", "f", "m"):
                    raise ValueError(f"{label} ({item['name']}): rule key {key!r} is not r, f or m")
                if isinstance(value, int):
                    value = [value, value]
                if (not isinstance(value, (list, tuple)) or len(value) != 2
                        or not all(isinstance(v, int) and 1 <= v <= 5 for v in value) or value[0] > value[1]):
                    raise ValueError(f"{label} ({item['name']}): rule {key}: needs [low, high] within 1..5, got {value!r}")
                rule[key] = (int(value[0]), int(value[1]))
        role = item.get("role")
        if role is not None and (not with_rule or role not in ROLES):
            raise ValueError(f"{label} ({item['name']}): role {role!r} is not one of {', '.join(ROLES)}"
                             + ("" if with_rule else " (prospects take no role)"))
        return Segment(str(item["name"]), str(item["label_en"]), str(item["label_zh"]),
                       " ".join(str(item["action"]).split()), rule, role)

    segments = tuple(entry(item, i, True) for i, item in enumerate(spec["segments"]))
    prospects = entry(spec.get("prospects") or {"name": "Prospects", "label_en": "Prospects (never bought)",
                                                 "label_zh": "潜在客户（未购买）",
                                                 "action": "Make a first-purchase offer."}, 0, False)
    names = [s.name for s in segments] + [prospects.name]
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise ValueError(f"{where}: segment names must be unique, repeated: {', '.join(doubles)}")
    roles = [s.role for s in segments if s.role]
    doubles = sorted({r for r in roles if roles.count(r) > 1})
    if doubles:
        raise ValueError(f"{where}: each role is given to one segment at most, repeated: {', '.join(doubles)}")
    return Segments(segments, prospects, where)


def _scaled(score_sql: str, bins: int) -> str:
    """SQL for a 1..bins score put on the 1-5 scale: round(1 + 4 (s - 1) / (bins - 1)), halves up."""
    if bins == 5:
        return score_sql
    d = bins - 1
    return f"(({3 * d} + 8 * ({score_sql} - 1)) // {2 * d})"


def _segment_case(segments: Segments, bins: int, prefix: str = "") -> str:
    """SQL CASE naming the segment of each row from its r_score, f_score, m_score."""
    parts = [f"WHEN {prefix}is_prospect THEN {_lit(segments.prospects.name)}"]
    for s in segments.segments:
        conds = [f"{_scaled(prefix + k + '_score', bins)} BETWEEN {lo} AND {hi}" for k, (lo, hi) in s.rule.items()]
        parts.append(f"WHEN {' AND '.join(conds)} THEN {_lit(s.name)}")
    return "CASE " + " ".join(parts) + f" ELSE {_lit(UNCLASSIFIED)} END"


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _date_lit(d: date) -> str:
    return f"DATE '{d.isoformat()}'"


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"{what}: expected a table or view name like main.sales, got {name!r}")
    return name


def _columns(con, relation: str) -> dict[str, str]:
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as error:
        raise ValueError(f"{relation}: cannot be read ({str(error).splitlines()[0]})") from None
    return {r[0]: r[1] for r in rows}


def _as_date(value, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"{what} must be a date like 2026-10-31, got {value!r}") from None


def _resolve_as_of(con, as_of, table: str | None) -> date:
    return warehouse.resolve_as_of(con, as_of, purchases=None if table is None else _check_name(table, "table"))


def _purchases(con, as_of: date, table: str | None) -> str:
    """The purchase relation to summarize: ``table`` as given, or (None) the purchases as they
    were known at ``as_of`` (:func:`dbmarketing.cleanse.sales_as_of`)."""
    if table is not None:
        return _check_name(table, "table")
    try:
        return cleanse.sales_as_of(con, as_of)
    except duckdb.CatalogException as error:
        raise ValueError(f"the purchases as known at {as_of} need main.returns and main.sales_returned "
                         f"({str(error).splitlines()[0]}): this database was cleaned by an older version; "
                         f"run notebook 02 (data cleaning) again") from None


def _one_row_per_order(relation: str) -> bool:
    """Relations the workbook writes one row per order (order_id is their key): their rows
    are counted as orders directly, which saves a count(DISTINCT) over every transaction."""
    return relation in ("main.sales", "main.sales_returned") or relation.startswith("_sales_as_of_")


def _unit_days(unit: str) -> int:
    key = str(unit).strip().lower()
    if key not in UNITS:
        raise ValueError(f"unit must be 'days' or 'weeks', got {unit!r}")
    return UNITS[key]


def _fetch(con, sql: str) -> pd.DataFrame:
    """Run a query and return its result as a DataFrame, through Arrow (fast for a million rows).

    Dates become datetime64; integer columns with empty values (prospects have no scores)
    become nullable ``Int64``, the others stay plain integers."""
    table = con.sql(sql).to_arrow_table()
    frame = table.to_pandas(split_blocks=True, date_as_object=False)
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_integer(column.type) and column.null_count:
            frame[name] = frame[name].astype("Int64")
    return frame


# --------------------------------------------------------------------------------------
# the summary (SQL)
# --------------------------------------------------------------------------------------


def _summary_sql(con, as_of: date, window: int | None, table: str, customers: str | None, unit: int,
                 frequency: str, repeat: bool, holdout_end: date | None = None,
                 customer_type: str | None = None, holdout_table: str | None = None) -> str:
    """The SQL of the customer summary (see :func:`summarize`). One implementation for the
    RFM values, the repeat-purchase summary and its holdout columns. ``table`` holds the
    purchases up to ``as_of``; ``holdout_table`` (default: the same) those after it, up to
    ``holdout_end``."""
    holdout_table = holdout_table or table
    relations = dict.fromkeys([table, holdout_table] if holdout_end is not None else [table])
    cols = {}
    for relation in relations:
        _check_name(relation, "table")
        cols[relation] = _columns(con, relation)
        missing = [c for c in ("customer_id", "order_date", "net_amount") if c not in cols[relation]]
        if missing:
            raise ValueError(f"{relation}: no column {', '.join(missing)} (a purchase table needs customer_id, "
                             f"order_date and net_amount, one row per order or an order_id)")
    if frequency not in ("orders", "days"):
        raise ValueError(f"frequency must be 'orders' or 'days', got {frequency!r}")
    if window is not None and (int(window) != window or window < 1):
        raise ValueError(f"window must be a whole number of days >= 1 (or None for all history), got {window!r}")
    if holdout_end is not None and holdout_end < as_of:
        raise ValueError(f"the holdout ends ({holdout_end}) before the calibration period ({as_of})")
    # orders are distinct order_ids, unless the relation is known to hold one row per order
    by_id = all("order_id" in cols[r] and not _one_row_per_order(r) for r in relations)
    end = holdout_end or as_of
    E = _date_lit(as_of)

    def rows(relation: str, upto: date, after: date | None = None) -> str:
        day = "order_date" if cols[relation]["order_date"] == "DATE" else "CAST(order_date AS DATE)"
        later = f" AND {day} > {_date_lit(after)}" if after else ""
        return (f"SELECT customer_id, {day} AS d, CAST(net_amount AS DOUBLE) AS v{', order_id' if by_id else ''} "
                f"FROM {relation} WHERE customer_id IS NOT NULL AND {day} <= {_date_lit(upto)}{later}")

    if holdout_table == table:
        tx = rows(table, end)
    else:  # the calibration period as known at its end, the holdout as known at the holdout's end
        tx = f"{rows(table, as_of)}\n    UNION ALL {rows(holdout_table, end, after=as_of)}"
    period = f"d <= {E}" if holdout_end is not None else None
    in_window = f"d > {_date_lit(as_of - timedelta(days=int(window)))}" if window else None

    def filt(*conds):
        conds = [c for c in conds if c]
        return f" FILTER (WHERE {' AND '.join(conds)})" if conds else ""

    def orders(*conds):
        if not by_id:
            return f"count(*){filt(*conds)}"
        return f"(count(DISTINCT order_id){filt(*conds)} + count(*){filt('order_id IS NULL', *conds)})"

    need_days = repeat or frequency == "days"
    if need_days:
        lo, hi = con.execute(f"SELECT min(d), max(d) FROM ({tx})").fetchall()[0]
        span = (hi - lo).days if lo is not None else 0
        if span <= BITSTRING_MAX_DAYS and lo is not None:
            def distinct_days(*conds):
                return (f"coalesce(bit_count(bitstring_agg(CAST(d - {_date_lit(lo)} AS INTEGER), 0, {span})"
                        f"{filt(*conds)}), 0)")
        else:
            def distinct_days(*conds):
                return f"count(DISTINCT d){filt(*conds)}"

    aggs = [f"min(d){filt(period)} AS first_purchase", f"max(d){filt(period)} AS last_purchase",
            f"{orders(period, in_window)} AS orders",
            f"coalesce(round(sum(v){filt(period, in_window)}, {MONEY_DIGITS}), 0) AS monetary"]
    if frequency == "days":
        aggs.append(f"{distinct_days(period, in_window)} AS days_w")
    if repeat:
        aggs += [f"count(*){filt(period)} AS n_rows", f"sum(v){filt(period)} AS total",
                 f"{distinct_days(period)} AS n_days", f"arg_min(v, d){filt(period)} AS first_v"]
    if holdout_end is not None:
        aggs += [f"{distinct_days(f'd > {E}')} AS days_h", f"coalesce(sum(v) FILTER (WHERE d > {E}), 0) AS total_h"]
    having = f"HAVING count(*) FILTER (WHERE d <= {E}) > 0" if holdout_end is not None else ""
    u = float(unit)
    ctes = [
        f"""tx AS NOT MATERIALIZED (
    {tx})""",
        f"""agg AS MATERIALIZED (
    SELECT customer_id, {', '.join(aggs)}
    FROM tx GROUP BY customer_id {having})""",
    ]
    buyer_cols = [
        "a.customer_id", "a.first_purchase", "a.last_purchase",
        f"CAST({E} - a.last_purchase AS INTEGER) AS recency",
        f"CAST({'a.days_w' if frequency == 'days' else 'a.orders'} AS BIGINT) AS frequency",
        "a.monetary", f"CASE WHEN a.orders > 0 THEN round(a.monetary / a.orders, {MONEY_DIGITS}) END AS avg_order_value",
    ]
    fix_join = ""
    if repeat:
        # The value of the first purchase day: arg_min gives it when the first day holds one
        # purchase; customers with several purchases on some day get it summed exactly.
        ctes.append(f"""fix AS (
    SELECT t.customer_id, sum(t.v) AS first_v
    FROM tx t JOIN (SELECT customer_id, first_purchase FROM agg WHERE n_rows > n_days) x
      ON t.customer_id = x.customer_id AND t.d = x.first_purchase
    GROUP BY t.customer_id)""")
        fix_join = "LEFT JOIN fix f ON a.customer_id = f.customer_id"
        buyer_cols += [
            "CAST(a.n_days - 1 AS BIGINT) AS clv_frequency",
            f"CAST(a.last_purchase - a.first_purchase AS DOUBLE) / {u} AS clv_recency",
            f"CAST({E} - a.first_purchase AS DOUBLE) / {u} AS clv_T",
            "CASE WHEN a.n_days > 1 THEN (a.total - coalesce(f.first_v, a.first_v)) / (a.n_days - 1) ELSE 0.0 END"
            " AS clv_monetary_value",
        ]
        if holdout_end is not None:
            buyer_cols += [
                "CAST(a.days_h AS BIGINT) AS clv_frequency_holdout",
                "CASE WHEN a.days_h > 0 THEN a.total_h / a.days_h ELSE 0.0 END AS clv_monetary_value_holdout",
                f"CAST({_date_lit(holdout_end)} - {E} AS DOUBLE) / {u} AS clv_duration_holdout",
            ]
    ctes.append(f"buyers AS (SELECT {', '.join(buyer_cols)} FROM agg a {fix_join})")
    value_cols = [c.split(" AS ")[-1].split(".")[-1] for c in buyer_cols[1:]]

    if customers is None:
        if customer_type is not None:
            raise ValueError("customer_type needs a customers table (the customer master) to know the types")
        select = (f"SELECT b.customer_id, {E} AS as_of, CAST(NULL AS VARCHAR) AS customer_type, FALSE AS is_prospect, "
                  f"{', '.join('b.' + c for c in value_cols)} FROM buyers b")
    else:
        _check_name(customers, "customers")
        ccols = _columns(con, customers)
        if "customer_id" not in ccols:
            raise ValueError(f"{customers}: no column customer_id")
        ctype = "customer_type" if "customer_type" in ccols else "CAST(NULL AS VARCHAR)"
        signup = "signup_date" if "signup_date" in ccols else "CAST(NULL AS DATE)"
        ctes.append(f"people AS (SELECT customer_id, {ctype} AS customer_type, CAST({signup} AS DATE) AS signup_date "
                    f"FROM {customers})")
        where = [f"(b.customer_id IS NOT NULL OR p.signup_date IS NULL OR p.signup_date <= {E})"]
        if customer_type is not None:
            where.append(f"p.customer_type = {_lit(customer_type)}")
        select = (f"SELECT coalesce(b.customer_id, p.customer_id) AS customer_id, {E} AS as_of, p.customer_type, "
                  f"b.customer_id IS NULL AS is_prospect, {', '.join('b.' + c for c in value_cols)} "
                  f"FROM buyers b FULL JOIN people p ON b.customer_id = p.customer_id WHERE {' AND '.join(where)}")
    return "WITH " + ",\n".join(ctes) + "\n" + select


def _population(customers: str | None, customer_type: str | None) -> str:
    """Who is scored together, in words (stored with the scores)."""
    return customer_type if customer_type else ("all customers" if customers else "all buyers")


def summarize(con, as_of, window: int | None = None, table: str | None = None,
              customers: str | None = "main.customers", unit: str = "days", frequency: str = "orders",
              customer_type: str | None = None, repeat: bool = False, sort: bool = False) -> pd.DataFrame:
    """Recency, frequency and monetary value of every customer at ``as_of``, computed in DuckDB.

    Parameters
    ----------
    con : DuckDB connection to the customer database.
    as_of : date, ISO text or "latest" (the newest purchase not after today). Only
        purchases dated on or before it count.
    window : only the last ``window`` days (``as_of - window + 1 .. as_of``) count for
        frequency and monetary value; None counts all history. Recency is always days since
        the last purchase ever.
    table : None (default): the purchases as they were known at ``as_of``
        (:func:`dbmarketing.cleanse.sales_as_of`: ``main.sales`` with only the returns made by
        then netted). Or a table or view with ``customer_id``, ``order_date`` and
        ``net_amount`` (and ``order_id`` if it may hold several rows per order), used as it is.
    customers : the customer master, one row per customer (``customer_id``, optionally
        ``customer_type`` and ``signup_date``), for prospects and customer types; None for a
        purchase log alone.
    unit : "days" or "weeks", the unit of the repeat-purchase columns.
    frequency : "orders" (distinct ``order_id``; rows where the table has none, or is
        ``main.sales``, one row per order) or "days" (distinct purchase days).
    customer_type : keep only customers of this type (e.g. "consumer").
    repeat : add the repeat-purchase summary for CLV models: ``clv_frequency`` (repeat
        purchase days), ``clv_recency`` (first to last purchase), ``clv_T`` (first purchase
        to ``as_of``), ``clv_monetary_value`` (mean value of the repeat purchase days, 0 if
        none), in ``unit``; the conventions of :func:`dbmarketing.clv.summary_from_events`.
    sort : sort the rows by customer_id (otherwise they come in no particular order, which
        saves a sort of every customer).

    Returns
    -------
    DataFrame, one row per customer: ``customer_id``, ``as_of``, ``customer_type``,
    ``is_prospect``, ``first_purchase``, ``last_purchase``, ``recency`` (days), ``frequency``,
    ``monetary`` (net spend in the window), ``avg_order_value`` (per order in the window),
    and the ``clv_*`` columns with ``repeat``. Prospects have empty values.
    """
    as_of = _resolve_as_of(con, as_of, table)
    relation = _purchases(con, as_of, table)
    sql = _summary_sql(con, as_of, window, relation, customers, _unit_days(unit), frequency, repeat,
                       customer_type=customer_type)
    out = _fetch(con, sql + ("\nORDER BY customer_id" if sort else ""))
    out.attrs.update(as_of=as_of.isoformat(), window=window, frequency=frequency,
                     population=_population(customers, customer_type))
    return out


def repeat_summary(con, observation_end, calibration_end=None, table: str | None = None,
                   unit: str = "weeks") -> pd.DataFrame:
    """The repeat-purchase summary of every customer, for the CLV models (BG/NBD, Gamma-Gamma).

    The same SQL as :func:`summarize` (``repeat=True``), with the names of the lifetimes package
    and :func:`dbmarketing.clv.summary_from_events`, whose conventions it follows exactly:
    ``frequency`` (repeat purchase days), ``recency`` (first to last purchase), ``T`` (first
    purchase to the end of the period), ``monetary_value`` (mean value of the repeat purchase
    days, 0 without). With ``calibration_end`` the summary describes purchases up to it, only
    customers who bought by then are kept, and ``frequency_holdout``,
    ``monetary_value_holdout`` and ``duration_holdout`` describe the days after it up to
    ``observation_end``. Indexed by ``customer_id``.

    With ``table=None`` (default) each period reads the purchases as they were known at its
    end (:func:`dbmarketing.cleanse.sales_as_of`): the calibration figures see only the returns
    made by ``calibration_end`` -- what a model fitted on that day would have seen -- and the
    holdout purchases are net of the returns made by ``observation_end``. An explicit
    ``table`` is used as it is for both periods.
    """
    obs = _as_date(observation_end, "observation_end")
    cal = obs if calibration_end is None else _as_date(calibration_end, "calibration_end")
    if cal > obs:
        raise ValueError(f"the calibration period ends ({cal}) after the observation end ({obs})")
    relation = _purchases(con, cal, table)
    holdout = _purchases(con, obs, table) if calibration_end is not None else None
    sql = _summary_sql(con, cal, None, relation, None, _unit_days(unit), "orders", True,
                       holdout_end=obs if calibration_end is not None else None, holdout_table=holdout)
    out = _fetch(con, sql + "\nORDER BY customer_id")
    cols = {c: c[4:] for c in out.columns if c.startswith("clv_")}
    out = out.set_index("customer_id")[list(cols)].rename(columns=cols)
    out["frequency"] = out["frequency"].astype("int64")
    if "frequency_holdout" in out:
        out["frequency_holdout"] = out["frequency_holdout"].astype("int64")
    return out


# --------------------------------------------------------------------------------------
# scores (SQL)
# --------------------------------------------------------------------------------------


def _check_bins(bins) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= 10:
        raise ValueError(f"bins must be a whole number from 2 to 10, got {bins!r}")
    return int(bins)


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


_GRIDS: dict[tuple[int, str], tuple[list, bool]] = {}  # (bins, map fingerprint) -> _grid_rows


def _grid_rows(bins: int, segments: Segments) -> tuple[list[tuple[int, int, int, str]], bool]:
    """The segment of every score combination, by the map's CASE expression (:func:`_segment_case`)
    evaluated once on the grid of possible scores: (r, f, m, segment) sorted, M only 1 unless a
    rule uses M; and whether one does."""
    key = (bins, segments.fingerprint)
    if key not in _GRIDS:
        _GRIDS[key] = _grid(bins, segments)
    return _GRIDS[key]


def _grid(bins: int, segments: Segments) -> tuple[list[tuple[int, int, int, str]], bool]:
    per_cell = any("m" in s.rule for s in segments.segments)
    con = duckdb.connect()
    try:
        grid = f"""SELECT r.r AS r_score, f.f AS f_score, m.m AS m_score, FALSE AS is_prospect
                   FROM range(1, {bins + 1}) r(r), range(1, {bins + 1}) f(f), range(1, {bins + 1 if per_cell else 2}) m(m)"""
        rows = con.execute(f"SELECT r_score, f_score, m_score, {_segment_case(segments, bins)} FROM ({grid}) "
                           f"ORDER BY r_score, f_score, m_score").fetchall()
    finally:
        con.close()
    return rows, per_cell


def _lookup_lists(bins: int, segments: Segments) -> tuple[str, str, bool]:
    """SQL list literals of every RFM cell's label ("543") and every score combination's segment
    (:func:`_grid_rows`); scoring looks the segment up by position, which is much faster than a
    CASE per customer. Returns (cells, segments, per_cell): segments are listed per R-F pair,
    or per R-F-M cell when a rule uses M."""
    rows, per_cell = _grid_rows(bins, segments)
    sep = "" if bins < 10 else "-"
    labels = [f"{r}{sep}{f}{sep}{m}" for r in range(1, bins + 1) for f in range(1, bins + 1) for m in range(1, bins + 1)]
    return ("[" + ", ".join(map(_lit, labels)) + "]", "[" + ", ".join(_lit(r[3]) for r in rows) + "]", per_cell)


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
    segment_enum = "ENUM(" + ", ".join(map(_lit, dict.fromkeys([*segments.names, UNCLASSIFIED]))) + ")"
    cell_enum = f"ENUM({cells[1:-1]})"
    select = f"""SELECT * EXCLUDE (r_score, f_score, m_score), r_score, f_score, m_score,
        CASE WHEN NOT is_prospect THEN CAST({cells} AS {cell_enum}[])[{cell_index}] END AS rfm_cell,
        ({wr!r} * r_score + {wf!r} * f_score + {wm!r} * m_score) / {wr + wf + wm!r} AS rfm_score,
        CAST(CASE WHEN is_prospect THEN {_lit(segments.prospects.name)} ELSE {names}[{seg_index}] END AS {segment_enum})
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
        out = _fetch(con, _score_sql(con, "_summary", *opts) + " ORDER BY _row")
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
    as_of = _resolve_as_of(con, as_of, table)
    relation = _purchases(con, as_of, table)
    opts = _score_options(bins, method, weights, breakpoints, monetary, segments)
    summary = _summary_sql(con, as_of, window, relation, customers, _unit_days(unit), frequency, repeat,
                           customer_type=customer_type)
    temp = "_rfm_summary"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS {summary}")
    try:
        out = _fetch(con, _score_sql(con, temp, *opts) + ("\nORDER BY customer_id" if sort else ""))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    out.attrs.update(as_of=as_of.isoformat())
    return _describe(out, *opts, window=window, frequency=frequency, population=_population(customers, customer_type))


def segment_grid(bins: int = 5, segments=None, m_score: int | None = None) -> pd.DataFrame:
    """The segment of every R x F score pair (rows F from ``bins`` down to 1, columns R 1..bins),
    through the same SQL as :func:`score`. ``m_score`` fixes M for maps whose rules use it."""
    bins = _check_bins(bins)
    seg = load_segments(segments)
    m = bins if m_score is None else int(m_score)
    con = duckdb.connect()
    try:
        rows = con.execute(f"""
            WITH g AS (SELECT r.r AS r_score, f.f AS f_score, {m} AS m_score, FALSE AS is_prospect
                       FROM range(1, {bins + 1}) r(r), range(1, {bins + 1}) f(f))
            SELECT r_score, f_score, {_segment_case(seg, bins)} AS segment FROM g""").fetchall()
    finally:
        con.close()
    grid = pd.DataFrame(rows, columns=["R", "F", "segment"]).pivot(index="F", columns="R", values="segment")
    return grid.sort_index(ascending=False)


def _on_5(score: int, bins: int) -> int:
    """A 1..bins score on the 1-5 scale of the segment rules (as :func:`_scaled` in SQL)."""
    d = bins - 1
    return score if bins == 5 else (3 * d + 8 * (score - 1)) // (2 * d)


def empty_segments(scores: pd.DataFrame, segments=None) -> pd.DataFrame:
    """The segments of the map that hold no customer in ``scores``, each with the reason.

    Reasons, checked in this order: at this number of score levels no score combination fits
    the rule; segments earlier in the map take every combination it covers; no customer has
    a score the rule needs (e.g. F 3: too few distinct values, or a large tie at the top);
    or no customer has one of its combinations. Columns: segment, label_en, reason."""
    seg = load_segments(segments)
    buyers = scores[~scores["is_prospect"].astype(bool)] if "is_prospect" in scores else scores
    bins = scores.attrs.get("bins") or (int(buyers[["r_score", "f_score", "m_score"]].max().max()) if len(buyers) else 5)
    bins = _check_bins(int(bins))
    counts = scores["segment"].astype(str).value_counts()
    rows, per_cell = _grid_rows(bins, seg)
    have = set(map(tuple, buyers[["r_score", "f_score", "m_score"]].dropna().astype("int64").to_numpy().tolist()))
    if not per_cell:
        have = {(r, f, 1) for r, f, _ in have}
    out = []
    for s in seg.segments:
        if counts.get(s.name, 0):
            continue
        cells = [(r, f, m) for r, f, m, name in rows if name == s.name]
        levels = {k: [v for v in range(1, bins + 1) if lo <= _on_5(v, bins) <= hi] for k, (lo, hi) in s.rule.items()}
        if not cells:
            if any(not v for v in levels.values()):
                reason = f"at {bins} score levels no score fits its rule ({_rule_text(s.rule)})"
            else:
                reason = f"segments earlier in the map take every score combination of its rule ({_rule_text(s.rule)})"
        else:
            scored = {k: set(buyers[f"{k}_score"].dropna().astype("int64")) for k in levels}
            missing = [k for k, v in levels.items() if not scored[k] & set(v)]
            if missing:
                reason = "; ".join(
                    f"no customer has {k.upper()} score {', '.join(map(str, levels[k]))} "
                    f"(too few distinct {dict(zip('rfm', MEASURES))[k]} values, or a large tie at the top)"
                    for k in missing)
            else:
                shown = ", ".join(f"R{r} F{f}" + (f" M{m}" if per_cell else "") for r, f, m in cells[:6])
                reason = f"no customer has one of its score combinations ({shown}{', ...' if len(cells) > 6 else ''})"
        out.append({"segment": s.name, "label_en": s.label_en, "reason": reason})
    if not counts.get(seg.prospects.name, 0):
        out.append({"segment": seg.prospects.name, "label_en": seg.prospects.label_en,
                    "reason": "every customer in scope has bought"})
    return pd.DataFrame(out, columns=["segment", "label_en", "reason"])


# --------------------------------------------------------------------------------------
# stored scores
# --------------------------------------------------------------------------------------


def _table_exists(con, schema: str, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
                            [schema, name]).fetchall()[0][0])


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
    attrs = scores.attrs
    constants = {"bins": attrs.get("bins"), "method": attrs.get("method"), "window_days": attrs.get("window"),
                 "weights": attrs.get("weights"), "population": attrs.get("population"),
                 "settings": attrs.get("settings")}
    for name, value in constants.items():
        if name not in frame:
            frame[name] = value
    frame["scored_at"] = pd.Timestamp(datetime.now().replace(microsecond=0))
    names = [c.name for c in SCORE_COLUMNS]
    for c in names:
        if c not in frame:
            frame[c] = None
    body = ", ".join(f'"{c.name}" {c.type}' for c in SCORE_COLUMNS)
    select = ", ".join(f'CAST("{c.name}" AS {c.type})' for c in SCORE_COLUMNS)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS main.{SCORES_TABLE} ({body})")
        warehouse.add_missing_columns(con, "main", SCORES_TABLE, SCORE_COLUMNS)  # a table stored by an earlier version
        con.register("_rfm_store", frame[names])
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _rfm_new AS
            SELECT DISTINCT CAST(as_of AS DATE) AS as_of, population, settings FROM _rfm_store""")
        replaced = f"""FROM main.{SCORES_TABLE} s WHERE EXISTS (SELECT 1 FROM _rfm_new n WHERE n.as_of = s.as_of
                AND (n.population IS NOT DISTINCT FROM s.population OR s.settings IS NULL
                     OR s.customer_id IN (SELECT customer_id FROM _rfm_store)))"""
        if not replace:
            clash = con.execute(f"""SELECT s.as_of, coalesce(s.settings, '(settings not recorded)'), count(*)
                {replaced} AND NOT EXISTS (SELECT 1 FROM _rfm_new n WHERE n.as_of = s.as_of
                                           AND n.settings IS NOT DISTINCT FROM s.settings)
                GROUP BY ALL ORDER BY 1, 2""").fetchall()
            if clash:
                new = sorted({str(x) for x in frame["settings"].dropna().unique()}) or ["(settings not recorded)"]
                old = "; ".join(f"{n:,} rows of {d} computed with: {t}" for d, t, n in clash)
                raise ValueError(f"main.{SCORES_TABLE} already holds {old}. These scores were computed with: "
                                 f"{'; '.join(new)}. Pass replace=True to replace them, or store other settings "
                                 f"under another as-of date")
        con.execute(f"DELETE {replaced}")
        columns = ", ".join(f'"{c}"' for c in names)  # by name: an older table has the newer columns last
        con.execute(f"INSERT INTO main.{SCORES_TABLE} ({columns}) SELECT {select} FROM _rfm_store")
        warehouse.register_table(con, "main", SCORES_TABLE, SCORE_COLUMNS,
                          "RFM values, scores and segment per customer and as-of date", layer="marts")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.unregister("_rfm_store")
        con.execute("DROP TABLE IF EXISTS _rfm_new")
    return len(frame)


def stored_dates(con) -> list[date]:
    """As-of dates kept in ``main.rfm_scores``, oldest first."""
    if not _table_exists(con, "main", SCORES_TABLE):
        return []
    return [r[0] for r in con.execute(f"SELECT DISTINCT as_of FROM main.{SCORES_TABLE} ORDER BY 1").fetchall()]


def _stored_as_of(con, as_of) -> date:
    dates = stored_dates(con)
    if not dates:
        raise ValueError("main.rfm_scores is empty: run rfm.compute and rfm.store first")
    if as_of is None or (isinstance(as_of, str) and as_of.strip().lower() == "latest"):
        return dates[-1]
    d = _as_date(as_of, "as_of")
    if d not in dates:
        raise ValueError(f"no RFM scores stored for {d}; stored dates: {', '.join(map(str, dates))}")
    return d


def _type_filter(customer_type: str | None, alias: str = "") -> str:
    return f"AND {alias}customer_type = {_lit(customer_type)}" if customer_type else ""


def load(con, as_of=None, customer_type: str | None = None) -> pd.DataFrame:
    """The stored scores of one as-of date (None: the latest), sorted by customer; only
    customers of ``customer_type`` if given."""
    d = _stored_as_of(con, as_of)
    out = _fetch(con, f"SELECT * FROM main.{SCORES_TABLE} WHERE as_of = {_date_lit(d)} {_type_filter(customer_type)} "
                      f"ORDER BY customer_id")
    first = out.iloc[0] if len(out) else None
    if first is not None:
        out.attrs.update(as_of=d.isoformat(), bins=int(first["bins"]) if pd.notna(first["bins"]) else None,
                         method=first["method"], weights=first["weights"],
                         window=int(first["window_days"]) if pd.notna(first["window_days"]) else None,
                         population=first["population"], settings=first["settings"])
    return out


def _check_same_settings(con, a: date, b: date, customer_type: str | None) -> None:
    """Refuse to compare two dates whose scores were computed with different settings."""
    rows = con.execute(f"""SELECT as_of, coalesce(settings, '(settings not recorded)'), count(*)
        FROM main.{SCORES_TABLE} WHERE as_of IN ({_date_lit(a)}, {_date_lit(b)}) {_type_filter(customer_type)}
        GROUP BY ALL ORDER BY 1, 2""").fetchall()
    if len({r[1] for r in rows}) > 1:
        found = "; ".join(f"{d}: {n:,} customers scored with {t}" for d, t, n in rows)
        raise ValueError(f"the scores of {a} and {b} were computed with different settings ({found}): their segments "
                         f"are not comparable. Score both dates with the same settings (rfm.compute + rfm.store), "
                         f"narrow the comparison with customer_type=, or pass allow_different_settings=True")


def _ordered(names, segments: Segments) -> list[str]:
    order = {n: i for i, n in enumerate([*segments.names, UNCLASSIFIED, NOT_YET])}
    return sorted(set(names), key=lambda n: (order.get(n, len(order)), str(n)))


def migration(con, from_as_of, to_as_of, segments=None, customer_type: str | None = None,
              allow_different_settings: bool = False) -> pd.DataFrame:
    """How many customers moved from each segment at ``from_as_of`` (rows) to each segment at
    ``to_as_of`` (columns), from ``main.rfm_scores``. Customers who were not yet in the database
    at the first date are the row "(not yet in the database)". Rows and columns follow the
    segment map's order; ``attrs`` hold both dates. Both dates must have been scored with the
    same settings (see :func:`store`) unless ``allow_different_settings``."""
    seg = load_segments(segments)
    a, b = _stored_as_of(con, from_as_of), _stored_as_of(con, to_as_of)
    if not allow_different_settings:
        _check_same_settings(con, a, b, customer_type)
    type_filter = _type_filter(customer_type)
    rows = con.execute(f"""
        WITH a AS (SELECT customer_id, segment FROM main.{SCORES_TABLE} WHERE as_of = ? {type_filter}),
             b AS (SELECT customer_id, segment FROM main.{SCORES_TABLE} WHERE as_of = ? {type_filter})
        SELECT coalesce(a.segment, ?) AS "from", coalesce(b.segment, ?) AS "to", count(*) AS customers
        FROM a FULL JOIN b USING (customer_id) GROUP BY ALL""", [a, b, NOT_YET, NOT_YET]).fetchall()
    frame = pd.DataFrame(rows, columns=["from", "to", "customers"])
    table = frame.pivot_table(index="from", columns="to", values="customers", aggfunc="sum", fill_value=0)
    table = table.reindex(index=_ordered(table.index, seg), columns=_ordered(table.columns, seg), fill_value=0)
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
    a, b = _stored_as_of(con, from_as_of), _stored_as_of(con, to_as_of)

    def names(which) -> str:
        which = [which] if isinstance(which, str) else list(which)
        return ", ".join(_lit(seg.get(n).name) for n in which)

    return _fetch(con, f"""
        SELECT b.customer_id, a.segment AS segment_before, b.segment AS segment_now,
               a.rfm_cell AS cell_before, b.rfm_cell AS cell_now, a.recency AS recency_before, b.recency AS recency_now,
               b.frequency, b.monetary, b.last_purchase
        FROM main.{SCORES_TABLE} a JOIN main.{SCORES_TABLE} b USING (customer_id)
        WHERE a.as_of = {_date_lit(a)} AND b.as_of = {_date_lit(b)} {_type_filter(customer_type, 'b.')}
          AND a.segment IN ({names(from_segment)}) AND b.segment IN ({names(to_segment)})
        ORDER BY b.monetary DESC, b.customer_id""")


# --------------------------------------------------------------------------------------
# reading the scores
# --------------------------------------------------------------------------------------


def segment_table(scores: pd.DataFrame, segments=None) -> pd.DataFrame:
    """One row per segment (map order, prospects last): customers, share of customers, revenue
    and share of revenue, average recency (days), frequency and monetary value, labels and
    the suggested action. Segments without customers are left out."""
    seg = load_segments(segments)
    buyers = scores[~scores["is_prospect"].astype(bool)] if "is_prospect" in scores else scores
    total_revenue = float(buyers["monetary"].sum())
    g = scores.groupby("segment", observed=True)
    table = pd.DataFrame({
        "customers": g.size(),
        "revenue": g["monetary"].sum(min_count=1).fillna(0.0),
        "avg_recency": g["recency"].mean(),
        "avg_frequency": g["frequency"].mean(),
        "avg_monetary": g["monetary"].mean(),
    })
    table["customer_share"] = table["customers"] / table["customers"].sum()
    table["revenue_share"] = table["revenue"] / total_revenue if total_revenue else np.nan
    table = table.reindex(_ordered(table.index, seg))
    known = {s.name: s for s in (*seg.segments, seg.prospects)}
    table["label_en"] = [known[n].label_en if n in known else n for n in table.index]
    table["label_zh"] = [known[n].label_zh if n in known else n for n in table.index]
    table["action"] = [known[n].action if n in known else "" for n in table.index]
    table.index.name = "segment"
    cols = ["label_en", "label_zh", "customers", "customer_share", "revenue", "revenue_share", "avg_recency",
            "avg_frequency", "avg_monetary", "action"]
    return table[cols].astype({"customers": "int64"})


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


@dataclass(frozen=True)
class Pareto:
    """The Pareto (concentration) curve of spend over customers."""

    curve: pd.DataFrame  # customer_share (0..1, best customers first), revenue_share (0..1)
    top_share: float  # share of revenue from the top ``top`` of customers
    top: float
    customers: int
    revenue: float

    def __str__(self) -> str:
        return (f"The top {self.top:.0%} of {self.customers:,} customers bring "
                f"{self.top_share:.1%} of {self.revenue:,.0f} revenue")


def pareto(scores: pd.DataFrame, value: str = "monetary", top: float = 0.2, points: int = 201) -> Pareto:
    """Cumulative share of revenue against the share of customers, best customers first.

    Buyers only (prospects have no spend). ``top_share`` is the revenue share of the first
    ``round(top * customers)`` customers; ``curve`` has ``points`` evenly spaced customer
    shares from 0 to 1 (and the exact point at ``top``)."""
    if not 0 < top < 1:
        raise ValueError(f"top must be a share between 0 and 1, got {top!r}")
    values = scores.loc[scores[value].notna(), value].to_numpy(dtype=np.float64)
    if "is_prospect" in scores:
        values = scores.loc[~scores["is_prospect"].astype(bool) & scores[value].notna(), value].to_numpy(np.float64)
    n = len(values)
    if n == 0:
        raise ValueError("pareto: no customers with a value")
    ordered = np.sort(values)[::-1]
    cum = np.concatenate([[0.0], np.cumsum(ordered)])
    total = float(cum[-1])
    k = int(round(top * n))
    top_share = float(cum[k] / total) if total else float("nan")
    share = np.unique(np.concatenate([np.linspace(0, 1, points), [k / n]]))
    idx = np.round(share * n).astype(int)
    curve = pd.DataFrame({"customer_share": idx / n, "revenue_share": cum[idx] / total if total else np.nan})
    return Pareto(curve.drop_duplicates("customer_share").reset_index(drop=True), top_share, top, n, total)


# --------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------

CONTACT_COLUMNS = ("name", "phone", "email", "province", "city", "address",
                   "consent_mail", "consent_sms", "consent_email", "consent_phone")


def export_segment(con, segment: str, path: str | Path, clearance: int, as_of=None, segments=None,
                   customers: str = "main.customers", customer_type: str | None = None) -> pd.DataFrame:
    """Write one segment's customers (stored scores of ``as_of``, None = latest; only
    ``customer_type`` if given) with their contact details to ``path`` (.csv, UTF-8 with BOM so
    Excel reads Chinese; or .xlsx).

    Contact columns come from the customer master; every column is masked according to the
    reader's ``clearance`` through the catalog (:func:`dbmarketing.privacy.export_frame`): at
    clearance 2 phone, e-mail, name and address are masked, at 3 they are in clear. The file
    is written aside and renamed into place, so a failed export leaves no half-written file.
    Returns the frame as written.
    """
    if not 1 <= int(clearance) <= 4:
        raise ValueError(f"clearance must be 1-4, got {clearance!r}")
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"export_segment: {path.name}: write .csv or .xlsx")
    seg = load_segments(segments)
    name = seg.get(segment).name
    d = _stored_as_of(con, as_of)
    _check_name(customers, "customers")
    ccols = _columns(con, customers)
    contact = [c for c in CONTACT_COLUMNS if c in ccols]
    contact_sql = ", ".join(f"c.{c}" for c in contact)
    frame = _fetch(con, f"""
        SELECT s.customer_id, s.segment, s.as_of, s.r_score, s.f_score, s.m_score, s.rfm_cell, s.recency, s.frequency,
               s.monetary, s.last_purchase{', ' + contact_sql if contact else ''}
        FROM main.{SCORES_TABLE} s LEFT JOIN {customers} c USING (customer_id)
        WHERE s.as_of = {_date_lit(d)} AND s.segment = {_lit(name)} {_type_filter(customer_type, 's.')}
        ORDER BY s.monetary DESC NULLS LAST, s.customer_id""")
    for col in frame.columns:  # dates as dates (Excel shows no midnight)
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.date
    tiers = privacy.catalog_tiers(con)
    privacy.export_frame(frame, path, int(clearance), tiers=tiers)
    masked = privacy.mask_frame(frame, int(clearance), tiers=tiers)
    masked.attrs.update(as_of=d.isoformat(), segment=name, clearance=int(clearance), path=str(path))
    return masked
