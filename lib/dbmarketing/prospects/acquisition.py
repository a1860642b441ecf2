"""Learning from an acquisition test: a past mailing to list prospects with a control group.

- **Did it work?** Test against control (:func:`dbmarketing.campaigns.compare_cells`): the
  response rate of the contacted list rows against the rate of those held out (who become
  customers on their own), the lift and its interval.
- **Who answered?** A response model on the test cell (:func:`~.lookalike.fit_attribute_model`
  on the list's attributes, income band and channel included), and the look-alike scored on
  the **same** hold-out of the test cell: gains (:func:`dbmarketing.campaigns.gains_table`)
  and AUC of both. The look-alike never saw a response; the response model learned from them.
- **Rules**: association rules *attributes -> responded* over the test cell
  (:func:`dbmarketing.baskets.responder_rules`, the basket chapter's engine: support,
  confidence = the response rate of those attributes, lift).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .. import baskets, campaigns, warehouse
from ..warehouse import NotEnoughData
from .lookalike import AttributeModel, fit_attribute_model
from .pool import LIST_ATTRIBUTES

__all__ = ["acquisition_results", "acquisition_lift", "AcquisitionModels", "acquisition_models", "acquisition_rules"]


def acquisition_results(con, pool: pd.DataFrame, as_of) -> pd.DataFrame:
    """Every contact of the past acquisition mailings whose window had closed by ``as_of``, with
    the list row's attributes (from ``pool``, :func:`~.pool.prospects`): campaign_id, list_id,
    cell, contact_date, contact_channel, cost_per_contact, response_window_days, responded (0/1),
    first_order_amount and :data:`~.pool.LIST_ATTRIBUTES`. Rows of the list matched to a
    customer are kept (they were on the list the mailing used)."""
    A = warehouse.resolve_as_of(con, as_of)
    contacts = warehouse.sql.run(con, "prospects.acquisition_contacts", {"as_of": A}).df()
    rows = pool[pool["origin"] == "list"][["list_id", *LIST_ATTRIBUTES, "already_customer"]]
    out = contacts.merge(rows, on="list_id", how="left")
    out["responded"] = out["responded"].fillna(False).astype(bool).astype(int)
    out.attrs["as_of"] = A
    return out


def acquisition_lift(results: pd.DataFrame, alpha: float = 0.05) -> dict:
    """Test against control over ``results`` (:func:`acquisition_results`):
    :func:`dbmarketing.campaigns.compare_cells` of the two cells."""
    t, c = results[results.cell == "test"], results[results.cell == "control"]
    return campaigns.compare_cells(int(t.responded.sum()), len(t), int(c.responded.sum()), len(c), alpha)


@dataclass
class AcquisitionModels:
    """The response model and the look-alike on the same hold-out of the test cell: ``response``
    (the :class:`~.lookalike.AttributeModel`), ``holdout`` (list_id, responded, response_score,
    lookalike_score), ``auc`` (name -> AUC), ``gains`` (name -> gains table)."""

    response: AttributeModel
    holdout: pd.DataFrame
    auc: dict
    gains: dict

    def summary(self) -> pd.DataFrame:
        """One row per model: model, auc, the gain of its top 10%, 20%, 30%, and the top decile's lift."""
        rows = []
        for name, g in self.gains.items():
            rows.append({"model": name, "auc": self.auc[name], "gain_top_10": float(g.gain.iloc[0]),
                         "gain_top_20": float(g.gain.iloc[1]), "gain_top_30": float(g.gain.iloc[2]),
                         "top_decile_lift": float(g.lift.iloc[0])})
        return pd.DataFrame(rows)


def acquisition_models(results: pd.DataFrame, look: AttributeModel, attributes=LIST_ATTRIBUTES,
                       holdout: float = 0.3, seed: int = 42) -> AcquisitionModels:
    """The response model on the test cell of ``results`` and the look-alike ``look`` on its
    hold-out. Raises :class:`~dbmarketing.warehouse.NotEnoughData` when the test cell is too small."""
    from sklearn.metrics import roc_auc_score

    test = results[results.cell == "test"].reset_index(drop=True)
    model = fit_attribute_model(test, test["responded"], attributes, holdout=holdout, seed=seed)
    hold = test.loc[model.holdout.index]
    out = pd.DataFrame({"list_id": hold["list_id"].to_numpy(), "responded": hold["responded"].to_numpy(),
                        "response_score": model.holdout["score"].to_numpy(), "lookalike_score": look.score(hold)})
    auc = {"response": float(roc_auc_score(out.responded, out.response_score)),
           "lookalike": float(roc_auc_score(out.responded, out.lookalike_score))}
    gains = {"response": campaigns.gains_table(out.responded, out.response_score),
             "lookalike": campaigns.gains_table(out.responded, out.lookalike_score)}
    return AcquisitionModels(model, out, auc, gains)


def acquisition_rules(results: pd.DataFrame, attributes=LIST_ATTRIBUTES, min_support: float = 0.02,
                      max_len: int = 3) -> pd.DataFrame:
    """Rules *attributes -> responded* over the test cell (:func:`dbmarketing.baskets.responder_rules`)."""
    if not (results.cell == "test").any():
        raise NotEnoughData("needs.prospects_no_test_cell")
    return baskets.responder_rules(results, attributes, min_support=min_support, max_len=max_len, cell="test")
