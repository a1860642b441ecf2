"""Campaigns: what a past campaign really did -- each contact's response, test against
control, lift and its intervals -- who was contacted, as known before the campaign, and who
responded.

The definitions, in plain sentences (the other modules of the package use them):

1. A campaign's selected customers are in ``main.contacts``: the **test** cell was contacted,
   the **control** cell was held out at random and not contacted. Both cells are followed in
   the same way, so the control cell shows what would have happened without the contact.
2. A contact's **response** is any counted purchase (``main.sales``) by the customer -- the
   master customer, so purchases under any of her merged records count -- dated on or after
   the contact date and before the end of the response window (contact date +
   ``response_window_days``): the "matchback" of direct marketing. Revenue and margin in the
   window are those purchases' net amount and margin.
3. **Lift** is the test response rate minus the control rate (absolute) and its ratio to the
   control rate (relative). **Incremental responders** = lift x contacted; incremental revenue
   and margin likewise from the revenue and margin per selected customer in each cell.
   **ROI** = (incremental margin - contact cost) / contact cost (1.5 = each unit spent on
   contacts came back with 1.5 more). The **break-even response rate** is the cost of a
   contact divided by the margin of a responder: below it, even a campaign that got every
   response credited loses money. The **break-even lift** is the cost of a contact divided by
   the margin per *incremental* responder (incremental margin / incremental responders): the
   lift over control the campaign needed to pay for itself, the figure a control group checks.
4. Rates have Wilson 95% intervals; test and control are compared with a two-sided
   two-proportion z-test (pooled variance) and a Newcombe interval for the difference
   (statsmodels). A cell with fewer than ``min_contacts`` customers or ``min_responders``
   responders carries a warning: its rates are too noisy to act on.
5. Features for models and breakdowns are taken **as of the day before the campaign
   started** (:func:`contact_features`): the customer 360 view, RFM scores and segment, value
   tier by profit. Nothing the campaign caused can leak into them.

Reference: R. G. Newcombe (1998), Interval estimation for the difference between
independent proportions, Statistics in Medicine 17, 873-890.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd

from .. import customers, rfm, warehouse
from ..present import words
from ..warehouse import NotEnoughData
from ._common import _subset

# channel -> the consent it needs and the contact point it uses
CHANNEL_CONSENT = {"direct_mail": "consent_mail", "sms": "consent_sms", "email": "consent_email",
                   "outbound_call": "consent_phone"}
CHANNEL_CONTACT = {"direct_mail": "address", "sms": "phone", "email": "email", "outbound_call": "phone"}

BREAKDOWNS = ("segment", "value_tier", "main_channel", "city_tier", "city", "lifecycle_stage", "age_band")


def _small_cells(cells: dict, min_contacts: int, min_responders: int, name: str) -> str:
    """The warning, in the reader's language (:mod:`dbmarketing.present.words`), for a
    comparison (a :func:`compare_cells` result) whose cells are too small to trust: fewer than
    ``min_contacts`` customers in a cell or ``min_responders`` responders. ``name``: what the
    treated cell is called ("test", or "arm" in a campaign file)."""
    problems = []
    if cells["contacted"] < min_contacts or cells["control"] < min_contacts:
        problems.append(words.text("campaigns.warning_few_customers", min_contacts=min_contacts,
                                   cell=words.label(name), contacted=cells["contacted"], control=cells["control"]))
    if cells["test_responders"] + cells["control_responders"] < min_responders:
        problems.append(words.text("campaigns.warning_few_responders", min_responders=min_responders))
    return words.text("campaigns.warning_too_small", problems=words.text("campaigns.warning_join").join(problems)) \
        if problems else ""


def campaign_list(con) -> pd.DataFrame:
    """The campaigns in the database with their cells' sizes, oldest first."""
    return warehouse.sql.run(con, "campaigns.campaign_list").df()


