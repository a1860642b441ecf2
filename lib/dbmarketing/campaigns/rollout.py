"""Campaigns: test, then roll out -- a new offer goes first to a representative pilot, the rule
that decides its roll-out is stated before the pilot is read, and when the rule is met the
remaining eligible customers get the offer, within the contact policy.

The steps, in plain sentences:

1. **Who could get the offer** (:func:`eligible`): the customers of ``customer_type`` known at
   a day who agreed to the channel, can be reached by it and are not on the do-not-contact list
   (the contact policy's rules 1-3, :func:`~dbmarketing.campaigns.policy.reach_rules`), and who
   bought before (the offer is for customers, as the past campaigns were).
2. **The decision rule, before the test** (:func:`decision_rule`): the offer pays when its lift
   (test rate minus control rate) is above the **break-even lift** = cost of a contact / margin
   of an extra responder. The pilot must show it beyond chance: roll out when the *lower* end of
   the lift's interval (Newcombe, at ``1 - alpha``) is above the break-even lift.
3. **The pilot** (:func:`draw_pilot`): a random sample of the eligible, drawn within strata (the
   RFM segment, the city tier, ...) in proportion to their size, so every stratum is in the pilot
   in the share it has in the population; its size from the test design
   (:func:`~dbmarketing.campaigns.design.sample_size`), a share held out as control
   (:func:`~dbmarketing.campaigns.design.assign_cells`).
4. **Reading it** (:func:`read_pilot`): test against control once its response window has
   closed (:func:`~dbmarketing.campaigns.measurement.compare_cells`), judged by the rule
   (:func:`decide`).
5. **The roll-out list** (:func:`rollout_list`): the eligible customers minus the pilot's (both
   cells: they have had the offer or were held out from it), through the contact policy
   (:func:`~dbmarketing.campaigns.policy.apply_contact_policy`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import warehouse
from ..present import words
from .design import assign_cells
from .measurement import CHANNEL_CONSENT, compare_cells, responses, snapshot
from .planning import next_campaign_figures
from .policy import apply_contact_policy, left_out_by, reach_rules
from .selection import TargetPlan


def eligible(con, as_of, channel: str, customer_type: str | None = "consumer",
             snap: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Step 1: the customers who could get an offer on ``channel`` at ``as_of``.

    Returns (eligible, excluded): the :func:`snapshot` rows (segment, city tier, value tier,
    ...) of the eligible customers, and the customers left out, counted (reason, customers), in
    the order the rules apply. ``snap`` reuses a snapshot of the same day."""
    if channel not in CHANNEL_CONSENT:
        raise ValueError(f"channel must be one of {', '.join(CHANNEL_CONSENT)}, got {channel!r}")
    A = warehouse.resolve_as_of(con, as_of)
    snap = snapshot(con, A) if snap is None else snap
    snap = snap.drop(columns=[c for c in ("name", "phone", "email", "address") if c in snap.columns])
    snap = snap.merge(warehouse.sql.run(con, "campaigns.contact_points").df(), on="customer_id", how="left")
    if customer_type:
        snap = snap[snap.customer_type == customer_type]
    rules = reach_rules(con, snap, channel) + [(words.text("campaigns.reason_prospect"), snap.is_prospect.astype(bool))]
    left, excluded = left_out_by(rules, (words.text("campaigns.reason_known"), len(snap)))
    out = snap[~left].reset_index(drop=True)
    out.attrs["as_of"] = A
    return out, excluded


# --------------------------------------------------------------------------------------
# step 2: the decision rule, stated before the test
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecisionRule:
    """Roll out when the lower end of the lift's ``1 - alpha`` interval is above
    ``break_even_lift`` = ``cost_per_contact`` / ``margin_per_response``."""

    margin_per_response: float
    cost_per_contact: float
    alpha: float = 0.05
    control_rate: float = math.nan  # the expected control response rate, for sizing the pilot

    @property
    def break_even_lift(self) -> float:
        return self.cost_per_contact / self.margin_per_response


def decision_rule(margin_per_response: float, cost_per_contact: float, alpha: float = 0.05,
                  control_rate: float = math.nan) -> DecisionRule:
    """Step 2: the rule, from the margin an extra responder brings and the cost of a contact
    (both > 0 and finite; cost below margin, else no lift can pay)."""
    for name, value in (("margin_per_response", margin_per_response), ("cost_per_contact", cost_per_contact)):
        if value is None or not np.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}")
    if cost_per_contact >= margin_per_response:
        raise ValueError(f"a contact costs {cost_per_contact:g}, as much as an extra responder brings "
                         f"({margin_per_response:g}): no lift can pay for it")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha!r}")
    return DecisionRule(float(margin_per_response), float(cost_per_contact), float(alpha), float(control_rate))


