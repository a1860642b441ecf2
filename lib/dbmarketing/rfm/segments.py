"""Segments: named groups from a YAML map (``segments.yaml`` in this package, or a path of
your own; see :func:`load_segments`) with an English and a Chinese label, a suggested action
(in English and, optionally, in Chinese) and optionally a ``role`` (best, loyal, at_risk, win_back) that reports use to find "the best
customers" in any map. Rules are written for 5-point R and F (optionally M) scores; with
other ``bins`` scores are first rescaled to 1-5 (see the YAML file).

:func:`segment_grid` shows the segment of every R x F score pair, :func:`empty_segments` says
why a segment has no customers, :func:`segment_table` sums the scores up per segment.

The words a reader sees -- labels, actions, roles, the reasons of empty segments -- come in the
reader's language: ``lang`` ("en" or "zh"; None: the language the notebook set, see
:mod:`dbmarketing.present.words`). Segment *names* stay as the map writes them: they are the
values stored in ``main.rfm_scores`` and passed between functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .. import messages
from ..warehouse import sql
from ._common import _aggregated, _check_bins
from .summary import MEASURES

__all__ = ["UNCLASSIFIED", "NOT_YET", "ROLES", "Segment", "Segments", "load_segments", "segment_grid",
           "empty_segments", "segment_table"]

UNCLASSIFIED = "Unclassified"
NOT_YET = "(not yet in the database)"


# What a segment stands for, so a report can find "the best customers" in any map.
ROLES = {
    "best": "the best customers now (the default map's Champions)",
    "loyal": "good, regular customers (Loyal)",
    "at_risk": "good customers who are slipping away (At risk)",
    "win_back": "once among the best, gone quiet (Can't lose them)",
}


def _lang(lang: str | None) -> str:
    """``lang``, or (None) the language of the reader set by the notebook."""
    from ..present import words

    if lang is None:
        return words.lang()
    if lang not in words.LANGS:
        raise ValueError(f"lang {lang!r} is not one of {', '.join(words.LANGS)}")
    return lang


def _text(key: str, lang: str | None = None, **values) -> str:
    """The chapter's sentence ``rfm.<key>`` in ``lang`` (the catalog of :mod:`dbmarketing.present.words`)."""
    from ..present import words

    lang = _lang(lang)
    if lang == words.lang():
        return words.text(f"rfm.{key}", **values)
    before = words.lang()
    words.set_lang(lang)
    try:
        return words.text(f"rfm.{key}", **values)
    finally:
        words.set_lang(before)


@dataclass(frozen=True)
class Segment:
    """A named segment: labels, suggested action, the rule on 5-point scores, an optional role.
    ``action_zh``: the action in Chinese (empty: the English one is shown)."""

    name: str
    label_en: str
    label_zh: str
    action: str
    rule: dict[str, tuple[int, int]] = field(default_factory=dict)
    role: str | None = None
    action_zh: str = ""

    def label(self, lang: str | None = None) -> str:
        """The label a reader of ``lang`` sees (None: the notebook's language)."""
        return self.label_zh if _lang(lang) == "zh" else self.label_en

    def action_in(self, lang: str | None = None) -> str:
        """The suggested action in ``lang`` (None: the notebook's language)."""
        return (self.action_zh or self.action) if _lang(lang) == "zh" else self.action


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

    def frame(self, lang: str | None = None) -> pd.DataFrame:
        """The map as a reader of ``lang`` sees it (None: the notebook's language): segment (its
        label), rule (on 5-point scores), role in the reports and suggested action."""
        rows = []
        for s in (*self.segments, self.prospects):
            rule = _rule_text(s.rule) or _text("rule_never_bought" if s is self.prospects else "rule_any", lang)
            rows.append({"segment": s.label(lang), "rule": rule,
                         "role": _text(f"role_{s.role}", lang) if s.role else "", "action": s.action_in(lang)})
        return pd.DataFrame(rows)

    def label(self, name, lang: str | None = None):
        """The word a reader of ``lang`` sees for the segment ``name`` (its label; Unclassified and
        the customers not yet in the database in words too; anything else as it is)."""
        for s in (*self.segments, self.prospects):
            if name == s.name:
                return s.label(lang)
        if name == UNCLASSIFIED:
            return _text("unclassified", lang)
        if name == NOT_YET:
            return _text("not_yet", lang)
        return name

    def labels(self, lang: str | None = None) -> dict[str, str]:
        """Segment name -> label in ``lang``, for every segment of the map (and Unclassified,
        the customers not yet in the database): to rename a table's rows and columns."""
        return {name: self.label(name, lang) for name in [*self.names, UNCLASSIFIED, NOT_YET]}

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
        spec = messages.safe_load(text)
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
                       " ".join(str(item["action"]).split()), rule, role,
                       " ".join(str(item.get("action_zh") or "").split()))

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


