"""Helpers the parameters and the run share."""

from __future__ import annotations

import datetime as dt


def _plain(value):
    """A parameter value as papermill and JSON take it: dates become ISO strings."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
