"""Presentation helpers shared by the notebooks: one look for every chart and table.

- :func:`setup_notebook` -- run once at the top of a notebook: project-root working
  directory, table display limits, a chart style with a CJK font so Chinese labels render.
- :func:`show_table` -- display a DataFrame masked by the reader's clearance and cut to a
  readable number of rows, saying how many were left out.
- :func:`finish` -- title and axis labels are required on every chart.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

MAX_ROWS = 15


def project_root(start: Path | None = None) -> Path:
    """The folder holding ``params/`` and ``notebooks/`` (the current one or a parent)."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "params").is_dir() and (folder / "notebooks").is_dir():
            return folder
    return here


def setup_notebook() -> Path:
    """Prepare a notebook: working directory = project root, display options, chart style."""
    root = project_root()
    os.chdir(root)
    os.environ["TQDM_DISABLE"] = "1"  # progress bars (splink, ...) would show as widgets in reports
    pd.set_option("display.max_rows", 100)  # show_table does the cutting, and says so
    pd.set_option("display.min_rows", 100)
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    pd.set_option("display.max_colwidth", 200)  # reasons and descriptions are read whole
    pd.set_option("display.float_format", _number)
    _chart_style()
    return root


def _number(v: float) -> str:
    """Two decimals with thousands separators; small values (p-values, rates below 1%) with
    two significant digits instead of 0.00."""
    return f"{v:,.2f}" if v == 0 or abs(v) >= 0.01 or v != v else f"{v:.2g}"


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


def show_table(df: pd.DataFrame, clearance: int, con=None, rows: int = MAX_ROWS, caption: str | None = None):
    """Display ``df`` masked by ``clearance`` and cut to ``rows`` rows (with a note of what was cut)."""
    from IPython.display import Markdown, display

    from .. import privacy

    shown = privacy.mask_frame(df.head(rows), clearance, con=con) if con is not None else df.head(rows)
    if caption:
        display(Markdown(f"**{caption}**"))
    display(_Table(shown))
    if len(df) > rows:
        display(Markdown(f"*Showing {rows:,} of {len(df):,} rows.*"))


class _Table:
    """A DataFrame shown with empty cells for missing values (not NaN, None or <NA>)."""

    def __init__(self, df: pd.DataFrame):
        df = df.copy()
        for col in df.columns:
            if pd.api.types.is_float_dtype(df[col]) and isinstance(df[col].dtype, pd.api.extensions.ExtensionDtype):
                df[col] = df[col].astype("float64")  # nullable Float64: <NA> -> NaN, shown blank
            elif not pd.api.types.is_float_dtype(df[col]) and not pd.api.types.is_datetime64_any_dtype(df[col]):
                df[col] = df[col].astype(object).where(df[col].notna(), "")
        self.df = df

    def _repr_html_(self) -> str:
        return self.df.to_html(na_rep="")

    def __repr__(self) -> str:
        return self.df.to_string(na_rep="")


def finish(ax, title: str, xlabel: str, ylabel: str):
    """Title and label a chart (every chart in a report has all three)."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.tight_layout()
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
        sns.heatmap(100 * grid, ax=ax, vmin=50, vmax=100, cmap="RdYlGn", annot=True, fmt=".0f", cbar=False,
                    annot_kws={"size": 8}, linewidths=0.5, linecolor="white")
        ax.grid(False)
        finish(ax, f"{stage} cleaning", "quality dimension (score %)", "table.column" if ax is axes[0] else "")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def percent(df: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy of ``df`` with the share columns (0-1) shown as percentages: times 100, the
    name followed by " %" (rates of 0.6% would read 0.01 with two decimals)."""
    out = df.copy()
    for col in columns:
        if col in out:
            out[col] = 100 * out[col]
    return out.rename(columns={c: f"{c} %" for c in columns if c in out})
