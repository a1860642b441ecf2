"""What each section of the workbook needs, asked in one place.

Any subset of the customer information model is a valid database: an order log alone, a
customer master alone, order totals without lines or product costs, no campaigns. Each
notebook section names what it needs (:data:`SECTIONS`); :func:`missing` says, for a
database, which of those things it lacks; :func:`ready` is what a notebook cell calls: it
returns True when the section can run, and otherwise shows one short paragraph saying what
the section would need and how to load it, marked so that the report runner lists the
section as skipped in the report index (:data:`SKIPPED_KEY` in the output's metadata).

A section that cannot run is not a failure; a bug still is.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import sql
from .catalog import table_exists


# The output metadata key under which a skipped section is recorded for the report index.
SKIPPED_KEY = "dbmarketing"


class NotEnoughData(ValueError):
    """A model cannot be fitted on the data there is (too few buyers, too short a history).
    Raised with the catalog's key of the reason and its values (``NotEnoughData("needs.no_buyers",
    as_of=day)``); ``str()`` and :attr:`reason` say what it would need in the reader's language,
    and callers show it as a skipped section."""

    def __init__(self, key: str, **values):
        from dbmarketing.present.words import Phrase

        super().__init__(key, values)
        self.reason = Phrase(key, values)

    def __str__(self) -> str:
        return str(self.reason)


@dataclass(frozen=True)
class Holding:
    """One thing a database may hold: how to count it. What it is and how a user loads it are
    the catalog's words ``needs.what_<name>`` and ``needs.load_<name>`` (spaces as ``_``)."""

    count: str    # the statement counting it (warehouse/sql/needs.sql; 0 = not there)
    table: tuple[str, str] | None = None  # a table that must exist first (schema, name)


HOLDINGS: dict[str, Holding] = {
    "customer records": Holding("needs.customer_records"),
    "orders": Holding("needs.orders"),
    "purchases": Holding("needs.purchases", table=("main", "sales")),
    "product costs": Holding("needs.product_costs"),
    "order lines": Holding("needs.order_lines", table=("main", "order_lines")),
    "product categories": Holding("needs.product_categories", table=("main", "products")),
    "campaigns": Holding("needs.campaigns"),
    "control groups": Holding("needs.control_groups"),
    "service tickets": Holding("needs.service_tickets"),
    "id numbers": Holding("needs.id_numbers"),
    "cities": Holding("needs.cities"),
    "history": Holding("needs.history"),
    "prospect list": Holding("prospects.count_list", table=("main", "prospect_list")),
    "acquisition test": Holding("prospects.count_acquisition", table=("main", "acquisition_contacts")),
}

# section -> the holdings it needs (all of them)
SECTIONS: dict[str, tuple[str, ...]] = {
    "customer types": (),
    "cities and tiers": ("cities",),
    "customer history": ("history",),
    "standardization": ("customer records",),
    "identity resolution": ("customer records",),
    "id numbers": ("customer records", "id numbers"),
    "transactions": ("orders",),
    "customer model": ("purchases",),
    "profit": ("purchases", "product costs"),
    "rfm": ("purchases",),
    "campaign results": ("purchases", "campaigns"),
    "uplift": ("purchases", "campaigns", "control groups"),
    "next campaign": ("purchases", "campaigns", "control groups"),
    "baskets": ("purchases", "order lines"),
    "category baskets": ("purchases", "order lines", "product categories"),
    "sequences": ("purchases", "order lines"),
    "next best offer": ("purchases", "order lines"),
    "responder rules": ("purchases", "campaigns"),
    "event triggers": ("customer records",),
    "trigger results": ("purchases", "campaigns", "control groups"),
    "prospects": ("customer records", "purchases"),
    "prospect list": ("prospect list",),
    "best customers": ("purchases", "customer records"),
    "lookalike": ("purchases", "customer records"),
    "acquisition test": ("prospect list", "acquisition test"),
    "acquisition list": ("purchases", "customer records"),
}


def holdings(con) -> dict[str, int]:
    """What the database holds: name -> count (0 when absent), for every :data:`HOLDINGS`."""
    return {name: _count(con, h) for name, h in HOLDINGS.items()}


def _count(con, holding: Holding) -> int:
    if holding.table is not None and not table_exists(con, *holding.table):
        return 0
    return int(sql.one(con, holding.count)[0] or 0)


def missing(con, section: str) -> list[str]:
    """The holdings a section needs that the database lacks (empty: the section can run)."""
    if section not in SECTIONS:
        raise KeyError(f"unknown section {section!r}; known: {', '.join(SECTIONS)}")
    return [name for name in SECTIONS[section] if _count(con, HOLDINGS[name]) == 0]


# the sections a notebook may skip without a holding of their own (a model that cannot be fitted)
MODEL_SECTIONS = ("pareto", "clv", "clv holdout", "churn", "segments", "migration", "response model", "rollout",
                  "acquisition response model", "first year value", "prospect truth")


def title(section: str) -> str:
    """The title a reader sees for ``section`` (a name in :data:`SECTIONS` or :data:`MODEL_SECTIONS`),
    in the reader's language (the catalog's ``needs.title_<section>``, spaces as ``_``)."""
    from dbmarketing.present import words

    if section not in SECTIONS and section not in MODEL_SECTIONS:
        raise KeyError(f"unknown section {section!r}; known: {', '.join((*SECTIONS, *MODEL_SECTIONS))}")
    return words.text(f"needs.title_{section.replace(' ', '_')}")


def explain(section: str, lacking: list[str]) -> str:
    """One short paragraph, in the reader's language: what the section would need, and how to
    load it (the catalog's ``needs.*`` texts; :class:`Holding` keeps the English words)."""
    from dbmarketing.present import words

    key = {name: name.replace(" ", "_") for name in lacking}
    what = words.text("needs.and").join(words.text(f"needs.what_{key[n]}") for n in lacking)
    how = words.text("needs.then").join(words.text(f"needs.load_{key[n]}") for n in lacking)
    return words.text("needs.lacking", what=what, how=how)


def skip(section: str, reason) -> None:
    """Show that ``section`` (see :func:`title`) is skipped and why (one paragraph; ``reason`` a
    sentence or a :class:`~dbmarketing.present.words.Phrase`), recorded for the report index
    with the reason alone (the index names the section)."""
    from IPython.display import Markdown, display

    from dbmarketing.present import words

    heading, reason = title(section), str(reason)
    text = words.text("needs.skipped", section=heading, reason=reason)
    display(Markdown(text), metadata={SKIPPED_KEY: {"skipped": heading, "reason": _plain(reason)}})


def ready(con, section: str) -> bool:
    """True when ``section`` can run on this database; otherwise show why (:func:`skip`) and
    return False."""
    lacking = missing(con, section)
    if lacking:
        skip(section, explain(section, lacking))
    return not lacking


def _plain(markdown: str) -> str:
    """The reason for the index: bold marks dropped, `code` (names of tables, columns, values) kept."""
    return markdown.replace("**", "")


__all__ = ["HOLDINGS", "MODEL_SECTIONS", "SECTIONS", "title", "SKIPPED_KEY", "NotEnoughData", "explain", "holdings", "missing", "ready", "skip"]
