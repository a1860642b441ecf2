"""Headline figures: the few numbers a manager reads first, recorded where a chapter shows them.

A chapter calls :func:`headline` in the section that explains a figure, right after it
prints it. The figure goes into the executed notebook as an output of its own MIME type
(``application/vnd.dbmarketing.headline+json``: no browser or report shows it), carrying its
key, its value, how to write it and the section's heading. The report runner collects them
(:func:`dbmarketing.reports.executed.headlines`) into the run's manifest, and the index shows
them with their change since the previous run of the same parameters file, each linked to its
section. The headlines a run can have, in the order the index shows them, are :data:`KEYS`;
their names are the catalog's ``headline.<key>`` texts.
"""

from __future__ import annotations

import math

MIME = "application/vnd.dbmarketing.headline+json"

# key -> how its value is written: count (1,234), money (1,234.56), percent (a share, 12.3%)
KEYS = {
    "consumers": "count",
    "distributors": "count",
    "prospects": "count",
    "active_buyers": "count",
    "top20_revenue_share": "percent",
    "at_risk_customers": "count",
    "at_risk_value": "money",
    "campaign_incremental_profit": "money",
    "trigger_customers": "count",
    "trigger_incremental_profit": "money",
    "next_best_offers": "count",
    "acquisition_contacts": "count",
    "acquisition_expected_value": "money",
}


def written(value, kind: str) -> str:
    """``value`` as the index and the section write it ("–" when it is not known)."""
    if not math.isfinite(value):
        return "–"
    if kind == "percent":
        return f"{100 * value:.1f}%"
    if kind == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def change(now, before, kind: str) -> str:
    """The change from ``before`` to ``now``, signed (+1,234; -0.4 pts for shares)."""
    delta = now - before
    if kind == "percent":
        return f"{100 * delta:+.1f} pts"
    if kind == "money":
        return f"{delta:+,.2f}"
    return f"{delta:+,.0f}"


def headline(key: str, value, section: str, note: str | None = None) -> str:
    """Record the headline figure ``key`` (one of :data:`KEYS`) with ``value``, explained in the
    section whose heading is ``section`` (its words as the notebook's markdown writes them).
    ``note``: a few words of context the index shows under the figure (e.g. the campaign's
    name). A value that is not a finite number is not recorded. Returns the figure as written,
    for the sentence that shows it."""
    from IPython.display import display

    if key not in KEYS:
        raise KeyError(f"headline {key!r} is not one of {', '.join(KEYS)}")
    value = float(value)
    if not math.isfinite(value):  # not known on this data (e.g. a campaign without a control group)
        return written(value, KEYS[key])
    display({MIME: {"key": key, "value": value, "kind": KEYS[key], "text": written(value, KEYS[key]),
                    "section": section, "note": note}}, raw=True)
    return written(value, KEYS[key])
