"""Helpers of more than one module of the sample."""

from __future__ import annotations

from datetime import date

import pandas as pd


def end_dates(end_date: str | date, years: int) -> tuple[date, date, date]:
    """(first day of the history, end_date, CRM export date = end_date minus 2 months)."""
    end = pd.Timestamp(end_date)
    start = end - pd.DateOffset(years=years) + pd.Timedelta(days=1)
    export = end - pd.DateOffset(months=2)
    return start.date(), end.date(), export.date()


def check_locale(locale: str) -> None:
    if locale not in ("zh_CN", "en_US"):
        raise ValueError(f"locale must be 'zh_CN' or 'en_US', not {locale!r}")
