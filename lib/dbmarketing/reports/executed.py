"""An executed notebook as the run reads it: the errors that fail the run, the sections it
skipped, the noise a manager should not read (warnings on stderr, widget views that would
show "Loading widget..."), its title, and which cell failed, in words."""

from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import papermill

from dbmarketing import messages

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# Text on stderr that means something went wrong, not just a warning.
STDERR_ERROR = re.compile(
    r"Traceback \(most recent call last\)"
    r"|^\s*(?:[A-Za-z_][\w.]*\.)?[A-Za-z_]\w*(?:Error|Exception):"
    r"|^ERROR\b|\bERROR:",
    re.MULTILINE,
)


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def find_errors(nb) -> list[str]:
    """Problems in an executed notebook that make the run a failure.

    Error outputs, and stderr text showing a traceback or an error (a warning is not an
    error). Each problem names the cell (``In [n]``).
    """
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        where = f"cell In [{cell.get('execution_count') or ' '}]"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{where}: {out.get('ename')}: {messages.one_line(out.get('evalue'), 300)}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = _text(out.get("text"))
                match = STDERR_ERROR.search(text)
                if match:
                    line = text[match.start():].strip().splitlines()[0]
                    problems.append(f"{where} wrote an error to stderr: {messages.one_line(line, 200)}")
    return problems


def skipped_sections(nb) -> list[dict]:
    """The sections an executed notebook skipped, each with its reason, in order
    (:func:`dbmarketing.warehouse.skip` marks them in the output metadata)."""
    from dbmarketing.warehouse import SKIPPED_KEY

    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            mark = (out.get("metadata") or {}).get(SKIPPED_KEY) or {}
            if mark.get("skipped") and all(f["section"] != mark["skipped"] for f in found):
                found.append({"section": mark["skipped"], "reason": mark.get("reason", "")})
    return found


def clean_outputs(nb) -> dict:
    """Remove what a report reader should not see, in place.

    - stderr streams (warnings);
    - widget views: the widget part of an output is dropped, a static alternative (image,
      HTML, markdown, ...) is kept, an output with nothing else left is dropped;
    - the widget state in the notebook metadata (it would make the HTML load widget code).

    Returns ``{"stderr": n, "widgets": n, "warnings": [first lines of the stderr removed]}``.
    """
    removed = {"stderr": 0, "widgets": 0, "warnings": []}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                removed["stderr"] += 1
                for line in _text(out.get("text")).splitlines():
                    line = line.strip()
                    if line and line not in removed["warnings"] and len(removed["warnings"]) < 20:
                        removed["warnings"].append(line[:300])
                        break
                continue
            data = out.get("data")
            if data and WIDGET_VIEW in data:
                removed["widgets"] += 1
                static = {k: v for k, v in data.items() if k not in (WIDGET_VIEW, "text/plain")}
                if not static:
                    continue
                out["data"] = nbformat.from_dict(static)
            kept.append(out)
        cell["outputs"] = kept
    widgets = nb.metadata.get("widgets")
    if widgets is not None:
        widgets.pop(WIDGET_STATE, None)
        if not widgets:
            del nb.metadata["widgets"]
    return removed


def notebook_title(nb, stem: str) -> str:
    """The first markdown heading of a notebook, else its name in words."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in _text(cell.source).splitlines():
                if line.startswith("#"):
                    title = line.lstrip("#").strip()
                    if title:
                        return title
    return stem.replace("_", " ")


def _describe_failure(exc: Exception, output: Path) -> str:
    """Which cell failed, in words, from a papermill error and the executed notebook."""
    if isinstance(exc, papermill.PapermillExecutionError):
        cell_no = exc.cell_index + 1
        if output.exists():
            # Number the cell as in the source notebook: skip the cells papermill added.
            executed = nbformat.read(output, as_version=4)
            added = {"injected-parameters", "papermill-error-cell-tag"}
            original = [c for c in executed.cells if not added & set(c.metadata.get("tags", []))]
            for i, cell in enumerate(original):
                if cell.cell_type == "code" and cell.get("execution_count") == exc.exec_count:
                    cell_no = i + 1
                    break
        first_line = next((ln.strip() for ln in (exc.source or "").splitlines() if ln.strip()), "")
        return (f"cell {cell_no} (In [{exc.exec_count}] in the kept notebook): {exc.ename}: "
                f"{messages.one_line(exc.evalue, 300)}"
                + (f" (the cell starts: {messages.one_line(first_line, 80)})" if first_line else ""))
    return f"{type(exc).__name__}: {messages.one_line(exc, 300)}"


def headlines(nb) -> list[dict]:
    """The headline figures an executed notebook recorded (:func:`dbmarketing.present.headline`),
    in order; a key recorded twice keeps its last value."""
    from dbmarketing.present.headlines import MIME

    found = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            figure = (out.get("data") or {}).get(MIME)
            if figure and isinstance(figure.get("value"), (int, float)) and math.isfinite(figure["value"]):
                found[figure["key"]] = dict(figure)
    return list(found.values())
