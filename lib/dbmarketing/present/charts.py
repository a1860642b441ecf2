"""Presentation helpers shared by the notebooks: one look for every chart and table.

- :func:`setup_notebook` -- run once at the top of a notebook: project-root working
  directory, table display limits, a chart style with a CJK font so Chinese labels render.
- :func:`log_axis` -- a logarithmic axis whose ticks read 10, 100, 1,000.
- :func:`finish` -- title and axis labels are required on every chart.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from . import words
from .tables import number



def project_root(start: Path | None = None) -> Path:
    """The folder holding ``params/`` and ``notebooks/`` (the current one or a parent)."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "params").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return here


def setup_notebook(lang: str = "en") -> Path:
    """Prepare a notebook: working directory = project root, the language of its words
    (``lang``: "en" or "zh", see :mod:`.words`), display options, chart style."""
    words.set_lang(lang)
    root = project_root()
    os.chdir(root)
    os.environ["TQDM_DISABLE"] = "1"  # progress bars (splink, ...) would show as widgets in reports
    pd.set_option("display.max_rows", 100)  # show_table does the cutting, and says so
    pd.set_option("display.min_rows", 100)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 200)  # reasons and descriptions are read whole
    pd.set_option("display.float_format", number)
    _chart_style()
    return root


def _chart_style() -> None:
    import matplotlib
    import matplotlib.pyplot as plt
    import seaborn as sns
    from matplotlib import font_manager

    sns.set_theme(style="whitegrid", context="notebook")
    family = ["DejaVu Sans"]
    try:
        import mplfonts

        font = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
        if font.exists():
            font_manager.fontManager.addfont(str(font))
            family = ["Noto Sans CJK SC", "DejaVu Sans"]
    except ImportError:
        warnings.warn("mplfonts is not installed: Chinese labels in charts may not render")
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = family
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["text.parse_math"] = False  # "$0 - $100" in a label is text, not maths
    matplotlib.rcParams["figure.figsize"] = (9, 4.5)
    matplotlib.rcParams["figure.dpi"] = 96


def finish(ax, title: str, xlabel: str, ylabel: str):
    """Title and label a chart (every chart in a report has all three)."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.tight_layout()
    return ax


def log_axis(ax, axis: str = "x"):
    """Put ``axis`` ("x" or "y") on a log scale with ticks written as plain numbers (10, 100,
    1,000): with ``text.parse_math`` off, matplotlib's own log ticks would print as TeX."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target.set_major_locator(LogLocator(base=10))
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    target.set_minor_formatter(NullFormatter())
    return ax


def scorecard_heatmap(scores: pd.DataFrame, title: str):
    """Heat-map of a quality scorecard: rows table.column, columns dimension, one panel per stage."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    scores = scores.assign(field=scores.table_name + "." + scores.column_name)
    stages = [s for s in ("before", "after") if s in set(scores.stage)]
    fields = sorted(scores.field.unique())
    fig, axes = plt.subplots(1, len(stages), figsize=(4.6 * len(stages) + 1.5, 0.32 * len(fields) + 1.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, stage in zip(axes, stages):
        grid = (scores[scores.stage == stage].pivot_table(index="field", columns="dimension", values="score")
                .reindex(index=fields, columns=["completeness", "validity", "uniqueness", "timeliness"]))
        grid.columns = [words.label(c) for c in grid.columns]
        sns.heatmap(100 * grid, ax=ax, vmin=50, vmax=100, cmap="RdYlGn", annot=True, fmt=".0f", cbar=False,
                    annot_kws={"size": 8}, linewidths=0.5, linecolor="white")
        ax.grid(False)
        finish(ax, words.text(f"common.scorecard_{stage}"), words.text("common.scorecard_x"),
               words.text("common.scorecard_y") if ax is axes[0] else "")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
