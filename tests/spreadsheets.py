"""Formula injection: hostile text values and a check of the files the workbook exports.

A spreadsheet runs a cell as a formula when its text starts with = + - @, a tab or a carriage
return (OWASP, "CSV Injection"); an .xlsx cell can also be stored as a formula outright. The
values below are what a customer can type into a web form."""

from __future__ import annotations

import csv
import re
from pathlib import Path

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # a plain number runs nothing


def live_cells(path) -> list[str]:
    """Every cell of a .csv or .xlsx export a spreadsheet would run as a formula, as
    'row:column value' (empty: the file is safe)."""
    path = Path(path)
    found = []
    if path.suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [(i, list(enumerate(r, 1))) for i, r in enumerate(csv.reader(f), 1)]
        cells = [(i, j, v, "s") for i, row in rows for j, v in row]
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(path).active
        cells = [(c.row, c.column, c.value, c.data_type) for row in sheet.iter_rows() for c in row]
    for i, j, value, kind in cells:
        text = "" if value is None else str(value)
        if kind == "f" or (isinstance(value, str) and text.startswith(("=", "+", "-", "@", "\t", "\r"))
                           and not NUMBER.fullmatch(text)):
            found.append(f"{i}:{j} {text!r}")
    return found
