"""What the cleaning modules share: the privacy tiers by short name, a column list from
tuples, and applying a parser once per distinct value."""

from __future__ import annotations

import pandas as pd

from .. import warehouse

PUBLIC, DEEP, PRIVATE, HIGH = warehouse.PUBLIC, warehouse.DEEP_PUBLIC, warehouse.PRIVATE, warehouse.HIGHLY_PRIVATE
C = warehouse.Column


def _cols(*specs) -> tuple[warehouse.Column, ...]:
    return tuple(C(*s) for s in specs)


def _by_value(values: pd.Series, fn) -> pd.Series:
    """Apply ``fn`` once per distinct value (fast on columns with repeats)."""
    uniq = values.dropna().unique()
    table = {v: fn(v) for v in uniq}
    return values.map(table)