def _segment_case(segments: Segments, bins: int) -> tuple[str, dict]:
    """SQL CASE naming the segment of each row from its r_score, f_score, m_score, and its
    parameters: the map's names and bounds (``$s<i>`` the name of the i-th segment,
    ``$s<i>_<measure>_lo``/``_hi`` its bounds). The CASE is evaluated once per map on the
    small grid of scores (:func:`grid_rows`), never per customer."""
    params = {"prospects": segments.prospects.name, "unclassified": UNCLASSIFIED}
    parts = ["WHEN is_prospect THEN $prospects"]
    for i, s in enumerate(segments.segments):
        conds = []
        for k, (lo, hi) in s.rule.items():
            params[f"s{i}_{k}_lo"], params[f"s{i}_{k}_hi"] = lo, hi
            conds.append(f"{_scaled(k + '_score', bins)} BETWEEN $s{i}_{k}_lo AND $s{i}_{k}_hi")
        params[f"s{i}"] = s.name
        parts.append(f"WHEN {' AND '.join(conds)} THEN $s{i}")
    return "CASE " + " ".join(parts) + " ELSE $unclassified END", params


_GRIDS: dict[tuple[int, str], tuple[list, bool]] = {}  # (bins, map fingerprint) -> grid_rows


def grid_rows(bins: int, segments: Segments) -> tuple[list[tuple[int, int, int, str]], bool]:
    """The segment of every score combination, by the map's CASE expression (:func:`_segment_case`)
    evaluated once on the grid of possible scores: (r, f, m, segment) sorted, M only 1 unless a
    rule uses M; and whether one does."""
    key = (bins, segments.fingerprint)
    if key not in _GRIDS:
        _GRIDS[key] = _grid(bins, segments)
    return _GRIDS[key]


def _grid(bins: int, segments: Segments, m_scores: tuple[int, int] | None = None) -> tuple[list, bool]:
    """(r, f, m, segment) of every R and F score 1..bins and M score ``m_scores`` (first, last;
    default 1..bins when a rule uses M, else 1), sorted; and whether a rule uses M."""
    per_cell = any("m" in s.rule for s in segments.segments)
    m_first, m_last = m_scores or (1, bins if per_cell else 1)
    con = duckdb.connect()
    try:
        levels, m_levels = sql.temp_name("rfm_levels"), sql.temp_name("rfm_m_levels")
        con.register(levels, pa.table({"level": pa.array(range(1, bins + 1), pa.int64())}))
        con.register(m_levels, pa.table({"level": pa.array(range(m_first, m_last + 1), pa.int64())}))
        case, params = _segment_case(segments, bins)
        rows = sql.run(con, "rfm.score_grid", params, levels=sql.ident(levels), m_levels=sql.ident(m_levels),
                       segment=case).fetchall()
    finally:
        con.close()
    return rows, per_cell


def segment_grid(bins: int = 5, segments=None, m_score: int | None = None) -> pd.DataFrame:
    """The segment of every R x F score pair (rows F from ``bins`` down to 1, columns R 1..bins),
    through the same SQL as :func:`score`. ``m_score`` fixes M for maps whose rules use it."""
    bins = _check_bins(bins)
    seg = load_segments(segments)
    m = bins if m_score is None else int(m_score)
    rows = [(r, f, name) for r, f, _, name in _grid(bins, seg, (m, m))[0]]
    grid = pd.DataFrame(rows, columns=["R", "F", "segment"]).pivot(index="F", columns="R", values="segment")
    return grid.sort_index(ascending=False)


def _on_5(score: int, bins: int) -> int:
    """A 1..bins score on the 1-5 scale of the segment rules (as :func:`_scaled` in SQL)."""
    d = bins - 1
    return score if bins == 5 else (3 * d + 8 * (score - 1)) // (2 * d)


