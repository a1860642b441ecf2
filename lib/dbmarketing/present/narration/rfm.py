"""Chapter 04, RFM scoring: the sentences its report prints, in the reader's language (the
``rfm.*`` texts of :mod:`dbmarketing.present.words`). Segments are named by their labels in
that language (:meth:`dbmarketing.rfm.Segments.label`)."""

from __future__ import annotations

import pandas as pd

from .. import words
from ..headlines import KEYS, written


def _map(source: str) -> str:
    """The segment map as the settings and retention sentences name it."""
    if source.endswith(" (default)"):
        return words.text("rfm.map_default")
    return words.text("rfm.map_file", source=source)


def _either(names, segments) -> str:
    """Segment names as one phrase: "Champions or Loyal customers"."""
    return words.text("rfm.or").join(segments.label(n) for n in names)


def settings(as_of, bins: int, source: str, clearance: int) -> str:
    return words.text("rfm.settings", as_of=as_of, bins=bins, map=_map(source), clearance=clearance)


def no_buyers(as_of) -> str:
    return words.text("rfm.no_buyers", as_of=as_of)


def overview(customers: int, prospects: int, as_of) -> str:
    """``customers``: the consumers scored at ``as_of``, buyers and ``prospects``."""
    return words.text("rfm.overview", consumers=customers, as_of=as_of, buyers=customers - prospects,
                      prospects=prospects, prospect_share=prospects / customers)


def reading_distributions(dist) -> str:
    """``dist``: :func:`dbmarketing.rfm.distributions` of the buyers."""
    return words.text("rfm.reading_distributions", median_recency=dist.median_recency, once=dist.once,
                      median_monetary=dist.median_monetary, top_monetary=dist.top_monetary)


def segments_caption(as_of, n_buyers: int, prospects: str) -> str:
    """``prospects``: the prospects' label in the reader's language."""
    return words.text("rfm.segments_caption", as_of=as_of, n_buyers=n_buyers, prospects=prospects)


def empty_segments(empty: pd.DataFrame, as_of) -> str:
    if len(empty):
        return words.text("rfm.empty_some", count=len(empty), as_of=as_of)
    return words.text("rfm.empty_none", as_of=as_of)


def reading_segments(plot_table: pd.DataFrame, n_buyers: int, segments) -> str:
    """``plot_table``: the segment table of the buyers (:func:`dbmarketing.rfm.segment_table`,
    indexed by segment name)."""
    top = plot_table.sort_values("revenue_share", ascending=False).iloc[0]
    champ = (segments.role("best") or segments.segments[0]).name  # the map's best customers
    line = ""
    if champ in plot_table.index:
        c = plot_table.loc[champ]
        line = words.text("rfm.reading_best", segment=segments.label(champ), buyer_share=100 * c.customers / n_buyers,
                          revenue_share=100 * c.revenue_share)
    return words.text("rfm.reading_segments", best=line, top=segments.label(top.name),
                      top_share=100 * top.revenue_share)


def reading_heatmap(heat: pd.DataFrame, counts: pd.DataFrame) -> str:
    best = heat.stack().idxmax()
    blank = int(counts.isna().sum().sum())
    if blank:
        missing = words.text("rfm.list_sep").join(words.text("rfm.heat_cell", f=f, r=r) for f in counts.index
                                                 for r in counts.columns if pd.isna(counts.loc[f, r]))
        note = words.text("rfm.heat_blank", blank=blank, missing=missing)
    else:
        note = words.text("rfm.heat_full")
    return words.text("rfm.reading_heatmap", best=heat.stack().max(), f=best[0], r=best[1],
                      customers=int(counts.loc[best[0], best[1]]), note=note)


def pareto(curve, share: str | None = None) -> str:
    """``share``: the top customers' share of revenue as the headline wrote it
    (:func:`dbmarketing.present.headline`); None writes it the same way."""
    share = share if share is not None else written(curve.top_share, KEYS["top20_revenue_share"])
    return words.text("rfm.pareto", top=curve.top, share=share, customers=curve.customers, revenue=curve.revenue)


def no_earlier(earlier, compare_days: int, as_of) -> str:
    return words.text("rfm.no_earlier", earlier=earlier, compare_days=compare_days, as_of=as_of)


def retention(kept, segments, earlier) -> str:
    """The retention paragraph for a :class:`dbmarketing.rfm.Retention` over the map ``segments``."""
    if not kept.good or not kept.slipping:
        return words.text("rfm.no_roles", map=_map(segments.source))
    lines = []
    for name in kept.good:
        was, stayed, moved = kept.kept[name]
        label = segments.label(name)
        if not was:
            lines.append(words.text("rfm.kept_nobody", segment=label, earlier=earlier))
            continue
        top = words.text("rfm.list_sep").join(words.text("rfm.moved_to", customers=n, segment=segments.label(to))
                                              for to, n in moved)
        lines.append(words.text("rfm.kept", was=was, segment=label, earlier=earlier, stayed=stayed,
                                stayed_share=stayed / was)
                     + (words.text("rfm.kept_moved", moves=top) if top else words.text("rfm.kept_end")))
    good, slipping = _either(kept.good, segments), _either(kept.slipping, segments)
    if kept.slipped:
        lines.append(words.text("rfm.slipped", slipped=kept.slipped, good=good, earlier=earlier, slipping=slipping))
    else:
        lines.append(words.text("rfm.slipped_none", good=good, earlier=earlier, slipping=slipping))
    return words.text("rfm.sentence_sep").join(lines)


def movers_caption(kept, segments, earlier, as_of) -> str:
    """The caption of the retention list: who was good on ``earlier`` and is slipping on ``as_of``."""
    return words.text("rfm.movers_caption", good=_either(kept.good, segments), earlier=earlier,
                      slipping=_either(kept.slipping, segments), as_of=as_of)


def explored(segment: str, members: int, scored: int, bins: int, method: str, weights) -> str:
    """``segment``: its label in the reader's language; ``method``: "independent" or "nested"."""
    r, f, m = weights
    return words.text("rfm.explored", segment=segment, members=members, share=members / scored, bins=bins,
                      method=words.text(f"rfm.method_{method}"), r=r, f=f, m=m)


def exports_written(folder: str, most: int) -> str:
    """``most``: the longest list also written as .xlsx (:data:`dbmarketing.rfm.XLSX_MOST`)."""
    return words.text("rfm.exports_written", folder=folder, most=most)
