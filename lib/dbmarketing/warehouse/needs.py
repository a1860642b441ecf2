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
    The message says what it would need; callers show it as a skipped section."""


@dataclass(frozen=True)
class Holding:
    """One thing a database may hold: how to count it, and how a user loads it."""

    what: str     # in words, as in "needs <what>"
    count: str    # the statement counting it (warehouse/sql/needs.sql; 0 = not there)
    load: str     # how to get it into the database
    table: tuple[str, str] | None = None  # a table that must exist first (schema, name)


HOLDINGS: dict[str, Holding] = {
    "customer records": Holding(
        "a customer master (customer records with personal data)",
        "needs.customer_records",
        "load a customer export into the `customers` table (README, *Bring your own data*)"),
    "orders": Holding(
        "orders", "needs.orders",
        "load an order export into the `orders` table (order totals in `amount:`, or order lines), or an "
        "event log with `format: cdnow`"),
    "purchases": Holding(
        "purchases (completed sales counted by the cleaning)",
        "needs.purchases",
        "load orders, then run notebook 02 (data cleaning)", table=("main", "sales")),
    "product costs": Holding(
        "product costs (`unit_cost` of the products)",
        "needs.product_costs",
        "load a product master with a unit cost into the `products` table, and order lines with a `product_id`"),
    "campaigns": Holding(
        "campaigns with their contacts", "needs.campaigns",
        "load the campaigns into `campaigns` and who was selected into `contacts` (cell test or control)"),
    "control groups": Holding(
        "campaign contacts held out as a control group (cell = control)",
        "needs.control_groups",
        "hold out a random control group in every campaign and load it into `contacts` with cell control"),
    "service tickets": Holding(
        "service tickets", "needs.service_tickets",
        "load the help-desk export into `service_tickets`"),
    "id numbers": Holding(
        "resident ID numbers", "needs.id_numbers",
        "map the ID number column (`id_number:`) in the customer source, if your system keeps one"),
    "cities": Holding(
        "customers' cities", "needs.cities",
        "map the customers' city column (`city:`) in the customer source"),
    "history": Holding(
        "customer records loaded more than once (a later export that changed them)",
        "needs.history",
        "load each new customer export as it comes: changed customers get a new version"),
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


def explain(section: str, lacking: list[str]) -> str:
    """One short paragraph: what the section would need, and how to load it."""
    what = " and ".join(HOLDINGS[n].what for n in lacking)
    how = "; ".join(HOLDINGS[n].load for n in lacking)
    return f"**Skipped: {section}.** It needs {what}, which this database does not hold yet. To get it: {how}."


def skip(title: str, reason: str) -> None:
    """Show that a section is skipped and why (one paragraph), recorded for the report index."""
    from IPython.display import Markdown, display

    text = reason if reason.startswith("**Skipped") else f"**Skipped: {title}.** {reason}"
    display(Markdown(text), metadata={SKIPPED_KEY: {"skipped": title, "reason": _plain(text)}})


def ready(con, section: str, title: str | None = None) -> bool:
    """True when ``section`` can run on this database; otherwise show why (:func:`skip`) and
    return False."""
    lacking = missing(con, section)
    if lacking:
        skip(title or section, explain(title or section, lacking))
    return not lacking


def _plain(markdown: str) -> str:
    return markdown.replace("**", "").replace("`", "")


__all__ = ["HOLDINGS", "SECTIONS", "SKIPPED_KEY", "NotEnoughData", "explain", "holdings", "missing", "ready", "skip"]
