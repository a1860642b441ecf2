"""Campaigns: the next campaign's selection -- whom to contact, by expected profit from an
uplift model, within consent, contact points, the do-not-contact list (the contact policy's
first rules, :mod:`.policy`), capacity and budget, with a control cell held out -- and its contact list and record in the database."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .. import ingest, privacy, warehouse
from ..present import words
from .design import assign_cells, minimum_detectable_lift
from .measurement import CHANNEL_CONSENT, CHANNEL_CONTACT, results, snapshot
from .policy import apply_contact_policy, left_out_by, load_policy, reach_rules, suppressed  # noqa: F401  (suppressed: as before)


@dataclass
class TargetPlan:
    """The next campaign's selection (:func:`select_targets`).

    ``targets``: one row per selected customer (customer_id, cell, segment, uplift,
    response_score, expected_profit, ...); the test cell is the contact list, the control
    cell is held out. ``excluded``: customers left out and why, counted (reason, customers),
    in the order the rules apply. ``summary``: the plan in figures."""

    as_of: date
    channel: str
    targets: pd.DataFrame
    excluded: pd.DataFrame
    summary: dict = field(default_factory=dict)


def select_targets(con, as_of, channel: str, model, margin_per_response: float, cost_per_contact: float,
                   budget: float | None = None, capacity: int | None = None, control_share: float = 0.2,
                   customer_type: str | None = "consumer", include_prospects: bool = False, strata: str = "segment",
                   seed: int = 42, alpha: float = 0.05, power: float = 0.8, min_control: int = 100,
                   policy=None, source: str = "next_campaign", priority: float = 5,
                   planned: pd.DataFrame | None = None) -> TargetPlan:
    """Choose whom to contact in the next ``channel`` campaign, by expected profit.

    Every customer known at ``as_of`` (of ``customer_type``; None = all) is scored with the
    uplift ``model`` (an :class:`InteractionUplift` or :class:`TwoModelUplift` fitted on past
    campaigns) for this channel: expected profit = uplift x ``margin_per_response`` -
    ``cost_per_contact``. Left out, and counted, in this order: customers without consent
    for the channel, without the contact point it needs (address, phone or e-mail), those
    on the do-not-contact list (:func:`suppressed`), and, unless ``include_prospects``, those
    who never bought (the model learned from past campaigns, which contacted buyers: it has
    nothing to say about prospects, who need an acquisition offer of their own), and those the
    contact policy's frequency caps leave no room for (:func:`apply_contact_policy` with
    ``policy``, the list named ``source`` with ``priority``; ``planned``: lists kept earlier in
    the same run). Of the rest, those with positive
    expected profit are ranked best first and taken while the contacts stay within
    ``capacity`` (e.g. call-center calls) and ``budget`` / ``cost_per_contact``. A share
    ``control_share`` of the selection is held out as a random control cell, stratified by
    ``strata`` (:func:`assign_cells`, seeded), so the campaign can be measured. The summary
    states the smallest lift the cells can detect (:func:`minimum_detectable_lift`), and
    ``warning`` says when the control cell is below ``min_control`` or too small to detect
    the expected lift.
    """
    if channel not in CHANNEL_CONSENT:
        raise ValueError(f"channel must be one of {', '.join(CHANNEL_CONSENT)}, got {channel!r}")
    for name, value in (("margin_per_response", margin_per_response), ("cost_per_contact", cost_per_contact)):
        if value is None or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    A = warehouse.resolve_as_of(con, "latest" if as_of is None else as_of)
    snap = snapshot(con, A)
    contact = warehouse.sql.run(con, "campaigns.contact_points").df()
    snap = snap.merge(contact, on="customer_id", how="left")
    if customer_type:
        snap = snap[snap.customer_type == customer_type]
    snap = snap.assign(channel=channel)
    snap["uplift"] = model.predict(snap)
    snap["response_score"] = model.predict_response(snap)
    snap["expected_profit"] = snap.uplift * float(margin_per_response) - float(cost_per_contact)

    consent = CHANNEL_CONSENT[channel]
    # consent, contact point, do-not-contact (the contact policy's rules 1-3), then prospects; the reasons
    # in the reader's language (dbmarketing.present.words): the table shows them as they are
    rules = reach_rules(con, snap, channel) + [
        (words.text("campaigns.reason_prospect"), snap.is_prospect.astype(bool) & (not include_prospects)),
    ]
    left, counted = left_out_by(rules, (words.text("campaigns.reason_scored"), len(snap)))
    excluded = list(counted.itertuples(index=False, name=None))
    eligible = snap[~left]
    # the contact policy's caps (its consent and do-not-contact rules are the ones above: nobody left for them)
    rules_in_force = load_policy(policy)
    wanted = pd.DataFrame({"customer_id": eligible.customer_id, "channel": channel, "priority": priority,
                           "source": source})
    kept, dropped = apply_contact_policy(con, wanted, A, rules_in_force, planned=planned)
    capped = dropped.reason.value_counts(sort=False)
    cap = rules_in_force.caps.get(channel)
    if cap is not None and capped.empty:  # the rule applied, nobody hit it
        capped = pd.Series({words.text("campaigns.reason_frequency_cap", contacts=cap.contacts,
                                       channel=words.label(channel), days=cap.days): 0})
    excluded.extend((reason, int(n)) for reason, n in capped.items())
    eligible = eligible[eligible.customer_id.isin(kept.customer_id)]
    excluded.append((words.text("campaigns.reason_no_profit"), int((eligible.expected_profit <= 0).sum())))
    ranked = eligible[eligible.expected_profit > 0].sort_values(["expected_profit", "customer_id"],
                                                                ascending=[False, True])
    caps = [int(math.floor(c)) for c in (capacity, None if budget is None or cost_per_contact == 0
                                        else budget / cost_per_contact) if c is not None]
    max_contacts = min(caps) if caps else None
    chosen = ranked if max_contacts is None else ranked.head(int(math.ceil(max_contacts / (1 - control_share))))
    chosen = chosen.copy()
    chosen["cell"] = assign_cells(chosen, control_share, strata=strata, seed=seed) if len(chosen) else []
    if max_contacts is not None:  # stratified rounding can leave a few contacts too many: drop the least profitable
        extra = chosen.index[chosen.cell == "test"][max_contacts:]
        chosen = chosen.drop(index=extra)
    excluded.append((words.text("campaigns.reason_capacity"), len(ranked) - len(chosen)))
    test, ctrl = chosen[chosen.cell == "test"], chosen[chosen.cell == "control"]
    base = float(ctrl.response_score.mean() - ctrl.uplift.mean()) if len(ctrl) else math.nan  # P(respond | no contact)
    summary = {
        "as_of": A, "channel": channel, "selected": len(chosen), "contacts": len(test), "control": len(ctrl),
        "cost": len(test) * cost_per_contact, "expected_incremental_responders": float(test.uplift.sum()),
        "expected_incremental_margin": float(test.uplift.sum() * margin_per_response),
        "expected_profit": float(test.expected_profit.sum()),
        "expected_control_rate": base,
        "minimum_detectable_lift": (minimum_detectable_lift(base, len(test), len(ctrl), power, alpha)
                                    if len(test) and len(ctrl) and 0 < base < 1 else math.nan),
        "expected_lift": float(test.uplift.mean()) if len(test) else math.nan,
    }
    problems = []
    if len(ctrl) < min_control:
        problems.append(words.text("campaigns.warning_small_control", control=len(ctrl), min_control=min_control))
    mde = summary["minimum_detectable_lift"]
    if not np.isfinite(mde) or mde > summary["expected_lift"]:
        problems.append(words.text("campaigns.warning_undetectable"))
    summary["warning"] = words.text("campaigns.warning_join").join(problems)
    keep = ["customer_id", "cell", "customer_type", "segment", "value_tier", "lifecycle_stage", "city", "city_tier",
            "uplift", "response_score", "expected_profit", consent]
    targets = chosen[keep].reset_index(drop=True)
    return TargetPlan(A, channel, targets, pd.DataFrame(excluded, columns=["reason", "customers"]), summary)


def past_channel_figures(con, channel: str, figures: pd.DataFrame | None = None) -> dict:
    """Margin per responder and cost per contact of the past campaigns of ``channel`` (the
    default assumptions of the next one): test-cell responders' mean window margin, and
    the newest campaign's cost per contact. ``figures`` reuses a :func:`results` table."""
    past = figures if figures is not None else results(con)
    past = past[past.channel == channel]
    if past.empty:
        raise ValueError(f"no past {channel} campaign to take the margin and cost from: give them explicitly")
    cost = warehouse.sql.one(con, "campaigns.newest_cost_per_contact", {"channel": channel})[0]
    weights = past.test_responders.clip(lower=0)
    margin = float((past.margin_per_responder.fillna(0) * weights).sum() / weights.sum()) if weights.sum() else math.nan
    return {"margin_per_response": margin, "cost_per_contact": float(cost), "campaigns": len(past)}


