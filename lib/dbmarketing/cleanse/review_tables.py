"""The tables a reviewer of a cleaning run reads (chapter 02): province spellings mapped, the
quality findings by kind and their list, how the match model was trained, customers by number
of records, the run's quality scores and their trend over runs."""

from __future__ import annotations

import json
import math

import pandas as pd

from .. import warehouse

__all__ = ["match_pairs", "province_mappings", "findings_by_kind", "findings_list", "training_sessions", "records_per_customer",
           "quality_scores", "quality_trend", "match_weight"]


def province_mappings(con) -> pd.DataFrame:
    """Recorded province spellings and the standard name each became, most frequent first."""
    return warehouse.sql.run(con, "cleanse_review.province_mappings").df()


def findings_by_kind(con) -> pd.DataFrame:
    """Quality findings (what standardizing could not repair) counted by column and kind."""
    return warehouse.sql.run(con, "cleanse_review.findings_by_kind").df()


def findings_list(con) -> pd.DataFrame:
    """Every finding with its customer, the raw value and the part at fault (highly private)."""
    return warehouse.sql.run(con, "cleanse_review.findings_list").df()


def training_sessions(con, run_id: int) -> pd.DataFrame:
    """How the match model of a run estimated m: one EM session per blocking rule."""
    model = warehouse.sql.run(con, "cleanse_review.run_model", {"run_id": run_id}).fetchall()[0][0]
    sessions = pd.DataFrame(json.loads(model)["training_sessions"])
    sessions["trained"] = sessions.trained.map(", ".join)
    return sessions


def records_per_customer(con) -> pd.DataFrame:
    """Customers by the number of source records merged into each."""
    return warehouse.sql.run(con, "cleanse_review.records_per_customer").df()


def quality_scores(con, run_id: int) -> pd.DataFrame:
    """The quality scorecard of a run (both stages)."""
    return warehouse.sql.run(con, "cleanse_review.quality_scores", {"run_id": run_id}).df()


def quality_trend(con) -> pd.DataFrame:
    """The average quality score per run and stage, oldest run first."""
    return warehouse.sql.run(con, "cleanse_review.quality_trend").df()


def match_weight(probability: float) -> float:
    """A match probability as a match weight (log2 of the odds), the scale of splink's charts."""
    return math.log2(probability / (1 - probability))


def match_pairs(con) -> pd.DataFrame:
    """The candidate pairs the match model kept: their match weight and probability."""
    return warehouse.sql.run(con, "cleanse_review.match_pairs").df()


def customers_by_city_tier(con, cities: pd.DataFrame) -> pd.DataFrame:
    """Current raw customer records by the tier of their city as written, joined exactly to
    ``cities`` (:func:`city_reference`: ``city``, ``city_tier``, ``income_index``); the records
    whose city is spelled otherwise are counted as "not matched"."""
    name = warehouse.sql.temp_name("cities")
    con.register(name, cities)
    try:
        return warehouse.sql.run(con, "cleanse_review.customers_by_city_tier", cities=warehouse.sql.ident(name)).df()
    finally:
        con.unregister(name)
