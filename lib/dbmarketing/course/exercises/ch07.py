"""Chapter 07's exercises (baskets): one rule's support, confidence and lift counted from the
order lines, and the number of frequent product pairs, each against what the chapter's Apriori
search (counted in the database) found."""

from __future__ import annotations

import math

from dbmarketing.present import words

from .. import Verdict, exercise

MEASURES = ("support", "confidence", "lift")


def _first_pair_rule(rules):
    """The first rule of the rule table (strongest lift first) with one product on each side."""
    if rules is None or len(rules) == 0:
        return None
    for row in rules.itertuples():
        if len(row.antecedent) == 1 and len(row.consequent) == 1:
            return row
    return None


def _close(given: float, expected: float) -> bool:
    return math.isclose(given, expected, rel_tol=1e-6, abs_tol=1e-9)


@exercise("07.1")
def pair_measures(answer, rules=None, **_) -> Verdict:
    """Support, confidence and lift of the first rule with one product on each side, as a
    mapping (or a one-row frame) with those three names."""
    rule = _first_pair_rule(rules)
    if rule is None:
        return Verdict(False, words.text("course_07.needs_rules"))
    if hasattr(answer, "iloc") and hasattr(answer, "columns"):  # a one-row DataFrame
        answer = answer.iloc[0].to_dict()
    given = {m: float(answer[m]) for m in MEASURES}
    a, c = rule.antecedent[0], rule.consequent[0]
    expected = {"support": float(rule.support), "confidence": float(rule.confidence), "lift": float(rule.lift)}
    facts = dict(a=a, c=c, **expected)
    if all(_close(given[m], expected[m]) for m in MEASURES):
        return Verdict(True, words.text("course_07.ex1_right", **facts))
    wrong = [m for m in MEASURES if not _close(given[m], expected[m])]
    n = rules.attrs.get("transactions") or 0
    reversed_confidence = float(rule.support) / float(rule.consequent_support)
    if "support" in wrong and n and _close(given["support"], float(rule.support) * n):
        return Verdict(False, words.text("course_07.ex1_count", given=given["support"], **facts))
    if "support" in wrong and given["support"] > 1:
        return Verdict(False, words.text("course_07.ex1_support_share", **facts))
    if "confidence" in wrong and _close(given["confidence"], reversed_confidence):
        return Verdict(False, words.text("course_07.ex1_reversed", given=given["confidence"], **facts))
    if wrong == ["lift"]:
        return Verdict(False, words.text("course_07.ex1_lift", given=given["lift"], **facts))
    return Verdict(False, words.text("course_07.ex1_wrong", measures=", ".join(f"`{m}`" for m in wrong), **facts))


@exercise("07.2")
def frequent_pairs(answer, found=None, **_) -> Verdict:
    """How many product pairs are frequent (support >= the chapter's min_support)."""
    if found is None:
        return Verdict(False, words.text("course_07.needs_found"))
    given = float(answer)
    pairs = found.frequent[found.frequent["size"] == 2]
    expected = len(pairs)
    level = found.levels[found.levels.level == 2]
    candidates = int(level.candidates.iloc[0]) if len(level) else 0
    facts = dict(expected=expected, min_support=found.min_support, min_count=found.min_count,
                 orders=found.transactions)
    if given == expected:
        return Verdict(True, words.text("course_07.ex2_right", **facts))
    if expected and given == 2 * expected:
        return Verdict(False, words.text("course_07.ex2_twice", given=int(given), **facts))
    if candidates and given == candidates and candidates != expected:
        return Verdict(False, words.text("course_07.ex2_candidates", given=int(given), **facts))
    return Verdict(False, words.text("course_07.ex2_wrong", given=given, **facts))
