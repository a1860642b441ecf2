"""Tables for reading and printing: one helper, :func:`show_table`, for every table a report shows.

It is built on pandas' Styler (HTML with the table's own CSS, and the same values as plain
text for a terminal or a diff): no new dependency, it renders in JupyterLab and in
nbconvert's HTML alike, and it formats column by column, which is all a report table needs
(great_tables would add a package for the same result; itables needs JavaScript, which a
printed or e-mailed report does not run). What a reader sees:

- no row numbers; headers in words (:func:`dbmarketing.present.words.header`), values the
  catalog names in words (customer types, segments, actions);
- counts with thousands separators, money and other decimals with two, shares as
  percentages, ``whole`` columns without decimals (``words/kinds.yaml``); missing values blank;
- text left-aligned, numbers right-aligned;
- a long table cut to ``rows`` with the count of the rest, and where its full version is;
- a wide table split into parts that fit the page, each repeating the first (key) column.
"""

from __future__ import annotations

import functools
import html
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

from .. import messages
from . import words

MAX_ROWS = 15
PAGE_CHARS = 150  # characters of table a 1400 px page holds at the report's font size
WRAP_CHARS = 40   # a text column wider than this wraps in its cell: it takes this much of the page


@functools.cache
def kinds() -> dict[str, set]:
    content = messages.safe_load((Path(words.__file__).parent / "kinds.yaml").read_text(encoding="utf-8"))
    return {kind: set(names) for kind, names in content.items()}


def _blank(v) -> bool:
    """A missing value: None, NaN, NaT or pandas' NA (shown as an empty cell)."""
    return v is None or (not isinstance(v, (str, list, tuple, dict)) and bool(pd.isna(v)))


def number(v) -> str:
    """Two decimals with thousands separators; small values (p-values, rates below 1%) with two
    significant digits instead of 0.00."""
    if _blank(v):
        return ""
    return f"{v:,.2f}" if v == 0 or abs(v) >= 0.01 else f"{v:.2g}"


def _formatter(col: str, series: pd.Series, percent: set, whole: set):
    if col in percent:
        return lambda v: "" if _blank(v) else (f"{100 * v:,.1f}%" if v == 0 or abs(v) >= 0.001 else f"{100 * v:.2g}%")
    if pd.api.types.is_bool_dtype(series):
        return lambda v: "" if _blank(v) else words.label("yes" if v else "no")
    if pd.api.types.is_integer_dtype(series) or col in whole:
        return lambda v: "" if _blank(v) else f"{v:,.0f}"
    if pd.api.types.is_float_dtype(series):
        return number
    if pd.api.types.is_datetime64_any_dtype(series):
        timed = bool((series.dropna().dt.normalize() != series.dropna()).any())
        return lambda v: "" if _blank(v) else (v.strftime("%Y-%m-%d %H:%M") if timed else v.strftime("%Y-%m-%d"))
    return lambda v: "" if _blank(v) else (words.label("yes" if v else "no") if isinstance(v, (bool, np.bool_))
                                           else str(words.label(v)))


