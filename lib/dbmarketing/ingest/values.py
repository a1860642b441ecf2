"""Typing of values: source text (trimmed, translated by ``values:``) parsed into the model
types -- dates by their format, numbers as exports write them, yes/no by :data:`BOOLEAN_WORDS`,
the one list of yes/no words -- and records turned into rows of a model table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dbmarketing import warehouse

from ._common import _problems


DEFAULT_DATE_FORMATS = {"DATE": "%Y-%m-%d", "TIMESTAMP": "%Y-%m-%d %H:%M:%S"}
# The yes/no words, the one list (a loaded BOOLEAN column, a campaign file's 0/1 outcome):
# compared after trimming and lower-casing; "1.0"/"0.0" are what a spreadsheet makes of 1/0.
BOOLEAN_WORDS = {
    "y": True, "yes": True, "true": True, "t": True, "1": True, "1.0": True, "是": True, "有": True,
    "n": False, "no": False, "false": False, "f": False, "0": False, "0.0": False, "否": False, "无": False,
}


def _parse(text: pd.Series, type_: str, date_format: str | None,
           typed_dates: pd.Series | None = None) -> tuple[pd.Series, pd.Series, str]:
    """Parse trimmed text (NaN = empty) into a model type.

    `typed_dates` marks cells that held a real date (written as ISO text): for a date
    column they are read as ISO dates, and `date_format` applies to the other cells only.
    Returns (values, failed, what): `failed` marks non-empty text that did not parse and
    `what` says what it should have been, e.g. "not a number".
    """
    if type_ in DEFAULT_DATE_FORMATS:
        date_format = date_format or DEFAULT_DATE_FORMATS[type_]
        values = pd.to_datetime(text, format=date_format, errors="coerce")
        if typed_dates is not None and typed_dates.any():
            iso = pd.to_datetime(text.where(typed_dates), format="ISO8601", errors="coerce")
            values = iso.where(typed_dates, values)
        what = f"not a date in format {date_format}"
    elif type_ == "DOUBLE":
        values = pd.to_numeric(_number_text(text), errors="coerce").astype("float64")
        values = values.where(np.isfinite(values))
        what = "not a number"
    elif type_ in ("INTEGER", "BIGINT"):
        numbers = pd.to_numeric(_number_text(text), errors="coerce").astype("float64")
        limit = 2**31 if type_ == "INTEGER" else 2**53
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (numbers.abs() < limit)
        values = numbers.where(whole).astype("Int64")
        what = "not a whole number"
    elif type_ == "BOOLEAN":
        values = text.str.lower().map(BOOLEAN_WORDS).astype("boolean")
        what = "not a yes/no value"
    else:
        values = text
        what = "text"
    failed = text.notna() & values.isna()
    return values, failed, what


_FULLWIDTH_NUMBER = str.maketrans("０１２３４５６７８９．，－＋", "0123456789.,-+")
_CURRENCY = r"(?:[¥￥$€£]|RMB|CNY|USD|EUR)"
_THOUSANDS = r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$"
_PLAIN_NUMBER = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"  # ASCII digits only


def _number_text(text: pd.Series) -> pd.Series:
    """Number text as exports write it, made plain: full-width digits (１２３), a currency sign
    or code before or after the number (¥1,104.92, ￥88, $12.50, 88 元), spaces, and commas that
    separate thousands (1,104.92; 12,5 is no number: a comma is a thousands separator only
    before groups of three digits)."""
    if text.dropna().empty:
        return text
    # Text that is already a plain number (most cells of a big export, every cell of a Parquet
    # number column) is left as it is: the clean-up below maps cell by cell in Python and is
    # what made loading 1,000,000 orders take 25 s. Only the other cells go through it.
    plain = text.str.fullmatch(_PLAIN_NUMBER).fillna(True).astype(bool)
    if plain.all():
        return text
    if plain.any():
        return text.where(plain, _number_text(text[~plain]))
    t = text.str.translate(_FULLWIDTH_NUMBER).str.replace(r"\s+", "", regex=True)
    t = t.str.replace(rf"^([+-]?){_CURRENCY}", r"\1", regex=True).str.replace(rf"(?:{_CURRENCY}|元)$", "", regex=True)
    return t.where(~t.str.match(_THOUSANDS).fillna(False).astype(bool), t.str.replace(",", "", regex=False))


def _apply_values(text: pd.Series, mapping: dict[str, str | None]) -> pd.Series:
    """Translate source values by the `values` map; unmatched values stay as they are."""
    matched = text.isin(list(mapping))
    if not matched.any():
        return text
    return text.where(~matched, text.map(mapping)).astype("str")


def _to_model(frame: pd.DataFrame, table: warehouse.Table, columns: dict[str, str],
              constants: dict[str, str | None], date_formats: dict[str, str] | None = None,
              values: dict[str, dict] | None = None, prefix: dict[str, str] | None = None,
              dates: dict[str, pd.Series] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse source records into the model columns of `table`.

    Returns (rows, problems): `rows` has every model column (NULL where neither mapped nor
    constant), indexed like `frame`; `problems` has one reject row per value that failed.
    """
    date_formats, values, prefix, dates = date_formats or {}, values or {}, prefix or {}, dates or {}
    rows, problems = {}, []
    for column in table.columns:
        if column.name in columns:
            source_column = columns[column.name]
            original = frame[source_column].str.strip()
            text = _apply_values(original, values[column.name]) if column.name in values else original
            text = text.mask(text == "")
            if column.name in prefix:
                text = prefix[column.name] + text
            parsed, failed, what = _parse(text, column.type, date_formats.get(column.name), dates.get(source_column))
            if failed.any():
                bad = original[failed]
                problems.append(_problems(bad.index, source_column, what, column.name, bad))
            if column.required and text.isna().any():
                problems.append(_problems(text.index[text.isna()], source_column, f"{column.name} is empty",
                                          column.name))
        else:
            text = pd.Series(constants.get(column.name), index=frame.index, dtype="str")
            parsed, _, _ = _parse(text, column.type, None)
        rows[column.name] = parsed
    return pd.DataFrame(rows, index=frame.index), pd.concat([_problems(), *problems], ignore_index=True)
