"""Trigger lists as campaigns: a scheduled run records each list it writes as a campaign of its
trigger (listed = test, held out = control, contact date = the run's as-of date), and the
measurement of past triggers reads those campaigns back with the campaign measurement of
chapter 05 (:func:`dbmarketing.campaigns.results`), pooled over the runs of each trigger.

A trigger's campaign of one run is ``TRG-<trigger>-<yyyymmdd>``: recording the same as-of date
again finds it and adds nothing (idempotent)."""

from __future__ import annotations

import math
import re

import pandas as pd

from .. import campaigns, warehouse
from .evaluate import TriggerRun
from .rules import load_triggers

PREFIX = "TRG"
_ID = re.compile(rf"^{PREFIX}-([a-z][a-z0-9_]*)-(\d{{8}})$")


def campaign_id(trigger: str, as_of) -> str:
    """The campaign id of one trigger's list of one run: ``TRG-<trigger>-<yyyymmdd>``."""
    return f"{PREFIX}-{trigger}-{as_of:%Y%m%d}"


def trigger_of(campaign: str) -> str | None:
    """The trigger a campaign id belongs to (None for any other campaign)."""
    m = _ID.match(str(campaign))
    return m.group(1) if m else None


def record_lists(con, run: TriggerRun, folder) -> pd.DataFrame:
    """Record every non-empty list of ``run`` as its trigger's campaign at the run's as-of date
    (:func:`dbmarketing.campaigns.save_campaign`: files in ``folder``, loaded like any source,
    added to ``main.campaigns`` / ``main.contacts``). A campaign already recorded for that
    trigger and date is left as it is. Returns one row per trigger: trigger, campaign_id,
    listed, held_out, status (recorded, already recorded, nobody)."""
    rows = []
    if not warehouse.table_exists(con, "main", "campaigns"):  # loaded, not cleaned: nowhere to record
        return pd.DataFrame(rows, columns=["trigger", "campaign_id", "listed", "held_out", "status"])
    for t in run.triggers.triggers:
        lst = run.lists.get(t.name)
        if lst is None:
            continue
        cid = campaign_id(t.name, run.as_of)
        row = {"trigger": t.label(), "campaign_id": cid, "listed": int((lst.cell == "listed").sum()),
               "held_out": int((lst.cell == "held_out").sum())}
        if lst.empty:
            rows.append({**row, "status": "nobody"})
            continue
        if warehouse.sql.one(con, "campaigns.campaign_id_taken", {"campaign_id": cid})[0]:
            rows.append({**row, "status": "already recorded"})
            continue
        targets = pd.DataFrame({"customer_id": lst.customer_id,
                                "cell": lst.cell.map({"listed": "test", "held_out": "control"})})
        plan = campaigns.TargetPlan(run.as_of, t.channel, targets, pd.DataFrame(), {})
        campaigns.save_campaign(con, plan, cid, t.label_en, run.as_of, folder,
                                response_window_days=t.response_window_days, cost_per_contact=t.cost_per_contact,
                                offer=t.action)
        rows.append({**row, "status": "recorded"})
    return pd.DataFrame(rows, columns=["trigger", "campaign_id", "listed", "held_out", "status"])


def trigger_campaigns(con) -> pd.DataFrame:
    """The campaigns recorded for triggers: campaign_id, trigger, start_date (oldest first)."""
    if not warehouse.table_exists(con, "main", "campaigns"):
        return pd.DataFrame(columns=["campaign_id", "trigger", "start_date"])
    out = warehouse.sql.run(con, "events.trigger_campaigns").df()
    out["trigger"] = out.campaign_id.map(trigger_of)
    return out[out.trigger.notna()][["campaign_id", "trigger", "start_date"]].reset_index(drop=True)


def measure(con, as_of=None, triggers=None, alpha: float = 0.05) -> pd.DataFrame:
    """What past triggers did: their campaigns whose response window had closed by ``as_of``,
    measured like any campaign (:func:`dbmarketing.campaigns.results`: response in the window,
    test against the held-out control) and pooled over the runs of each trigger: contacted and
    control customers and responders summed, the lift and its interval
    (:func:`dbmarketing.campaigns.compare_cells`), incremental margin, cost and profit summed.
    One row per trigger with campaigns (map order, then triggers no longer in the map)."""
    trig = load_triggers(triggers)
    found = trigger_campaigns(con)
    if found.empty:
        return pd.DataFrame()
    closed = set(campaigns.closed_campaigns(con, as_of, triggers=True))
    found = found[found.campaign_id.isin(closed)]
    if found.empty:
        return pd.DataFrame()
    res = campaigns.results(con, found.campaign_id.tolist(), as_of=as_of, alpha=alpha)
    measured_on = res.attrs.get("as_of")
    res = res.merge(found[["campaign_id", "trigger"]], on="campaign_id")
    order = {n: i for i, n in enumerate(trig.names)}
    rows = []
    for name, g in sorted(res.groupby("trigger"), key=lambda kv: (order.get(kv[0], len(order)), kv[0])):
        pooled = campaigns.compare_cells(int(g.test_responders.sum()), int(g.contacted.sum()),
                                         int(g.control_responders.sum()), int(g.control.sum()), alpha)
        known = name in order
        rows.append({"trigger": trig.get(name).label() if known else name, "name": name, "runs": len(g),
                     **{k: pooled[k] for k in ("contacted", "control", "test_rate", "control_rate", "lift",
                                                "lift_low", "lift_high", "p_value", "significant",
                                                "incremental_responders")},
                     "incremental_margin": float(g.incremental_margin.sum()), "cost": float(g.cost.sum()),
                     "incremental_profit": float(g.incremental_margin.sum() - g.cost.sum())})
    out = pd.DataFrame(rows)
    out.attrs["as_of"] = measured_on
    return out


def planted_effects(con) -> pd.DataFrame | None:
    """The effects the sample planted in its trigger campaigns (``truth.trigger_effects``:
    trigger, planted_lift), or None for a database that is not the sample."""
    if not warehouse.table_exists(con, "truth", "trigger_effects"):
        return None
    return warehouse.sql.run(con, "events.planted_effects").df()


def recovery(measured: pd.DataFrame, planted: pd.DataFrame) -> pd.DataFrame:
    """The measured lift of each trigger beside the planted one: planted_lift, lift and its
    interval, ``right_sign`` (the measured lift has the planted effect's sign; empty for a
    trigger without a planted effect) and ``inside`` (the interval holds the planted lift)."""
    m = measured.merge(planted, left_on="name", right_on="trigger", suffixes=("", "_planted"))
    m["right_sign"] = pd.Series([(math.copysign(1, l) == math.copysign(1, p)) if p != 0 else None
                                 for l, p in zip(m.lift, m.planted_lift)], index=m.index, dtype=object)
    m["inside"] = (m.lift_low <= m.planted_lift) & (m.planted_lift <= m.lift_high)
    return m[["trigger", "runs", "contacted", "control", "planted_lift", "lift", "lift_low", "lift_high",
              "right_sign", "inside"]]

