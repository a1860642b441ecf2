"""Small helpers the ingest modules share: a file's format suffix, a cell as text, a place in
a file, reject rows, and running SQL over DataFrames."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd



def _plain_suffix(path) -> str:
    """The file extension that says the format, looking through a .gz compression suffix."""
    p = Path(path)
    if p.suffix.lower() == ".gz":
        p = p.with_suffix("")
    return p.suffix.lower()


def _problems(line_no=(), column_name=None, reason=(), model_column=None, raw_value=None) -> pd.DataFrame:
    """Reject rows (line_no, column_name, model_column, reason, raw_value); a scalar is
    repeated for every line. The reason never holds a value of the record (it is shown to
    every reader); the value at fault goes to raw_value, which the catalog keeps private."""
    line_no = np.asarray(line_no, dtype="int64")

    def column(value):
        value = value.to_numpy() if isinstance(value, pd.Series) else value
        return pd.Series(value, index=range(len(line_no)), dtype="str")

    return pd.DataFrame({"line_no": line_no, "column_name": column(column_name),
                         "model_column": column(model_column), "reason": column(reason),
                         "raw_value": column(raw_value)})


def _at(location: str, line: int | None = None) -> str:
    return f"{location}, line {line}" if line else location


def _cell_text(value) -> str:
    """A spreadsheet or database value as the text a CSV export would show."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