def rule_before_test(con, measured: pd.DataFrame, overview: pd.DataFrame, channel: str, start,
                     margin_per_response: float = 0.0, cost_per_contact: float = 0.0, base_rate: float = 0.0,
                     alpha: float = 0.05) -> DecisionRule:
    """The rule of a pilot on ``channel`` starting on ``start``, from what was known before it:
    the margin of a responder, the cost of a contact and the control rate (``base_rate``) each as given
    (non-zero), else from the measured past campaigns of the channel that started before the
    pilot (``measured``: :func:`results` rows of closed campaigns; ``overview``:
    :func:`campaign_list`). Raises :class:`~dbmarketing.warehouse.NotEnoughData`, saying so in
    the reader's language, when they cannot be had (no such campaign, no responder, no cost)."""
    start = pd.Timestamp(start)
    earlier = set(overview.campaign_id[pd.to_datetime(overview.start_date) < start])
    try:
        figures = next_campaign_figures(con, channel, measured[measured.campaign_id.isin(earlier)],
                                        margin_per_response, cost_per_contact, base_rate)
        return decision_rule(figures["margin_per_response"], figures["cost_per_contact"], alpha, figures["control_rate"])
    except ValueError:  # no earlier campaign of the channel, or none with responders or a cost
        raise warehouse.NotEnoughData("campaigns.rollout_no_figures", channel=channel) from None


def decide(rule: DecisionRule, reading: dict) -> dict:
    """Step 4: the pilot's ``reading`` (a :func:`compare_cells` result at the rule's alpha)
    judged by the ``rule``. Returns ``met`` (bool), ``why`` ("met"; "unclear": the interval
    reaches both sides of the break-even lift, a larger pilot could tell; "below": even its
    upper end is not above it, the offer does not pay; "no_control": nobody held out, nothing
    to compare), the figures, and the profit per contact at the interval's lower end."""
    low, high, be = reading.get("lift_low", math.nan), reading.get("lift_high", math.nan), rule.break_even_lift
    if not reading.get("control") or not reading.get("contacted") or not np.isfinite(low):
        why = "no_control"
    elif low > be:
        why = "met"
    elif high > be:
        why = "unclear"
    else:
        why = "below"
    return {"met": why == "met", "why": why, "break_even_lift": be, "lift": reading.get("lift", math.nan),
            "lift_low": low, "lift_high": high,
            "profit_per_contact_low": low * rule.margin_per_response - rule.cost_per_contact if np.isfinite(low) else math.nan}


# --------------------------------------------------------------------------------------
# step 3: the pilot
# --------------------------------------------------------------------------------------

def _strata_key(frame: pd.DataFrame, strata) -> pd.Series:
    strata = [strata] if isinstance(strata, str) else list(strata)
    if not strata:
        return pd.Series("(all)", index=frame.index)
    parts = [frame[s].astype(object).where(frame[s].notna(), "(none)").astype(str) for s in strata]
    key = parts[0]
    for p in parts[1:]:
        key = key + " | " + p
    return key


def draw_pilot(population: pd.DataFrame, size: int, strata=("segment",), control_share: float = 0.2,
               seed: int = 42) -> pd.DataFrame:
    """Step 3: ``size`` customers of ``population`` (:func:`eligible`) drawn at random within
    the strata (the levels of the ``strata`` columns together), each in proportion to its size
    (largest remainders), and split into test and control (``control_share`` held out, again
    within the strata). Both draws are :func:`assign_cells` (seeded). Returns the drawn rows
    with ``cell``."""
    n = len(population)
    if not 0 < size < n:
        raise ValueError(f"the pilot must be smaller than the population ({n:,} customers), got {size!r}")
    frame = population.assign(_stratum=_strata_key(population, strata))
    drawn = assign_cells(frame, size / n, strata="_stratum", seed=seed) == "control"  # "control" = drawn
    pilot = frame[drawn].copy()
    pilot["cell"] = assign_cells(pilot, control_share, strata="_stratum", seed=seed + 1)
    return pilot.drop(columns="_stratum").reset_index(drop=True)


def strata_shares(population: pd.DataFrame, pilot: pd.DataFrame, strata=("segment",)) -> pd.DataFrame:
    """Each stratum's customers and share in the population and in the pilot, attribute by
    attribute (attribute, level, population, population_share, pilot, pilot_share): a
    representative pilot has the population's shares."""
    rows = []
    for attr in [strata] if isinstance(strata, str) else strata:
        pop = _strata_key(population, [attr]).value_counts()
        pil = _strata_key(pilot, [attr]).value_counts().reindex(pop.index, fill_value=0)
        for level in pop.index:
            rows.append({"attribute": attr, "level": level, "population": int(pop[level]),
                         "population_share": pop[level] / pop.sum(), "pilot": int(pil[level]),
                         "pilot_share": pil[level] / max(pil.sum(), 1)})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# step 4: reading the pilot
