"""The tables chapter 04 shows beside the scores, and its business rules: what each score
level covers, the segments' shares, who slipped from the best segments to the ones at risk
(the retention list), which segment to show first, and which segments to export."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["measure_summary", "score_ranges", "Retention", "retention",
           "first_segment", "export_segments", "slug", "segment_members"]

_MEASURES = {"recency": "recency (days)", "frequency": "frequency (orders)", "monetary": "monetary (net spend)",
             "avg_order_value": "average order value"}


def measure_summary(buyers: pd.DataFrame) -> pd.DataFrame:
    """Recency, frequency, monetary value and average order value of the buyers: count, mean,
    spread and the quintile edges (20%, 40%, 50%, 60%, 80%), one row per measure."""
    stats = buyers[list(_MEASURES)].astype("float64").describe(percentiles=[0.2, 0.4, 0.5, 0.6, 0.8]).T
    stats.index = list(_MEASURES.values())
    return stats


def score_ranges(buyers: pd.DataFrame) -> pd.DataFrame:
    """What each score level covers: one row per level, and per measure the lowest and highest
    value of the level (``recency_from``, ``recency_to`` in days, ``frequency_*`` in orders, both
    whole numbers; ``monetary_*`` money) and its customers (``recency_customers`` ...): ties make
    the levels unequal, most of all in frequency."""
    parts = []
    for col, value in (("r_score", "recency"), ("f_score", "frequency"), ("m_score", "monetary")):
        g = buyers.groupby(col)[value].agg(["min", "max", "size"])
        g.columns = [f"{value}_from", f"{value}_to", f"{value}_customers"]
        if value != "monetary":
            g[[f"{value}_from", f"{value}_to"]] = g[[f"{value}_from", f"{value}_to"]].round().astype("Int64")
        parts.append(g.rename_axis("score"))
    out = pd.concat(parts, axis=1).sort_index()
    counts = [c for c in out.columns if c.endswith("_customers")]
    out[counts] = out[counts].astype("Int64")
    return out.reset_index().assign(score=lambda f: f["score"].astype(int))


@dataclass
class Retention:
    """Who left the best segments for the slipping ones between two dates.

    ``good``: the map's segments with the role best or loyal; ``slipping``: at_risk or
    win_back (empty when the map gives no such roles: then there is no retention list).
    ``kept``: per good segment (was, stayed, [(to, customers), ...] the three biggest moves
    elsewhere); ``slipped``: customers who were good and are slipping now."""
    good: list[str]
    slipping: list[str]
    kept: dict[str, tuple[int, int, list[tuple[str, int]]]] = field(default_factory=dict)
    slipped: int = 0


def retention(moves: pd.DataFrame, segments) -> Retention:
    """The retention rule over a migration matrix (:func:`dbmarketing.rfm.migration`: rows the
    earlier segment, columns the later one)."""
    good = [s.name for s in (segments.role("best"), segments.role("loyal")) if s]
    slipping = [s.name for s in (segments.role("at_risk"), segments.role("win_back")) if s]
    result = Retention(good, slipping)
    if not good or not slipping:
        return result

    def count(a, b):
        return int(moves.loc[a, b]) if a in moves.index and b in moves.columns else 0

    for name in good:
        was = int(moves.loc[name].sum()) if name in moves.index else 0
        moved = moves.loc[name].drop(index=name, errors="ignore").sort_values(ascending=False) if was else None
        top = [(to, int(n)) for to, n in moved[moved > 0].head(3).items()] if was else []
        result.kept[name] = (was, count(name, name) if was else 0, top)
    result.slipped = sum(count(a, b) for a in good for b in slipping)
    return result


def first_segment(segments, table: pd.DataFrame) -> str:
    """The segment shown first: the map's customers at risk, or else its largest segment of buyers."""
    at_risk = segments.role("at_risk")
    return at_risk.name if at_risk else table.drop(index=segments.prospects.name, errors="ignore").customers.idxmax()


def export_segments(segments) -> list[str]:
    """The segments whose lists are exported: the best customers and the ones at risk (the map's
    roles), or else the map's first segment."""
    names = [s.name for s in (segments.role("best"), segments.role("at_risk")) if s]
    return names or [segments.segments[0].name]


def slug(name: str) -> str:
    """A segment name as part of a file name: ``"Can't Lose Them"`` -> ``cant_lose_them``."""
    return name.lower().replace(" ", "_").replace("'", "")


def segment_members(con, scored: pd.DataFrame, segment: str) -> pd.DataFrame:
    """The customers of one segment with their name, phone and city (mask them for the reader
    with :func:`dbmarketing.present.show_table`), best combined score first."""
    from .. import warehouse

    contacts = warehouse.sql.run(con, "rfm.contact_details").df()
    members = scored[scored.segment == segment].merge(contacts, on="customer_id", how="left")
    return members.sort_values(["rfm_score", "monetary", "customer_id"], ascending=[False, False, True])
