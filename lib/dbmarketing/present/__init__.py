"""Presentation: charts, tables, the words of each language and the headline figures."""

from . import words
from .charts import (
    project_root,
    setup_notebook,
    finish,
    log_axis,
    scorecard_heatmap,
)
from .headlines import headline
from .tables import MAX_ROWS, Table, number, show_table
from .words import text, header, label

__all__ = [
    "MAX_ROWS",
    "project_root",
    "setup_notebook",
    "show_table",
    "Table",
    "number",
    "finish",
    "log_axis",
    "scorecard_heatmap",
    "headline",
    "words",
    "text",
    "header",
    "label",
]
