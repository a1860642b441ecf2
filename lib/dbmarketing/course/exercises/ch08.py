"""Chapter 08's exercises (prospects): the list rows already customers counted by SQL, the index
of one value in the best-customer profile, and the acquisition test's response rates, each
against what the chapter's own code found."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from dbmarketing.present import words

from .. import Verdict, exercise

TIER = 1  # exercise 08.2: the index of city tier 1


def _number(answer) -> float:
    value = float(answer)
    if math.isnan(value):
        raise ValueError("not a number")
    return value


@exercise("08.1")
def already_customers(answer, pool=None, **_) -> Verdict:
    """How many rows of the external prospect list the cleaning matched to an existing customer."""
    rows = pool[pool.origin == "list"] if pool is not None else None
    if rows is None or rows.empty:
        return Verdict(False, words.text("course_08.needs_list"))
    given = _number(answer)
    matched = rows.already_customer.fillna(False).astype(bool)
    expected, total = int(matched.sum()), len(rows)
    by = rows[matched].matched_by.fillna("?").value_counts()
    facts = dict(expected=expected, rows=total)
    if given == expected:
        how = ("、" if words.lang() == "zh" else ", ").join(f"{n:,} {words.label(k)}" for k, n in by.items())
        return Verdict(True, words.text("course_08.ex1_right", how=how, **facts))
    if given == total:
        return Verdict(False, words.text("course_08.ex1_all_rows", given=int(given), **facts))
    if given == total - expected:
        return Verdict(False, words.text("course_08.ex1_new", given=int(given), **facts))
    if int(given) in {int(n) for n in by} and len(by) > 1:
        return Verdict(False, words.text("course_08.ex1_one_key", given=int(given), **facts))
    return Verdict(False, words.text("course_08.ex1_wrong", given=given, **facts))


@exercise("08.2")
def tier_index(answer, base=None, best=None, **_) -> Verdict:
    """The index of city tier 1 among the best customers: 100 x its share among the best / its
    share among all buyers, counted here from the customer base."""
    if base is None or best is None or not len(base):
        return Verdict(False, words.text("course_08.needs_profile"))
    given = _number(answer)
    tier = pd.to_numeric(base["city_tier"], errors="coerce").to_numpy(dtype=float)
    is_best = np.asarray(best, dtype=bool)
    has = tier == TIER
    n_best, n_all = int(is_best.sum()), len(tier)
    k_best, k_all = int((has & is_best).sum()), int(has.sum())
    if not k_all:
        return Verdict(False, words.text("course_08.needs_tier", tier=TIER))
    share_best, share_all = k_best / n_best, k_all / n_all
    expected = 100 * share_best / share_all
    facts = dict(expected=expected, tier=TIER, share_best=share_best, share_all=share_all)
    near = lambda value: abs(given - value) < 0.05  # noqa: E731  (an index to a twentieth of a point)
    if near(expected):
        return Verdict(True, words.text("course_08.ex2_right", **facts))
    if near(expected / 100):
        return Verdict(False, words.text("course_08.ex2_times_100", given=given, **facts))
    rest = (k_all - k_best) / (n_all - n_best) if n_all > n_best else 0
    if rest and near(100 * share_best / rest):
        return Verdict(False, words.text("course_08.ex2_rest", given=given, **facts))
    known = ~np.isnan(tier)
    if known.sum() < n_all and is_best[known].sum() and near(100 * (k_best / is_best[known].sum()) / (k_all / known.sum())):
        return Verdict(False, words.text("course_08.ex2_unknown", given=given, **facts))
    if near(100 * share_best):
        return Verdict(False, words.text("course_08.ex2_share_only", given=given, **facts))
    return Verdict(False, words.text("course_08.ex2_wrong", given=given, **facts))


@exercise("08.3")
def acquisition_rates(answer, results=None, **_) -> Verdict:
    """The response rates of the acquisition test's test and control cells (closed contacts),
    as a mapping with ``test`` and ``control``."""
    if results is None or results.empty:
        return Verdict(False, words.text("course_08.needs_acquisition"))
    given = {cell: _number(answer[cell]) for cell in ("test", "control")}
    expected = {cell: float(results.responded[results.cell == cell].mean()) for cell in ("test", "control")}
    if any(math.isnan(v) for v in expected.values()):
        return Verdict(False, words.text("course_08.needs_acquisition"))
    facts = dict(test=expected["test"], control=expected["control"],
                 contacts=int((results.cell == "test").sum()), held_out=int((results.cell == "control").sum()))
    near = lambda a, b: abs(a - b) < 0.0005  # noqa: E731
    if all(near(given[c], expected[c]) for c in given):
        return Verdict(True, words.text("course_08.ex3_right", **facts))
    if near(given["test"], expected["control"]) and near(given["control"], expected["test"]):
        return Verdict(False, words.text("course_08.ex3_swapped", **facts))
    if all(near(given[c], 100 * expected[c]) for c in given):
        return Verdict(False, words.text("course_08.ex3_percent", **facts))
    everyone = len(results)
    if all(near(given[c], results.responded[results.cell == c].sum() / everyone) for c in given):
        return Verdict(False, words.text("course_08.ex3_all_contacts", everyone=everyone, **facts))
    return Verdict(False, words.text("course_08.ex3_wrong", **facts))
