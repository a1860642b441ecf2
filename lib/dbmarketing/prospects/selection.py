"""The acquisition list: every eligible prospect ranked by expected value.

expected value = P(first purchase) x expected first-year value of similar new customers
                 - the cost of the contact

- **P(first purchase)** (:func:`purchase_probability`): for list rows, when an acquisition test
  was learned from, the response model's probability (it was fitted on contacted list rows, so
  it is a probability of answering a contact); otherwise the look-alike's score brought to the
  scale of a response rate: ``expected_response`` x score / the average score of the prospects
  of the same origin (the look-alike ranks, it does not know how many answer; the column
  ``p_basis`` says which was used).
- **First-year value** (:func:`first_year_value`): what the consumers who made their first
  purchase in the last ``years`` years (each with a full first year observed) bought in their
  first 365 days -- margin where product costs are known, otherwise revenue -- averaged per cell
  of the shared attributes and **shrunk** to the overall mean where a cell is small:
  (n x cell mean + k x overall mean) / (n + k), k = ``shrink`` (a cell of k new customers is
  trusted half).
- **Who is left out, counted** (:func:`acquisition_list`, in order, through
  :func:`dbmarketing.campaigns.policy.left_out_by`): list rows already customers, prospects who
  answered an earlier acquisition mailing, list rows the vendor does not let us contact by this
  channel, then the contact policy's reach rules (consent for the channel, a contact point, the
  do-not-contact file -- the list's own flag too), no positive expected value, beyond the list size.
- **A random control group** (:func:`dbmarketing.campaigns.assign_cells`, within each origin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from .. import campaigns, privacy, warehouse
from ..campaigns.policy import left_out_by
from ..present import words
from ..warehouse import NotEnoughData
from .lookalike import AttributeModel
from .pool import SHARED_ATTRIBUTES, attribute_values

__all__ = ["FirstYearValue", "first_year_value", "purchase_probability", "expected_values", "AcquisitionList",
           "acquisition_list", "LIST_COLUMNS", "export_acquisition_list", "contact_cost"]


@dataclass
class FirstYearValue:
    """What a new customer brings in a first year, per cell of ``attributes``: ``table``
    (attributes, new_customers, mean_value, value = the shrunk mean), ``overall`` (the mean of
    all new customers), ``measure`` ("margin" or "revenue"), ``shrink`` (k)."""

    attributes: tuple
    table: pd.DataFrame
    overall: float
    measure: str
    shrink: float
    new_customers: int
    years: int = 0

    def of(self, frame: pd.DataFrame) -> np.ndarray:
        """The expected first-year value of each row of ``frame`` (its cell's; the overall mean
        for a cell no new customer is in)."""
        keys = attribute_values(frame, self.attributes)
        merged = keys.merge(self.table[[*self.attributes, "value"]], on=list(self.attributes), how="left")
        return merged["value"].fillna(self.overall).to_numpy(dtype=float)


def first_year_value(con, as_of, base: pd.DataFrame, attributes=SHARED_ATTRIBUTES, years: int = 3,
                     shrink: float = 30.0) -> FirstYearValue:
    """The first-year value of the consumers of ``base`` (a :func:`~.pool.customer_base` of
    ``as_of``) whose first purchase was between ``years`` years and one year before ``as_of``."""
    A = warehouse.resolve_as_of(con, as_of)
    sales = warehouse.sql.run(con, "prospects.first_year_sales", {
        "as_of": A, "first_start": A - timedelta(days=365 * int(years)), "last_start": A - timedelta(days=365)}).df()
    if len(sales) < 10:
        raise NotEnoughData("needs.prospects_new_customers", customers=len(sales), years=int(years), as_of=A)
    measure = "margin" if bool((sales["orders_with_margin"] == sales["orders"]).all()) else "revenue"
    sales["value"] = sales[measure].astype(float)
    keyed = attribute_values(base, attributes).assign(customer_id=base["customer_id"].to_numpy())
    sales = sales.merge(keyed, on="customer_id", how="left")
    for a in attributes:
        sales[a] = sales[a].fillna("(unknown)")
    overall = float(sales["value"].mean())
    cells = sales.groupby(list(attributes)).agg(new_customers=("value", "size"), mean_value=("value", "mean")).reset_index()
    k = float(shrink)
    cells["value"] = (cells.new_customers * cells.mean_value + k * overall) / (cells.new_customers + k)
    return FirstYearValue(tuple(attributes), cells, overall, measure, k, len(sales), int(years))


def purchase_probability(pool: pd.DataFrame, look: AttributeModel, response: AttributeModel | None = None,
                         expected_response: float = 0.03) -> tuple[np.ndarray, np.ndarray]:
    """P(first purchase | contacted) for every prospect of ``pool`` and its basis ("response
    model" or "look-alike"); see the module's docstring."""
    p = np.zeros(len(pool))
    basis = np.empty(len(pool), dtype=object)
    origin = pool["origin"].to_numpy()
    for o in pd.unique(origin):
        rows = origin == o
        if o == "list" and response is not None:
            p[rows] = response.score(pool[rows])
            basis[rows] = "response model"
        else:
            s = look.score(pool[rows])
            p[rows] = np.clip(expected_response * s / s.mean(), 0, 1) if s.mean() > 0 else expected_response
            basis[rows] = "look-alike"
    return p, basis


def expected_values(pool: pd.DataFrame, p, value: FirstYearValue, cost_per_contact: float) -> pd.DataFrame:
    """``pool`` with p_first_purchase, first_year_value and expected_value = p x value - cost."""
    out = pool.copy()
    out["p_first_purchase"] = np.asarray(p, dtype=float)
    out["first_year_value"] = value.of(pool)
    out["expected_value"] = out.p_first_purchase * out.first_year_value - float(cost_per_contact)
    return out


@dataclass
class AcquisitionList:
    """``listed``: the prospects chosen, best first (rank, cell test/control); ``eligible``: every
    prospect the exclusion rules let through, before the value and size cuts; ``excluded``: the
    count table (reason, prospects), the total first (the list rows already customers included);
    ``prospects``: the prospects, those rows left out."""

    listed: pd.DataFrame
    eligible: pd.DataFrame
    excluded: pd.DataFrame
    prospects: int = 0


def acquisition_list(con, scored: pd.DataFrame, channel: str, size: int | None = None, control_share: float = 0.1,
                     seed: int = 42, answered=()) -> AcquisitionList:
    """The acquisition list for ``channel`` from ``scored`` (:func:`expected_values`): the
    exclusions in order, counted; then the prospects of positive expected value, best first,
    at most ``size`` (None: all); a random ``control_share`` of them held out. ``answered``:
    prospect ids who answered an earlier acquisition mailing (they are customers now)."""
    if channel not in campaigns.CHANNEL_CONSENT:
        raise ValueError(f"channel must be one of {', '.join(campaigns.CHANNEL_CONSENT)}, got {channel!r}")
    frame = scored.sort_values("expected_value", ascending=False, kind="stable").reset_index(drop=True)
    t = words.of("prospects")
    reach = campaigns.reach_rules(con, frame, channel)
    no_contact = reach[2][1] | frame["do_not_contact"].fillna(False).astype(bool)
    rules = [
        (t("reason_already_customer"), frame["already_customer"].fillna(False).astype(bool)),
        (t("reason_answered"), frame["prospect_id"].isin(set(answered))),
        (t("reason_list_channel", channel=words.label(channel)),
         (frame["origin"] == "list") & (frame["channel"].astype(object) != channel).fillna(True).astype(bool)),
        reach[0], reach[1], (reach[2][0], no_contact),
    ]
    left, _ = left_out_by(rules, (t("reason_total"), len(frame)))
    eligible = frame[~left]
    positive = eligible["expected_value"] > 0
    chosen = eligible[positive]
    beyond = pd.Series(False, index=frame.index)
    if size is not None:
        beyond[chosen.index[int(size):]] = True
    rules += [(t("reason_no_value"), ~frame["expected_value"].gt(0)), (t("reason_beyond_size", size=size or 0), beyond)]
    left, excluded = left_out_by(rules, (t("reason_total"), len(frame)))
    listed = frame[~left].reset_index(drop=True)
    listed.insert(0, "rank", np.arange(1, len(listed) + 1))
    if len(listed) >= 2:
        listed["cell"] = campaigns.assign_cells(listed, control_share, strata="origin", seed=seed).to_numpy()
    else:
        listed["cell"] = "test"
    excluded = pd.concat([excluded, pd.DataFrame([(t("reason_listed"), len(listed))], columns=excluded.columns)],
                         ignore_index=True).rename(columns={"customers": "prospects"})
    prospects = int((~frame["already_customer"].fillna(False).astype(bool)).sum())
    return AcquisitionList(listed, eligible.reset_index(drop=True), excluded, prospects)


LIST_COLUMNS = ("rank", "prospect_id", "origin", "cell", "name", "phone", "email", "city", "age_band", "gender",
                "income_band", "p_first_purchase", "first_year_value", "expected_value")


def export_acquisition_list(con, listed: pd.DataFrame, path, clearance: int, about: str | None = None):
    """Write the list (:data:`LIST_COLUMNS`) to ``path`` (.csv or .xlsx) through
    :func:`dbmarketing.privacy.export_frame`: name, phone and e-mail masked below their tiers."""
    return privacy.export_frame(listed[[c for c in LIST_COLUMNS if c in listed.columns]], path, clearance, con=con,
                                about=about)


def contact_cost(con, channel: str, cost_per_contact: float = 0.0) -> float:
    """The cost of one contact: ``cost_per_contact`` when above 0, else that of the newest
    campaign of ``channel`` (0 when no campaign used it)."""
    if cost_per_contact and float(cost_per_contact) > 0:
        return float(cost_per_contact)
    if not warehouse.table_exists(con, "main", "campaigns"):
        return 0.0
    row = warehouse.sql.one(con, "campaigns.newest_cost_per_contact", {"channel": channel})
    return float(row[0]) if row and row[0] is not None else 0.0