def _numeric(series: pd.Series) -> bool:
    return (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _chars(text: str) -> int:
    """The width of ``text`` in characters of a Latin font: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _width(header: str, texts: list[str], wraps: bool) -> int:
    widest = max([_chars(t) for t in texts], default=0)
    return max(_chars(header), min(widest, WRAP_CHARS) if wraps else widest) + 3


def _parts(columns: list[str], widths: dict[str, int], keep: int) -> list[list[str]]:
    """Columns in groups that fit :data:`PAGE_CHARS`, each starting with the first ``keep``."""
    head, rest = columns[:keep], columns[keep:]
    parts, current = [], []
    base = sum(widths[c] for c in head)
    for col in rest:
        if current and base + sum(widths[c] for c in current) + widths[col] > PAGE_CHARS:
            parts.append(head + current)
            current = []
        current.append(col)
    parts.append(head + current)
    return parts


class Table:
    """A formatted table: HTML for notebooks and reports, plain text elsewhere."""

    def __init__(self, df: pd.DataFrame, percent=(), whole=(), keep: int | None = None, caption: str | None = None,
                 note: str | None = None, headers: dict | None = None):
        df = (df.reset_index() if not isinstance(df.index, pd.RangeIndex) or df.index.name else df).rename(columns=str)
        percent = set(percent) | kinds().get("percent", set())
        whole = set(whole) | kinds().get("whole", set())
        self.texts = pd.DataFrame({col: [_formatter(col, df[col], percent, whole)(v) for v in df[col]]
                                   for col in df.columns}, index=range(len(df)), columns=df.columns)
        self.right = {col for col in df.columns if _numeric(df[col])}
        self.headers = {col: (headers or {}).get(col) or words.header(col) for col in df.columns}
        widths = {col: _width(self.headers[col], list(self.texts[col]), col not in self.right) for col in df.columns}
        if keep is None:
            keep = 1 if len(df.columns) and not _numeric(df[df.columns[0]]) else 0
        self.parts = _parts(list(df.columns), widths, keep)
        self.caption, self.note = caption, note

    def _part_html(self, columns: list[str], caption: str | None) -> str:
        esc = html.escape
        head = "".join(f'<th class="{"num" if c in self.right else "text"}">{esc(self.headers[c])}</th>'
                       for c in columns)
        rows = "".join("<tr>" + "".join(f'<td class="{"num" if c in self.right else "text"}">{esc(v)}</td>'
                                        for c, v in zip(columns, row)) + "</tr>"
                       for row in self.texts[columns].itertuples(index=False))
        cap = f"<caption>{esc(caption)}</caption>" if caption else ""
        return f'<table class="dbm-table">{cap}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'

    def _repr_html_(self) -> str:
        style = ("<style>table.dbm-table{border-collapse:collapse;margin:0.4em 0 0.8em;font-size:13px;"
                 "font-variant-numeric:tabular-nums}table.dbm-table caption{caption-side:top;text-align:left;"
                 "font-weight:600;padding:0.2em 0}table.dbm-table th,table.dbm-table td{padding:0.25em 0.7em;"
                 "border-bottom:1px solid #e4e4e4;vertical-align:top}table.dbm-table th{background:#f4f4f4;"
                 "border-bottom:1px solid #bbb}table.dbm-table .num{text-align:right;white-space:nowrap}"
                 "table.dbm-table .text{text-align:left}p.dbm-note{color:#555;font-style:italic;margin:0 0 1em}"
                 "</style>")
        many = len(self.parts) > 1
        body = "".join(self._part_html(cols, (self.caption or "") + (words.text("common.table_part", part=i,
                                                                              parts=len(self.parts)) if many else ""))
                       for i, cols in enumerate(self.parts, 1))
        note = f'<p class="dbm-note">{html.escape(self.note)}</p>' if self.note else ""
        return style + body + note

    def __repr__(self) -> str:
        lines = [self.caption] if self.caption else []
        for cols in self.parts:
            shown = self.texts[cols].rename(columns=self.headers)
            lines.append(shown.to_string(index=False))
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)


def show_table(df: pd.DataFrame, clearance: int | None = None, con=None, rows: int = MAX_ROWS,
               caption: str | None = None, percent=(), whole=(), keep: int | None = None, full=None,
               headers: dict | None = None):
    """Display ``df`` for reading: masked by ``clearance`` (when ``con`` is given, from its
    catalog), cut to ``rows`` rows with the count of the others, formatted as the module says.
    ``full``: a file (CSV or Excel) to write the whole table to when it is cut, masked the same
    way (:func:`dbmarketing.privacy.export_frame`); the note under the table names it.
    ``headers``: column -> header for this table only, where the catalog's header of a column
    name would mislead (an ``action`` that is a marketing action, not a cleaning step).
    Returns the :class:`Table`."""
    from IPython.display import display

    from .. import privacy

    shown = df.head(rows)
    if con is not None and clearance is not None:
        shown = privacy.mask_frame(shown, clearance, con=con)
    note = None
    if len(df) > rows:
        note = words.text("common.rows_cut", shown=rows, total=len(df))
        if full is not None:
            if clearance is None:
                raise ValueError("show_table: writing the full table (full=) needs the reader's clearance")
            Path(full).parent.mkdir(parents=True, exist_ok=True)
            privacy.export_frame(df, full, clearance, con=con, about=caption)
            note += " " + words.text("common.rows_full", file=Path(full).name)
    table = Table(shown, percent=percent, whole=whole, keep=keep, caption=caption, note=note, headers=headers)
    display(table)
    return table