def empty_segments(scores, segments=None, lang: str | None = None) -> pd.DataFrame:
    """The segments of the map that hold no customer in ``scores``, each with the reason.

    Reasons, checked in this order: at this number of score levels no score combination fits
    the rule; segments earlier in the map take every combination it covers; no customer has
    a score the rule needs (e.g. F 3: too few distinct values, or a large tie at the top);
    or no customer has one of its combinations. Columns: segment (the name), segment_label and reason
    (in ``lang``; None: the notebook's language)."""
    seg = load_segments(segments)
    with _aggregated(scores) as (con, relation, params, buyer):
        counts = {name: n for name, n, *_ in sql.run(con, "rfm.segment_sums", params, scores=relation).fetchall()}
        triples = sql.run(con, "rfm.score_triples", params, scores=relation, buyer=buyer).fetchall()
    scored_values = [v for t in triples for v in t if v is not None]
    bins = _check_bins(int(scores.attrs.get("bins") or (max(scored_values) if scored_values else 5)))
    rows, per_cell = grid_rows(bins, seg)
    have = {t for t in triples if None not in t}
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
                reason = _text("empty_no_fit", lang, bins=bins, rule=_rule_text(s.rule))
            else:
                reason = _text("empty_shadowed", lang, rule=_rule_text(s.rule))
        else:
            scored = {k: {t["rfm".index(k)] for t in triples} - {None} for k in levels}
            missing = [k for k, v in levels.items() if not scored[k] & set(v)]
            if missing:
                values = dict(zip("rfm", MEASURES))
                reason = _text("reason_sep", lang).join(
                    _text("empty_no_score", lang, measure=k.upper(), levels=_text("list_sep", lang).join(map(str, levels[k])),
                          values=_text(f"value_{values[k]}", lang))
                    for k in missing)
            else:
                shown = ", ".join(f"R{r} F{f}" + (f" M{m}" if per_cell else "") for r, f, m in cells[:6])
                reason = _text("empty_no_cell", lang, cells=shown + (", ..." if len(cells) > 6 else ""))
        out.append({"segment": s.name, "segment_label": s.label(lang), "reason": reason})
    if not counts.get(seg.prospects.name, 0):
        out.append({"segment": seg.prospects.name, "segment_label": seg.prospects.label(lang),
                    "reason": _text("empty_prospects", lang)})
    return pd.DataFrame(out, columns=["segment", "segment_label", "reason"])


def ordered(names, segments: Segments) -> list[str]:
    """Segment names in the map's order, then Unclassified and the customers not yet in the database."""
    order = {n: i for i, n in enumerate([*segments.names, UNCLASSIFIED, NOT_YET])}
    return sorted(set(names), key=lambda n: (order.get(n, len(order)), str(n)))


def segment_table(scores, segments=None, lang: str | None = None) -> pd.DataFrame:
    """One row per segment (map order, prospects last): customers, share of customers, share of
    the buyers (``buyer_share``: prospects, who never bought, have none), revenue and share of
    revenue, average recency (days), frequency and monetary value, labels (``segment_label`` in
    ``lang``, None: the notebook's language) and the suggested action in ``lang``. Segments
    without customers are left out."""
    seg = load_segments(segments)
    with _aggregated(scores) as (con, relation, params, buyer):
        sums = sql.run(con, "rfm.segment_sums", params, scores=relation).fetchall()
        n_buyers, total_revenue = sql.one(con, "rfm.buyer_totals", params, scores=relation, buyer=buyer)
    table = pd.DataFrame(sums, columns=["segment", "customers", "revenue", "avg_recency", "avg_frequency",
                                        "avg_monetary"]).set_index("segment").astype("float64")
    table["customer_share"] = table["customers"] / table["customers"].sum()
    table["buyer_share"] = (table["customers"] / n_buyers).where(table.index != seg.prospects.name) if n_buyers \
        else np.nan
    table["revenue_share"] = table["revenue"] / float(total_revenue) if total_revenue else np.nan
    table = table.reindex(ordered(table.index, seg))
    known = {s.name: s for s in (*seg.segments, seg.prospects)}
    table["label_en"] = [known[n].label_en if n in known else n for n in table.index]
    table["label_zh"] = [known[n].label_zh if n in known else n for n in table.index]
    table["segment_label"] = [seg.label(n, lang) for n in table.index]
    table["action"] = [known[n].action_in(lang) if n in known else "" for n in table.index]
    table.index.name = "segment"
    cols = ["segment_label", "label_en", "label_zh", "customers", "customer_share", "buyer_share", "revenue",
            "revenue_share", "avg_recency", "avg_frequency", "avg_monetary", "action"]
    return table[cols].astype({"customers": "int64"})

