"""The models against the truth the sample planted (``truth.prospect_propensity``: each list
row's true P(respond | contacted)). Only the sample has it; on other data there is nothing to
compare with (:func:`planted` returns None).

- **Rank correlation** (Spearman) of each model's score with the planted propensity, over the
  list rows not already customers;
- **Gains against the perfect order**: the share of all expected responders (the sum of the
  planted propensities) in the top x% by the model, against the same share in the top x% by the
  planted propensity itself (the best any ranking can do); ``recovered`` = (model - random) /
  (perfect - random) at 30% (random: 30%): the share of the achievable gain the model reaches;
- **The list against a random selection**: the expected conversions of the list's list rows
  (the sum of their planted propensities) against as many list rows drawn at random from the
  eligible (their mean propensity x the list's size), as a factor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import warehouse

__all__ = ["planted", "expected_gain", "against_truth", "list_against_random"]


def planted(con) -> pd.DataFrame | None:
    """The planted propensity per list row, or None when the database holds no such truth."""
    if not warehouse.table_exists(con, "truth", "prospect_propensity"):
        return None
    return warehouse.sql.run(con, "prospects.planted_propensity").df()


def expected_gain(propensity, score, share: float) -> float:
    """The share of all expected responders (the sum of ``propensity``) among the top ``share``
    of rows by ``score``; rows tied at the cut count with the part of them the cut takes (what a
    random order among the ties would give on average). :func:`dbmarketing.campaigns.gains_table`
    counts responders as whole numbers (0/1 outcomes); planted propensities are fractions."""
    p = np.asarray(propensity, dtype=float)
    s = np.asarray(score, dtype=float)
    n, k = len(p), share * len(p)
    if n == 0 or p.sum() <= 0:
        return float("nan")
    order = np.argsort(-s, kind="stable")
    cut = s[order][min(int(np.ceil(k)) - 1, n - 1)] if k > 0 else np.inf
    above, tied = s > cut, s == cut
    take = (k - above.sum()) / tied.sum() if tied.any() else 0.0
    return float((p[above].sum() + take * p[tied].sum()) / p.sum())


def against_truth(scores: pd.DataFrame, truth: pd.DataFrame, models) -> pd.DataFrame:
    """One row per score column of ``scores`` (list_id and the ``models`` columns) against the
    planted propensity: model, prospects, spearman, gain_top_10/20/30 (share of the planted
    expected responders in the model's top x%), perfect_top_30, recovered."""
    from scipy.stats import spearmanr

    merged = scores.merge(truth[["list_id", "propensity"]], on="list_id", how="inner")
    prop = merged["propensity"].to_numpy(dtype=float)
    p30 = expected_gain(prop, prop, 0.3)
    rows = []
    for m in models:
        score = merged[m].to_numpy(dtype=float)
        g = {x: expected_gain(prop, score, x / 100) for x in (10, 20, 30)}
        rows.append({"model": m, "prospects": len(merged), "spearman": float(spearmanr(score, prop).statistic),
                     "gain_top_10": g[10], "gain_top_20": g[20], "gain_top_30": g[30], "perfect_top_30": p30,
                     "recovered": (g[30] - 0.3) / (p30 - 0.3) if p30 > 0.3 else np.nan})
    return pd.DataFrame(rows)


def list_against_random(listed: pd.DataFrame, eligible: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """The list's expected conversions from the planted propensity against a random selection of
    the same size from the eligible list rows: list_rows, expected (the list's), random, factor."""
    prop = truth.set_index("list_id")["propensity"]
    mine = listed.loc[listed["origin"] == "list", "list_id"].map(prop).dropna()
    pool = eligible.loc[eligible["origin"] == "list", "list_id"].map(prop).dropna()
    n = len(mine)
    expected, random = float(mine.sum()), float(n * pool.mean()) if len(pool) else float("nan")
    return {"list_rows": n, "eligible_rows": len(pool), "expected": expected, "random": random,
            "factor": expected / random if random else float("nan")}
