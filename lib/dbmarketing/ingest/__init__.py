"""Bringing sources in: the YAML source files, the readers (CSV, Excel, Parquet, SQL, CDNOW) and the batch load with its rejects.

The rooms: ``sources`` (the sources file, its validation), ``readers`` (a source's file or
query as text records), ``values`` (text typed into the model: dates, numbers, the yes/no
words), ``load`` (batches, rejects, change detection, customers' history) and ``review``
(looking at what was loaded). This face is the public part; the rest is private.
"""

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
from .review import accounted, customer_versions, history_changes, load_history, profile, reject_summary

__all__ = [
    "accounted", "customer_versions",
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