# --------------------------------------------------------------------------------------

def read_pilot(con, campaign_id: str, as_of=None, alpha: float = 0.05) -> dict:
    """Step 4: the pilot campaign ``campaign_id`` read at ``as_of``: test against control
    (:func:`compare_cells`), with ``window_closed`` (every response window had ended),
    ``customers`` (its customers, both cells) and ``start`` (its first contact day)."""
    resp = responses(con, campaign_id, as_of)
    if resp.empty:
        raise ValueError(f"campaign {campaign_id!r} contacted nobody by {resp.attrs['as_of']}")
    t, c = resp[resp.cell == "test"], resp[resp.cell == "control"]
    out = compare_cells(int(t.responded.sum()), len(t), int(c.responded.sum()), len(c), alpha)
    out.update(campaign_id=campaign_id, channel=resp.channel.iloc[0], window_closed=bool(resp.window_closed.all()),
               window_end=resp.window_end.max().date(), start=resp.contact_date.min().date(),
               customers=sorted(set(resp.customer_id)))
    return out


# --------------------------------------------------------------------------------------
# step 5: the roll-out list
# --------------------------------------------------------------------------------------

def as_plan(customers: pd.DataFrame, as_of, channel: str, expected_profit: float = math.nan,
            excluded: pd.DataFrame | None = None) -> TargetPlan:
    """``customers`` (rows of :func:`eligible`, with ``cell`` or all to be contacted) as a
    :class:`TargetPlan`, so the contact-list export (:func:`export_list`) writes them: each
    with the ``expected_profit`` of a contact."""
    targets = customers.assign(expected_profit=expected_profit)
    if "cell" not in targets.columns:
        targets["cell"] = "test"
    keep = [c for c in ("customer_id", "cell", "customer_type", "segment", "value_tier", "lifecycle_stage", "city",
                        "city_tier", "expected_profit") if c in targets.columns]
    targets = targets[keep].reset_index(drop=True)
    test = int((targets.cell == "test").sum())
    summary = {"as_of": as_of, "channel": channel, "selected": len(targets), "contacts": test,
               "control": len(targets) - test}
    return TargetPlan(as_of, channel, targets, excluded if excluded is not None else
                      pd.DataFrame(columns=["reason", "customers"]), summary)


def rollout_list(con, population: pd.DataFrame, pilot_customers, as_of, channel: str, policy=None,
                 source: str = "rollout", priority: float = 5, planned: pd.DataFrame | None = None,
                 expected_profit: float = math.nan, holdout_share: float = 0.05, seed: int = 42) -> TargetPlan:
    """Step 5: the eligible ``population`` minus the ``pilot_customers`` (both cells), through
    the contact policy (:func:`apply_contact_policy`: the list named ``source`` with
    ``priority``; ``planned``: lists already kept in this run). A random ``holdout_share`` of
    them is held out (cell "control", drawn within the segments when the population has them:
    :func:`~dbmarketing.campaigns.design.assign_cells`), so the roll-out's own lift can be
    measured at full scale, as every campaign's is; 0 holds nobody out. Returns the roll-out as
    a :class:`TargetPlan`: its test cell is contacted (the contact-list export writes it), each
    with the ``expected_profit`` per contact; its ``excluded`` the customers left out, counted
    (reason, customers)."""
    A = warehouse.resolve_as_of(con, as_of)
    in_pilot = population.customer_id.isin(set(pilot_customers))
    rest = population[~in_pilot]
    wanted = pd.DataFrame({"customer_id": rest.customer_id, "channel": channel, "priority": priority, "source": source})
    kept, dropped = apply_contact_policy(con, wanted, A, policy, planned=planned)
    excluded = [(words.text("campaigns.reason_eligible"), len(population)),
                (words.text("campaigns.reason_in_pilot"), int(in_pilot.sum()))]
    excluded += [(reason, int(n)) for reason, n in dropped.reason.value_counts(sort=False).items()]
    chosen = rest[rest.customer_id.isin(kept.customer_id)].reset_index(drop=True)
    if holdout_share and len(chosen) > 1:
        strata = "segment" if "segment" in chosen.columns else None
        chosen = chosen.assign(cell=assign_cells(chosen, holdout_share, strata=strata, seed=seed))
    return as_plan(chosen, A, channel, expected_profit, pd.DataFrame(excluded, columns=["reason", "customers"]))
