"""Presentation: charts and the displays the notebooks show."""

from .charts import (
    MAX_ROWS,
    project_root,
    setup_notebook,
    show_table,
    finish,
    scorecard_heatmap,
    percent,
)

__all__ = [
    "MAX_ROWS",
    "project_root",
    "setup_notebook",
    "show_table",
    "finish",
    "scorecard_heatmap",
    "percent",
]
