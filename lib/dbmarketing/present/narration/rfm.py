"""Chapter 04, RFM scoring: the sentences its report prints."""

from __future__ import annotations

import numpy as np
import pandas as pd


def settings(as_of, bins: int, source: str, clearance: int) -> str:
    return f"Scores as of **{as_of}**, {bins} score levels, segment map `{source}`, reader clearance {clearance}."


def no_buyers(as_of) -> str:
    return (f"No consumer had bought by {as_of}: RFM scores purchases (distributors are left "
            "out). Load consumers' orders, or choose a later as_of.")


def overview(scores: pd.DataFrame, buyers: pd.DataFrame, as_of) -> str:
    prospects = int(scores.is_prospect.sum())
    return (f"**{len(scores):,}** consumers signed up by {as_of}: **{len(buyers):,}** have bought "
            f"(scored) and **{prospects:,}** are prospects ({prospects / len(scores):.0%}). "
            f"The scores are stored in `main.rfm_scores` for {as_of}.")


def reading_distributions(buyers: pd.DataFrame) -> str:
    r = buyers.recency.to_numpy(dtype=float)
    f = buyers.frequency.to_numpy(dtype=float)
    m = buyers.monetary.to_numpy(dtype=float)
    return (f"**Reading the charts.** Half of the customers last bought within **{np.median(r):.0f} days**; "
            f"**{(f == 1).mean():.0%}** bought only once; the median customer spent **{np.median(m):,.0f}**, "
            f"the top 1% more than **{np.quantile(m, 0.99):,.0f}**.")


def segments_caption(as_of, n_buyers: int, prospects: str) -> str:
    return (f"RFM segments of consumers as of {as_of}: shares of the {n_buyers:,} buyers "
            f"({prospects}, who never bought, are counted but not in the shares)")


def empty_segments(empty: pd.DataFrame, as_of) -> str:
    if len(empty):
        return (f"**{len(empty)} segment(s) of the map have no customers on {as_of}**, and are left out "
                f"of the tables and charts below:")
    return f"Every segment of the map has customers on {as_of}."


def reading_segments(plot_table: pd.DataFrame, n_buyers: int, segments) -> str:
    top = plot_table.sort_values("revenue_share", ascending=False).iloc[0]
    champ = (segments.role("best") or segments.segments[0]).name  # the map's best customers
    line = ""
    if champ in plot_table.index:
        c = plot_table.loc[champ]
        line = (f"**{champ}** are {100 * c.customers / n_buyers:.1f}% of buyers (as in the table) and bring "
                f"{100 * c.revenue_share:.0f}% of revenue. ")
    return (f"**Reading the chart.** {line}The largest share of revenue comes from **{top.name}** "
            f"({100 * top.revenue_share:.0f}%). Segments whose blue bar is longer than the grey one are worth "
            f"more than their head count; those are the ones to protect first.")


def reading_heatmap(heat: pd.DataFrame, counts: pd.DataFrame) -> str:
    best = heat.stack().idxmax()
    blank = int(counts.isna().sum().sum())
    if blank:
        missing = ", ".join(f"F {f} R {r}" for f in counts.index for r in counts.columns if pd.isna(counts.loc[f, r]))
        note = f"{blank} cell(s) are empty: no customer has that combination ({missing})."
    else:
        note = "Every combination of R and F scores has customers."
    return (f"**Reading the heat-map.** The highest average spend, **{heat.stack().max():,.0f}**, is in the cell "
            f"F {best[0]}, R {best[1]} ({int(counts.loc[best[0], best[1]]):,} customers). " + note)


def pareto(curve) -> str:
    return (f"**The top {curve.top:.0%} of customers bring {curve.top_share:.1%} of revenue** "
            f"({curve.customers:,} buyers, {curve.revenue:,.0f} in net spend).")


def no_earlier(earlier, compare_days: int, as_of) -> str:
    return (f"Nobody had bought by {earlier} ({compare_days} days before {as_of}): there is no "
            "earlier segment to move from. A longer history, or a smaller compare_days, allows it.")


def retention(kept, segments_source: str, earlier) -> str:
    """The retention paragraph for a :class:`dbmarketing.rfm.Retention`."""
    if not kept.good or not kept.slipping:
        return (f"The segment map `{segments_source}` gives no segment the role `best` or `loyal`, or none "
                f"the role `at_risk` or `win_back`, so there is no retention list here. Add `role:` entries to "
                f"the map to get one.")
    lines = []
    for name in kept.good:
        was, stayed, moved = kept.kept[name]
        if not was:
            lines.append(f"Nobody was in {name} on {earlier}.")
            continue
        top = ", ".join(f"**{n:,}** to {to}" for to, n in moved)
        lines.append(f"Of the **{was:,}** {name} on {earlier}, **{stayed:,}** ({stayed / was:.0%}) are still {name}"
                     + (f"; most of the others went {top}." if top else "."))
    good, slipping = " or ".join(kept.good), " or ".join(kept.slipping)
    if kept.slipped:
        lines.append(f"**{kept.slipped:,}** customers who were {good} on {earlier} are now "
                     f"{slipping}: the list below, the first call list of a retention campaign.")
    else:
        lines.append(f"No customer who was {good} on {earlier} is {slipping} now: no retention list this time.")
    return " ".join(lines)


def explored(segment: str, members: int, scored: int, bins: int, method: str, weights) -> str:
    r, f, m = weights
    return (f"**{segment}**: {members:,} customers ({members / scored:.1%}) with {bins} levels, "
            f"{method} binning, weights R {r:g} / F {f:g} / M {m:g}.")


def exports_written(folder: str) -> str:
    return (f"Written to the folder `{folder}` (in a report run, the run's own folder, linked "
            "from its index):")