def export_list(con, plan: TargetPlan, path, clearance: int, about: str | None = None) -> tuple[Path, list[str]]:
    """Write the contact list (the test cell only: the control cell must not be contacted) to
    .csv or .xlsx for the call center or e-mail tool: customer number, the contact details
    the channel needs, name, city, segment and expected profit. Only the columns the reader's
    ``clearance`` allows are written (the catalog decides); the others are left out, not
    masked. ``about``: what the list is, for the report index. Returns (path, the columns left out)."""
    point = CHANNEL_CONTACT[plan.channel]
    people = warehouse.sql.run(con, "campaigns.contact_list_people", point=warehouse.sql.ident(point)).df()
    lst = plan.targets[plan.targets.cell == "test"][["customer_id", "segment", "expected_profit"]]
    lst = lst.assign(expected_profit=lst.expected_profit.round(2))  # money: two decimals, not the model's fifteen
    lst = lst.merge(people, on="customer_id", how="left")[["customer_id", "name", point, "city", "segment",
                                                            "expected_profit"]]
    visible = privacy.visible_columns(lst.columns, clearance, con=con)
    dropped = [c for c in lst.columns if c not in visible]
    written = privacy.export_frame(lst[visible], path, clearance, con=con, about=about)
    return written, dropped


def save_campaign(con, plan: TargetPlan, campaign_id: str, campaign_name: str, start_date, folder,
                  response_window_days: int = 30, cost_per_contact: float | None = None,
                  offer: str | None = None) -> dict:
    """Record the plan as a new campaign: the campaign and its contacts (both cells, contact
    date = ``start_date``) are written as CSV files into ``folder`` and loaded like any other
    source (:func:`dbmarketing.ingest.load_source`: one batch each, fingerprinted, in the load
    history), so the next cleaning run carries them forward and the campaign can be measured
    against its control cell once its response window has passed. They are also added to
    ``main.campaigns`` / ``main.contacts`` at once. A campaign id already in the database is
    refused before anything is written. Returns the two load results and the file paths."""
    if warehouse.sql.one(con, "campaigns.campaign_id_taken", {"campaign_id": campaign_id})[0]:
        raise ValueError(f"campaign {campaign_id!r} is already in the database: choose a new campaign id")
    if plan.targets.empty:
        raise ValueError("the plan selects nobody: nothing to save")
    start = warehouse.resolve_as_of(con, start_date)
    cost = float(cost_per_contact if cost_per_contact is not None else plan.summary["cost"] / max(plan.summary["contacts"], 1))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    camp = pd.DataFrame([{"campaign_id": campaign_id, "campaign_name": campaign_name, "channel": plan.channel,
                          "start_date": start.isoformat(), "end_date": start.isoformat(),
                          "response_window_days": int(response_window_days), "cost_per_contact": cost,
                          "offer": offer or ""}])
    contacts = pd.DataFrame({"campaign_id": campaign_id, "customer_id": plan.targets.customer_id,
                             "cell": plan.targets.cell, "contact_date": start.isoformat()})
    files = {}
    for table, frame in (("campaigns", camp), ("contacts", contacts)):
        path = folder / f"{table}_{campaign_id}.csv"
        tmp = path.with_name(f".{path.name}.partial")
        frame.to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(path)
        files[table] = path
    loads = {}
    for table in ("campaigns", "contacts"):
        source = ingest.Source(name=f"target list {campaign_id} ({table})", table=table, path=str(files[table]),
                                columns={c.name: c.name for c in warehouse.MODEL[table].columns})
        loads[table] = ingest.load_source(con, source, base_dir=".")
        if loads[table].status != "loaded" or loads[table].rows_rejected:
            raise ValueError(f"saving campaign {campaign_id}: {loads[table].message}")
    con.execute("BEGIN TRANSACTION")
    try:
        warehouse.sql.run(con, "campaigns.save_campaign", {"campaign_id": campaign_id})
        warehouse.sql.run(con, "campaigns.save_contacts", {"campaign_id": campaign_id})
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"files": files, "loads": loads}
