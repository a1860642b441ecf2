"""Who the best customers are, in attributes a prospect also has.

**The best customers** are the most valuable tier of the customer model (MVC: the top 20% of
consumer buyers by profit to date, :func:`dbmarketing.customers.value_tiers`, the tier chapter
03 shows), against every consumer who has bought (:func:`~.pool.customer_base`).

**The profile** (SPSS's *prospect profiles*): for each value of each attribute, its share among
the best and among all buyers, and the **index** = 100 x share among best / share among all
(100: the best are like everybody; 150: the value is half as common again among the best).
Whether a difference is more than chance is a two-proportion z test of the value's share among
the best against its share among the **rest** (two independent groups: the best are part of
"all", so a test against all would compare a group with itself in part); it is the same test
as a chi-square test of the 2 x 2 table best/rest x value/other values, without continuity
correction (z^2 = chi-square). A profile tests many values at once (twenty-odd), so one in twenty
would look "significant" by chance alone: the p-values are adjusted for the whole profile by Holm's
method (as chapter 05 does for a campaign file's arms), and ``significant`` reads the adjusted one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..campaigns.measurement import holm
from ..warehouse import NotEnoughData
from .pool import PROFILE_ATTRIBUTES, attribute_values

__all__ = ["BEST_TIER", "best_flag", "best_profile"]

BEST_TIER = "MVC"


def best_flag(base: pd.DataFrame, tier: str = BEST_TIER) -> pd.Series:
    """True for the best customers of ``base`` (its ``value_tier`` is ``tier``). Raises
    :class:`~dbmarketing.warehouse.NotEnoughData` when there are fewer than 10 best or 10 others."""
    best = (base["value_tier"] == tier).fillna(False).astype(bool) if len(base) else pd.Series(dtype=bool)
    if int(best.sum()) < 10 or int((~best).sum()) < 10:
        raise NotEnoughData("needs.prospects_best", best=int(best.sum()), customers=len(base))
    return best.rename("is_best")


def best_profile(base: pd.DataFrame, best: pd.Series, attributes=PROFILE_ATTRIBUTES, alpha: float = 0.05) -> pd.DataFrame:
    """The profile of the best customers against all, per value of each attribute: attribute,
    level, best_customers, customers (all), share_best, share_all, index, z, p_value (two-sided),
    p_holm (adjusted over every value tested), significant (p_holm < ``alpha``). Attributes
    ``base`` lacks are left out."""
    from statsmodels.stats.proportion import proportions_ztest

    attributes = [a for a in attributes if a in base.columns]
    values = attribute_values(base, attributes)
    best = np.asarray(best, dtype=bool)
    n_best, n_all = int(best.sum()), len(base)
    n_rest = n_all - n_best
    rows = []
    for a in attributes:
        col = values[a].to_numpy()
        for level in sorted(set(col), key=str):
            k_all = int((col == level).sum())
            k_best = int(((col == level) & best).sum())
            k_rest = k_all - k_best
            if 0 < k_all < n_all:
                z, p = proportions_ztest([k_best, k_rest], [n_best, n_rest])
            else:  # a value everybody or nobody has: nothing to test
                z, p = np.nan, np.nan
            share_best, share_all = k_best / n_best, k_all / n_all
            rows.append({"attribute": a, "level": level, "best_customers": k_best, "customers": k_all,
                         "share_best": share_best, "share_all": share_all,
                         "index": 100 * share_best / share_all if share_all else np.nan,
                         "z": float(z), "p_value": float(p)})
    out = pd.DataFrame(rows)
    out["p_holm"] = np.nan
    tested = out.p_value.notna() if len(out) else pd.Series(dtype=bool)
    if tested.any():
        out.loc[tested, "p_holm"] = holm(out.loc[tested, "p_value"])
    out["significant"] = (out["p_holm"] < alpha).fillna(False).astype(bool) if len(out) else pd.Series(dtype=bool)
    return out
