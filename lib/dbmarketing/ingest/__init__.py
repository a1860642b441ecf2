"""Bringing sources in: the YAML source files, the readers (CSV, Excel, Parquet, SQL, CDNOW) and the batch load with its rejects."""

from .sources import (
    FORMATS,
    EXTENSIONS,
    CDNOW_COLUMNS,
    CDNOW_LAYOUTS,
    CDNOW_FILLED,
    ConfigError,
    SourceError,
    Source,
    SOURCE_KEYS,
    MAP_KEYS,
    map_fingerprint,
    read_sources,
)
from .values import DEFAULT_DATE_FORMATS, BOOLEAN_WORDS
from .readers import Records, detect_encoding, READERS, read_file, check_source
from .load import LoadResult, PartialLoadError, load_source, load_sources
from .review import load_history, reject_summary, profile, history_changes

__all__ = [
    "FORMATS",
    "EXTENSIONS",
    "DEFAULT_DATE_FORMATS",
    "BOOLEAN_WORDS",
    "CDNOW_COLUMNS",
    "CDNOW_LAYOUTS",
    "CDNOW_FILLED",
    "ConfigError",
    "SourceError",
    "Source",
    "SOURCE_KEYS",
    "MAP_KEYS",
    "map_fingerprint",
    "read_sources",
    "Records",
    "detect_encoding",
    "READERS",
    "read_file",
    "LoadResult",
    "PartialLoadError",
    "check_source",
    "load_source",
    "load_sources",
    "load_history",
    "reject_summary",
    "profile",
    "history_changes",
]
