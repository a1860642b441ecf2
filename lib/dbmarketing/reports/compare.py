"""Two report runs side by side: do they show the same figures?

:func:`compare_runs` is how a run on another engine (``make reports ENGINE=spark``) is checked
against the DuckDB one, and how any two runs of the same data can be: the headline figures of
the index (equal within a relative ``tolerance``), the rows of every exported list and the
lists themselves (the same rows, in any order), and what every cell of every notebook shows
as text (prose, tables, printed lines; charts are pictures of the same figures and are not
compared). Only what belongs to the run itself is set aside: its name, its folder, the
seconds a step took, the parameters that name the engine.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import nbformat
import pandas as pd

__all__ = ["compare_runs"]

# What differs between two runs of the same data by design: durations ("in 3.2 s", "12.3 s"),
# the run's folders, and the engine's own parameters.
_VOLATILE = [
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:(?:s|ms|seconds)\b|秒)"), "<seconds>"),
    (re.compile(r"reports/[^/\s\"'<>]+/"), "reports/<run>/"),
    (re.compile(r"(?:engine|spark_master)\s*=\s*['\"][^'\"]*['\"]"), "<engine>"),
    (re.compile(r"/tmp/[^\s\"'<>]+"), "<tmp>"),
]
ENGINE_PARAMETERS = ("engine", "spark_master")


def _steady(text: str, run: Path) -> str:
    text = text.replace(str(run.resolve()), "<run>").replace(str(run), "<run>")
    for pattern, word in _VOLATILE:
        text = pattern.sub(word, text)
    return text


def _cell_texts(notebook: Path, run: Path) -> list[str]:
    nb = nbformat.read(str(notebook), as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            for kind in ("text/markdown", "text/html", "text/plain"):
                value = output.get("data", {}).get(kind)
                if value is not None:
                    parts.append("".join(value) if isinstance(value, list) else value)
                    break
        out.append(_steady("\n".join(parts), run))
    return out


def _same_number(a, b, tolerance: float) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return a == b or math.isclose(a, b, rel_tol=tolerance, abs_tol=0)
    return a == b


def compare_runs(a: str | Path, b: str | Path, tolerance: float = 1e-9) -> list[str]:
    """The differences between report runs ``a`` and ``b`` (folders ``reports/<run>``), one line
    each, naming the notebook, and the cell or the list: empty when both show the same figures."""
    a, b = Path(a), Path(b)
    ma = json.loads((a / "manifest.json").read_text(encoding="utf-8"))
    mb = json.loads((b / "manifest.json").read_text(encoding="utf-8"))
    diffs = []
    nbs_a = {n["name"]: n for n in ma["notebooks"]}
    nbs_b = {n["name"]: n for n in mb["notebooks"]}
    if list(nbs_a) != list(nbs_b):
        diffs.append(f"notebooks: {list(nbs_a)} in {a}, {list(nbs_b)} in {b}")
    for name in [n for n in nbs_a if n in nbs_b]:
        na, nb = nbs_a[name], nbs_b[name]
        if na.get("status") != nb.get("status"):
            diffs.append(f"{name}: status {na.get('status')} in {a}, {nb.get('status')} in {b}")
        ha = {h["key"]: h for h in na.get("headlines", [])}
        hb = {h["key"]: h for h in nb.get("headlines", [])}
        for key in sorted(set(ha) | set(hb)):
            va, vb = ha.get(key, {}).get("value"), hb.get(key, {}).get("value")
            if key not in ha or key not in hb or not _same_number(va, vb, tolerance):
                diffs.append(f"{name}: headline {key}: {va!r} in {a}, {vb!r} in {b}")
        if not (na.get("executed") and nb.get("executed")):
            continue
        ca, cb = _cell_texts(a / na["executed"], a), _cell_texts(b / nb["executed"], b)
        for i, (x, y) in enumerate(zip(ca, cb), start=1):
            if x != y:
                diffs.append(f"{name}: code cell {i} shows {_first_difference(x, y)}")
        if len(ca) != len(cb):
            diffs.append(f"{name}: {len(ca)} code cells in {a}, {len(cb)} in {b}")
    diffs += _compare_exports(a, b, ma, mb, tolerance)
    return diffs


def _first_difference(x: str, y: str, width: int = 70) -> str:
    i = next((k for k, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
    start = max(0, i - 20)
    return f"{x[start:start + width]!r} where the other shows {y[start:start + width]!r}"


def _compare_exports(a: Path, b: Path, ma: dict, mb: dict, tolerance: float) -> list[str]:
    diffs = []
    rows_a, rows_b = ma.get("export_rows") or {}, mb.get("export_rows") or {}
    for name in sorted(set(rows_a) | set(rows_b)):
        if rows_a.get(name) != rows_b.get(name):
            diffs.append(f"export {name}: {rows_a.get(name)} rows in {a}, {rows_b.get(name)} in {b}")
    files_a = {p.relative_to(a): p for p in a.rglob("*.csv")}
    files_b = {p.relative_to(b): p for p in b.rglob("*.csv")}
    for rel in sorted(set(files_a) | set(files_b)):
        if rel not in files_a or rel not in files_b:
            diffs.append(f"export {rel}: only in {a if rel in files_a else b}")
            continue
        x = pd.read_csv(files_a[rel], dtype=str, keep_default_na=False)
        y = pd.read_csv(files_b[rel], dtype=str, keep_default_na=False)
        if list(x.columns) != list(y.columns) or len(x) != len(y):
            diffs.append(f"export {rel}: columns or rows differ ({x.shape} in {a}, {y.shape} in {b})")
            continue
        x = x.sort_values(list(x.columns), kind="stable").reset_index(drop=True)
        y = y.sort_values(list(y.columns), kind="stable").reset_index(drop=True)
        unequal = (x != y).any(axis=1)
        for i in unequal[unequal].index[:3]:
            pairs = [(c, x.at[i, c], y.at[i, c]) for c in x.columns if x.at[i, c] != y.at[i, c]]
            if all(_numbers_close(p, q, tolerance) for _, p, q in pairs):
                continue
            diffs.append(f"export {rel}: a row differs in {', '.join(f'{c} {p!r} / {q!r}' for c, p, q in pairs[:3])}")
    return diffs


def _numbers_close(p: str, q: str, tolerance: float) -> bool:
    try:
        return math.isclose(float(p), float(q), rel_tol=tolerance, abs_tol=0)
    except ValueError:
        return False