def _campaign_ids(con, campaign_id) -> list[str]:
    known = [r[0] for r in warehouse.sql.run(con, "campaigns.campaign_ids").fetchall()]
    if campaign_id is None or (isinstance(campaign_id, str) and campaign_id.strip().lower() in ("", "all")):
        return known
    wanted = [campaign_id] if isinstance(campaign_id, str) else list(campaign_id)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ValueError(f"unknown campaign {', '.join(map(repr, unknown))}; the database has {', '.join(known)}")
    return wanted


def in_response_window(sale: str = "s", contact: str = "k") -> str:
    """The SQL condition of definition 2: sale ``sale`` (a relation with ``order_date``) falls
    in the response window of contact ``contact`` (with ``contact_date`` and ``window_end``,
    the first day after the window). The one definition of a response: the customer model's
    campaign history uses it too."""
    return warehouse.sql.text("campaigns.in_response_window", sale=sale, contact=contact)


def responses(con, campaign_id=None, as_of=None) -> pd.DataFrame:
    """One row per selected customer of the campaign(s): campaign_id, channel, customer_id,
    source_customer_id, cell, contact_date, window_end (first day after the window),
    ``window_closed`` (the window ended by ``as_of``), responded, and the response_orders,
    response_revenue and response_margin in the window (definition 2 above). Only what was
    known at ``as_of`` (default: the newest purchase) counts: contacts made after it are left
    out, purchases after it are not seen."""
    ids = _campaign_ids(con, campaign_id)
    if not ids:
        raise ValueError("the database holds no campaigns (main.campaigns is empty)")
    A = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
    out = warehouse.sql.run(con, "campaigns.responses", {"ids": ids, "as_of": A},
                            in_response_window=in_response_window("s", "k")).df()
    out.attrs["as_of"] = A
    return out


def closed_campaigns(con, as_of=None, triggers: bool = False) -> list[str]:
    """The campaigns whose every response window had ended by ``as_of``: the ones whose
    results are final, and the only ones models may learn from (a campaign still running
    would teach that its contacts did not respond). The campaigns a scheduled run recorded for
    event triggers (ids ``TRG-...``: chapter 06 measures them) only with ``triggers``: their
    customers were chosen by an event, not by a campaign's selection, and one a month each
    would make the batch campaigns' models and close-ups slow."""
    A = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
    rows = warehouse.sql.run(con, "campaigns.closed_campaigns", {"as_of": A, "triggers": bool(triggers)}).fetchall()
    return [r[0] for r in rows]


# --------------------------------------------------------------------------------------
# test vs control
# --------------------------------------------------------------------------------------

