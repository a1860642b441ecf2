"""Chapter 02, data cleaning: the sentences its report prints."""

from __future__ import annotations

import pandas as pd

# Dimensions no cleaning rule raises: tasks for the business (collect, confirm, keep exporting).
BUSINESS_DIMENSIONS = ("completeness", "timeliness")


def analyst_copy(db_path, clearance: int) -> str:
    return (f"{db_path} is an analyst copy published at clearance {clearance}: "
            "cleaning runs on the full database; run notebooks 03-05 on the copy")


def run_summary(result) -> str:
    return (f"Cleaning run **{result.run_id}** on the data as extracted up to **{result.as_of}** (orders dated after "
            f"their own delivery's extraction date are future-dated): **{result.records:,}** customer records became "
            f"**{result.masters:,}** customers ({result.merged_records:,} records merged into another record's customer), "
            f"in {result.seconds:.0f} seconds.")


NO_PROVINCE_MAPPING = ("No province needed mapping: every recorded province was already in its standard form, "
                       "or none was recorded.")


def id_upgrade(story: dict) -> str:
    return (f"**{story['legacy_15_digit']:,}** records held a 15-digit number; **{story['upgraded_to_18']:,}** became valid "
            f"18-digit numbers. **{story['same_number_as_another_record']:,}** of them then equal another record's number -- "
            f"the same person seen in both forms -- and **{story['merged_into_one_customer']:,}** of those are now one customer. "
            "Records sharing a valid ID number are always merged (an ID number belongs to one person by law), even where "
            "the other fields disagree too much for the match model alone.")


def findings(findings: pd.DataFrame) -> str:
    if not len(findings):
        return "Nothing was left that the standardization could not repair: no findings in this run."
    return (f"**{int(findings.records.sum()):,}** findings of **{len(findings)}** kinds. A finding names the kind of "
            "problem only; the value and the part at fault (a check digit, a mobile prefix, a mistyped domain) are "
            "in `raw_value` and `derived_value`, which are highly private.")


READING_MATCH_WEIGHTS = """\
**Reading the chart.** Green bars are evidence *for* a match, red bars evidence against. An
exact ID-number or phone match carries far more weight than an exact name match, because
many people share a name but almost nobody shares a phone. "All other comparisons" (the
values differ) pushes the pair apart. Grey bars are levels the data could not estimate --
no training pair ever showed them -- so the model uses splink's cautious starting value;
they are listed so that nobody mistakes them for learned evidence. Each m is learned in a
session whose candidate pairs were chosen by *another* field (pairs sharing a phone teach
what names look like for one person), and a session is skipped, with its reason, when it
finds no pairs or when a field turns out conclusive within its pairs."""


def candidate_pairs(pairs: pd.DataFrame, min_probability: float, threshold: float) -> str:
    return (f"**{len(pairs):,}** candidate pairs with a match probability of at least {min_probability:.0%} (the rest are clearly "
            f"different people and not kept); **{int((pairs.match_probability >= threshold).sum()):,}** at or "
            "above the threshold.")


def truth_score(score: dict | None) -> str:
    if score is None:
        return "This database has no planted truth (it is not the sample): precision and recall cannot be measured."
    return (f"Precision **{score['precision']:.3f}**, recall **{score['recall']:.3f}** "
            f"({score['correct_pairs']:,} of {score['true_pairs']:,} planted duplicate pairs found, "
            f"{score['predicted_pairs'] - score['correct_pairs']:,} wrongly merged).")


def _pairs(n: int) -> str:
    return f"{n} pair" + ("" if n == 1 else "s")


def borderline(sure: dict, near: pd.DataFrame, threshold: float) -> str:
    """The paragraph over the pairs nearest the threshold (:func:`dbmarketing.cleanse.borderline_pairs`
    shows up to half of its rows below the threshold)."""
    below_shown = min(sure["below"], 4)
    above_shown = near.pair.nunique() - below_shown
    text = (f"Of the **{sure['pairs']:,}** pairs kept, **{sure['below']:,}** scored between {sure['min_probability']:.0%} and "
            f"the threshold {threshold} (not merged by the model; the same-ID rule may still link them), "
            f"**{sure['just_above']:,}** just above it (from {threshold} to below {sure['sure']}) and "
            f"**{sure['sure_pairs']:,}** at {sure['sure']} or more. ")
    if sure["below"] + sure["just_above"] == 0:
        return text + "No pair is in doubt here: the table shows the merged pairs that scored lowest."
    text += (f"The table shows the {_pairs(below_shown)} below the threshold that scored highest"
             + (f" (up to {sure['highest_below']:.2f})" if below_shown else "")
             + f" and the {above_shown} merged pair{'' if above_shown == 1 else 's'} that scored lowest"
             + (f" (from {sure['lowest_above']:.2f})" if above_shown else "") + ".")
    if sure["just_above"] == 0 and sure["below"] < 4:
        text += " Few pairs are in doubt: most merged pairs in the table are ones the model is sure of."
    return text


def improved(summary) -> str:
    if not len(summary.improved):
        return "No score rose in this run: the data were already in standard form."
    raised = "; ".join(f"{r.field} {r.dimension} from {r.before:.0%} to {r.after:.0%}"
                       for r in summary.improved.head(4).itertuples())
    return f"**What cleaning raised most:** {raised}."


def lowest(summary) -> str:
    low = summary.lowest
    if not len(low):
        return "Every score is 100% after cleaning."
    lines = []
    for meaning, group in low.groupby("meaning", sort=False):  # cells that mean the same, together
        cells = ", ".join(f"{r.field} {r.after:.0%}" for r in group.itertuples())
        details = "; ".join(d for d in group.detail if d)
        lines.append(f"- **{group.dimension.iloc[0]}**: {cells}" + (f" ({details})" if details else "") + f". {meaning.capitalize()}.")
    business = int(low.dimension.isin(BUSINESS_DIMENSIONS).sum())
    share = "All" if business == len(low) else f"{business} of the"
    text = (f"{share} {len(low)} lowest cells are completeness or timeliness: no cleaning rule raises them; they are "
            "tasks for the business (collect the missing data, ask customers to confirm theirs, keep the exports coming).")
    if business < len(low):
        text += f" The other {len(low) - business} are validity or uniqueness left after cleaning: values for the source owners to correct."
    return "**The lowest scores after cleaning, and what they mean:**\n\n" + "\n".join(lines) + "\n\n" + text