def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment of p-values for testing several hypotheses at once, in the
    order given: the i-th smallest of m multiplied by m - i + 1, never below the one before it,
    at most 1. (statsmodels' ``multipletests(p, method="holm")`` gives the same, and runs a full
    garbage collection at each call: 0.7 s in a notebook kernel holding its charts and frames.)"""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p, kind="stable")
    adjusted = np.maximum.accumulate(p[order] * np.arange(len(p), 0, -1))
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out


def compare_cells(test_responders: int, test_n: int, control_responders: int, control_n: int,
                  alpha: float = 0.05) -> dict:
    """Response rates of a test and a control cell compared (definition 4): rates with Wilson
    intervals, absolute lift with a Newcombe interval, relative lift, the pooled two-proportion
    z statistic and its two-sided p-value, and incremental responders = lift x test_n."""
    from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

    out = {"contacted": int(test_n), "control": int(control_n), "test_responders": int(test_responders),
           "control_responders": int(control_responders)}
    for cell, k, n in (("test", test_responders, test_n), ("control", control_responders, control_n)):
        rate = k / n if n else math.nan
        low, high = proportion_confint(k, n, alpha=alpha, method="wilson") if n else (math.nan, math.nan)
        out.update({f"{cell}_rate": rate, f"{cell}_rate_low": float(low), f"{cell}_rate_high": float(high)})
    lift = out["test_rate"] - out["control_rate"]
    out["lift"] = lift
    if test_n and control_n:
        low, high = confint_proportions_2indep(test_responders, test_n, control_responders, control_n,
                                               method="newcomb", compare="diff", alpha=alpha)
        out["lift_low"], out["lift_high"] = float(low), float(high)
        if 0 < test_responders + control_responders < test_n + control_n:
            z, p = proportions_ztest([test_responders, control_responders], [test_n, control_n])
            out["z"], out["p_value"] = float(z), float(p)
        else:  # nobody (or everybody) responded: no difference to test
            out["z"], out["p_value"] = 0.0, 1.0
    else:
        out.update(lift_low=math.nan, lift_high=math.nan, z=math.nan, p_value=math.nan)
    out["relative_lift"] = lift / out["control_rate"] if out["control_rate"] else math.nan
    out["significant"] = bool(out["p_value"] < alpha) if not math.isnan(out["p_value"]) else False
    out["incremental_responders"] = lift * test_n
    return out


def _cell_results(group: pd.DataFrame, cost_per_contact: float, alpha: float, min_contacts: int,
                  min_responders: int) -> dict:
    t, c = group[group.cell == "test"], group[group.cell == "control"]
    out = compare_cells(int(t.responded.sum()), len(t), int(c.responded.sum()), len(c), alpha)
    rev_t = t.response_revenue.mean() if len(t) else math.nan
    rev_c = c.response_revenue.mean() if len(c) else math.nan
    mar_t = t.response_margin.mean() if len(t) else math.nan
    mar_c = c.response_margin.mean() if len(c) else math.nan
    cost = cost_per_contact * len(t)
    margin_per_responder = t.response_margin[t.responded].mean() if t.responded.any() else math.nan
    out.update({
        "revenue_per_contact": rev_t, "control_revenue_per_customer": rev_c,
        "incremental_revenue": (rev_t - rev_c) * len(t), "incremental_margin": (mar_t - mar_c) * len(t),
        "cost": cost,
        "margin_per_responder": margin_per_responder,
        "break_even_rate": cost_per_contact / margin_per_responder if margin_per_responder else math.nan,
    })
    # the lift at which the margin the contact added pays for it: cost / margin per incremental responder
    inc = out["incremental_responders"]
    per_incremental = out["incremental_margin"] / inc if inc and inc > 0 else math.nan
    out["break_even_lift"] = cost_per_contact / per_incremental if per_incremental and per_incremental > 0 else math.nan
    out["incremental_profit"] = out["incremental_margin"] - cost  # what the campaign earned, its contacts paid
    out["roi"] = (out["incremental_margin"] - cost) / cost if cost else math.nan
    out["warning"] = _small_cells(out, min_contacts, min_responders, "test")
    return out



def results(con, campaign_id=None, by: str | None = None, features: pd.DataFrame | None = None,
            as_of=None, alpha: float = 0.05, min_contacts: int = 100, min_responders: int = 10,
            top_levels: int = 12) -> pd.DataFrame:
    """Results of past campaigns as known at ``as_of`` (default: the newest purchase): one row
    per campaign (``by=None``), or per campaign and level of a customer attribute at contact
    time (``by`` one of :data:`BREAKDOWNS`: RFM ``segment``, ``value_tier``, the customer's
    ``main_channel``, ``city_tier``, ``city``, ``lifecycle_stage``, ``age_band``), biggest
    level first; beyond the ``top_levels`` biggest, levels are folded into "(other)".
    ``campaign_id``: one id, a list, or None / "all". ``features`` reuses a
    :func:`contact_features` result (needed for ``by``; computed when not given). Columns:
    see :func:`compare_cells`, plus revenue, margin, cost, ROI, break-even rate and lift, and
    ``warning`` for cells too small to trust, windows not closed yet, or campaigns without
    any contact by ``as_of``."""
    ids = _campaign_ids(con, campaign_id)
    resp = responses(con, ids, as_of)
    A = resp.attrs["as_of"]
    camp = warehouse.sql.run(con, "campaigns.campaign_costs").df()
    camp = camp.set_index("campaign_id")
    keys = ["campaign_id"]
    if by is not None:
        if by not in BREAKDOWNS:
            raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}, got {by!r}")
        if features is None:
            features = contact_features(con, sorted(set(resp.campaign_id)), as_of=A) if len(resp) else None
        if features is not None:
            resp = resp.merge(features[["campaign_id", "customer_id", by]], on=["campaign_id", "customer_id"], how="left")
        else:
            resp[by] = None
        level = resp[by].astype(object).where(resp[by].notna(), "(unknown)").astype(str)
        biggest = level.value_counts()
        if len(biggest) > top_levels:
            level = level.where(level.isin(biggest.index[:top_levels]), "(other)")
        resp[by] = level
        keys.append(by)
    rows = []
    for key, group in resp.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        cid = key[0]
        info = camp.loc[cid]
        row = dict(zip(keys, key))
        row.update(campaign_name=info.campaign_name, channel=info.channel)
        row.update(_cell_results(group, float(info.cost_per_contact or 0), alpha, min_contacts, min_responders))
        if not group.window_closed.all():
            note = words.text("campaigns.warning_window_open", until=group.window_end.max().date() - timedelta(days=1))
            row["warning"] = f"{note}{words.text('campaigns.warning_join')}{row['warning']}" if row["warning"] else note
        rows.append(row)
    for cid in ids:  # campaigns nobody of which was contacted by as_of
        if cid not in set(resp.campaign_id):
            info = camp.loc[cid]
            rows.append({"campaign_id": cid, "campaign_name": info.campaign_name, "channel": info.channel,
                         "contacted": 0, "control": 0,
                         "warning": words.text("campaigns.warning_no_contact", as_of=A)})
    out = pd.DataFrame(rows)
    order = {c: i for i, c in enumerate(ids)}
    out["_order"] = out.campaign_id.map(order)
    sort = ["_order"] + ([] if by is None else ["_size"])
    if by is not None:
        out["_size"] = -(out.contacted.fillna(0) + out.control.fillna(0))
    out = out.sort_values(sort, kind="stable", ignore_index=True).drop(columns=[c for c in ("_order", "_size") if c in out])
    out.attrs["as_of"] = A
    return out


# --------------------------------------------------------------------------------------
# who was contacted: features as of the day before the campaign
# --------------------------------------------------------------------------------------

def _age_band(age: pd.Series) -> pd.Series:
    bands = pd.cut(age, [0, 25, 35, 45, 55, 65, 200], right=False,
                   labels=["under 25", "25-34", "35-44", "45-54", "55-64", "65+"])
    return bands.astype(object).where(age.notna(), None)


def snapshot(con, as_of) -> pd.DataFrame:
    """Every customer at ``as_of`` with what a model may know then: the 360 view
    (:func:`dbmarketing.customers.customer_360`, which refuses features dated later), RFM
    scores and segment (:func:`dbmarketing.rfm.compute`), the value tier by profit (MVC, BZ,
    other; MGC needs a CLV model and is left out here), age band and the model features."""
    c = customers.customer_360(con, as_of)
    scores = rfm.compute(con, as_of)  # the purchases as known at as_of (clean.sales_as_of)
    c = c.merge(scores[["customer_id", "r_score", "f_score", "m_score", "segment"]], on="customer_id", how="left")
    c["value_tier"] = customers.value_tiers(c, future_value="(none)")
    c["age_band"] = _age_band(c["age"])
    c["is_female"] = (c["gender"] == "F").astype(float)
    return c


def contact_features(con, campaign_id=None, as_of=None) -> pd.DataFrame:
    """One row per selected customer (both cells) of the campaign(s) with the response
    (:func:`responses`, as known at ``as_of``) and the customer as known the day before the
    campaign started (:func:`snapshot`; definition 5). The column ``snapshot_date`` says which
    day that was. ``campaign_id`` None or "all": the campaigns whose response windows had
    closed by ``as_of`` (:func:`closed_campaigns`), the ones models may learn from."""
    if campaign_id is None or (isinstance(campaign_id, str) and campaign_id.strip().lower() in ("", "all")):
        ids = closed_campaigns(con, as_of)
        if not ids:
            day = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
            raise NotEnoughData("needs.no_closed_campaign", as_of=day)
    else:
        ids = _campaign_ids(con, campaign_id)
    resp = responses(con, ids, as_of)
    starts = dict(warehouse.sql.run(con, "campaigns.campaign_starts").fetchall())
    parts = []
    for cid in ids:
        mine = resp[resp.campaign_id == cid]
        if mine.empty:
            raise ValueError(f"campaign {cid!r} has no contact resolved to a customer by {resp.attrs['as_of']}")
        first = mine.contact_date.min().date()
        day = (min(starts[cid], first) if starts[cid] is not None else first) - timedelta(days=1)
        snap = snapshot(con, day).drop(columns=["as_of"])
        part = mine.merge(snap, on="customer_id", how="left")
        part["snapshot_date"] = day
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out.attrs["as_of"] = resp.attrs["as_of"]
    return out


# --------------------------------------------------------------------------------------
# profiles: who answers this kind of offer
# --------------------------------------------------------------------------------------

PROFILE_ATTRIBUTES = ("age_band", "gender", "city_tier", "segment", "value_tier", "lifecycle_stage", "main_channel")


def response_profile(features: pd.DataFrame, campaign_id=None, attributes=PROFILE_ATTRIBUTES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responders against the contacted base (test cell), attribute by attribute.

    Returns (profile, tests). ``profile``: attribute, level, contacted, responders,
    response_rate, share_of_contacted, share_of_responders and ``index`` = share of responders
    / share of contacted x 100 (100 = responds like the base; 150 = half as likely again).
    ``tests``: per attribute a chi-square test of independence of level and response, with
    its p-value and the smallest expected cell count (below 5 the test is unreliable)."""
    from scipy.stats import chi2_contingency

    data = _subset(features, campaign_id)
    data = data[data.cell == "test"]
    total, total_resp = len(data), int(data.responded.sum())
    rows, tests = [], []
    for attr in attributes:
        level = data[attr].astype(object).where(data[attr].notna(), "(unknown)").astype(str)
        g = data.groupby(level).responded.agg(["size", "sum"])
        for lv, (n, k) in g.iterrows():
            share_c, share_r = n / total, (k / total_resp if total_resp else np.nan)
            rows.append({"attribute": attr, "level": lv, "contacted": int(n), "responders": int(k),
                         "response_rate": k / n, "share_of_contacted": share_c, "share_of_responders": share_r,
                         "index": 100 * share_r / share_c if share_c else np.nan})
        table = np.column_stack([g["sum"].to_numpy(), (g["size"] - g["sum"]).to_numpy()])
        table = table[table.sum(axis=1) > 0]
        if table.shape[0] >= 2 and (table.sum(axis=0) > 0).all():
            chi2, p, dof, expected = chi2_contingency(table, correction=False)
            tests.append({"attribute": attr, "chi2": float(chi2), "dof": int(dof), "p_value": float(p),
                          "min_expected": float(expected.min()),
                          "note": "" if expected.min() >= 5 else words.text("campaigns.note_expected_below_5")})
        else:
            tests.append({"attribute": attr, "chi2": np.nan, "dof": 0, "p_value": np.nan, "min_expected": np.nan,
                          "note": words.text("campaigns.note_one_level")})
    return pd.DataFrame(rows), pd.DataFrame(tests)

