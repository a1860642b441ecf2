"""Chapter 05, campaign response: the sentences its report prints."""

from __future__ import annotations

import pandas as pd


def nothing_closed(as_of) -> str:
    return (f"No campaign's response window had closed by {as_of}: a campaign is measured once its window is over. "
            "Choose a later as_of.")


def reading_results(results: pd.DataFrame, measured: pd.DataFrame, closed, as_of) -> str:
    sig = measured[measured.significant.fillna(False).astype(bool) & (measured.warning == "")]
    still_open = sorted(set(results.campaign_id) - set(closed))
    with_control = measured[measured.incremental_margin.notna()]
    if with_control.empty:
        best_text = ("**No campaign held out a control group**: the blue bars are the response rates of the contacted "
                     "customers, but how many of them would have bought anyway, and so what the campaigns caused (lift, "
                     "incremental margin, ROI), cannot be measured. Hold out a random control group next time.")
    else:
        best = with_control.loc[with_control.incremental_margin.idxmax()]
        best_text = (f"The largest incremental margin came from **{best.campaign_id}** ({best.channel}): "
                     f"{best.incremental_responders:,.0f} extra responders, {best.incremental_margin:,.0f} of extra margin "
                     f"for {best.cost:,.0f} of contacts. ")
    return ((f"Not measured yet on {as_of} (response window still open, or not started; left out of the chart and the "
             f"models): {', '.join(still_open)}. " if still_open else "")
            + f"**Reading the chart.** The grey bars are what customers bought anyway. {len(sig)} of {len(measured)} "
            "campaigns show a lift that is significant at 5% with cells large enough to trust. " + best_text
            + "Where the control cell is small the interval is wide: the lift may be real, but the test cannot tell.")


def reading_gains(gains: pd.DataFrame, learner: str) -> str:
    top = gains.iloc[2]
    return (f"Contacting the best **30%** by the {learner} score reaches **{100 * top.gain:.0f}%** of the "
            f"responders: {top.cum_lift:.2f} times what a random 30% would.")


def reading_uplift(qini: pd.DataFrame, truth: dict | None, control_share_past: float) -> str:
    q = qini.set_index("ranking").qini
    winner = "uplift" if q["by uplift"] > q["by response score"] else "the response score"
    lines = [f"On this holdout the Qini coefficient is **{q['by uplift']:.2f}** ranking by uplift and "
             f"**{q['by response score']:.2f}** ranking by the response score: measured against the control customers, "
             f"ranking by {winner} found more incremental responders."]
    if truth is not None:
        better = ("uplift" if truth["mean_true_uplift_top_30%"] > truth["mean_true_uplift_top_30%_by_response"]
                  else "the response score")
        lines.append(
            f"The sample knows each customer's true uplift (it was planted): the rank correlation between predicted and true "
            f"uplift is **{truth['spearman']:.2f}** ({truth['spearman_response_score']:.2f} for the response score); the top "
            f"30% by predicted uplift have a mean true uplift of {100 * truth['mean_true_uplift_top_30%']:.1f} points, the top "
            f"30% by response score {100 * truth['mean_true_uplift_top_30%_by_response']:.1f}, everybody "
            f"{100 * truth['mean_true_uplift_all']:.1f}: by the answer key, {better} picks the more persuadable customers."
            + (" The holdout's verdict and the answer key's differ: a holdout measures uplift through small control cells, "
               "and its Qini carries that noise." if better != winner else ""))
    lines.append(
        f"The control cells held {100 * control_share_past:.0f}% of the selected customers; uplift is learned from the "
        "contrast with them, so the smaller they are, the noisier the uplift. Where response and uplift rank alike, the "
        "customers most likely to buy are also the most persuadable; uplift pays most where many loyal customers buy anyway "
        "or where contacts annoy.")
    return " ".join(lines)


def no_uplift_to_rank() -> str:
    return ("The next list is ranked by the uplift model, learned from past campaigns with a control group (see above): "
            "without it there is nothing to rank by.")


def test_design(channel: str, figures: dict, design: dict, min_lift: float, power: float, alpha: float,
                control_share: float) -> str:
    return (f"Past {channel} campaigns: control response rate **{100 * figures['control_rate']:.1f}%**, a responder's "
            f"margin **{figures['margin_per_response']:,.2f}**, a contact costs **{figures['cost_per_contact']:,.2f}**. "
            f"To detect a lift of {100 * min_lift:.1f} points with {100 * power:.0f}% power at {100 * alpha:.0f}% "
            f"significance, holding out {100 * control_share:.0f}%: **{design['test']:,}** contacted and "
            f"**{design['control']:,}** in control ({design['total']:,} in all).")


def plan_summary(s: dict) -> str:
    return (f"**{s['selected']:,}** customers selected: **{s['contacts']:,}** to contact, **{s['control']:,}** held out. "
            f"Expected: {s['expected_incremental_responders']:,.0f} incremental responders, "
            f"{s['expected_incremental_margin']:,.0f} of incremental margin for {s['cost']:,.0f} of contacts, expected "
            f"profit **{s['expected_profit']:,.0f}**. These cells can detect a lift of "
            f"{100 * s['minimum_detectable_lift']:.1f} points (expected lift {100 * s['expected_lift']:.1f})."
            + (f" **Warning: {s['warning']}.**" if s["warning"] else ""))


def lists_written(folder: str, written, contacts: int, dropped, clearance: int) -> str:
    return (f"Written to the folder `{folder}` (in a report run, the run's own folder, linked "
            f"from its index): {', '.join(f'`{w}`' for w in written)} ({contacts:,} customers). "
            + (f"Left out at clearance {clearance}: {', '.join(dropped)}." if dropped else "All columns included."))


def not_recorded() -> str:
    return ("The plan is not recorded as a campaign (`save_as` is empty). Record it when the list is really "
            "sent: a plan recorded but never sent would later look like a campaign that did nothing.")


def recorded(campaign_id: str, start, contacts_loaded: int) -> str:
    return (f"Recorded as campaign **{campaign_id}** starting {start}: {contacts_loaded:,} "
            "contacts loaded (test and control cells). Measure it here once its response window has passed.")


def no_campaign_file() -> str:
    return "No campaign export given (`campaign_file` is empty): nothing to analyse here."


def campaign_file(cf) -> str:
    arms = cf.frame.arm.value_counts()
    return (f"`{cf.path}`: **{len(cf.frame):,}** customers in {len(arms)} arms "
            f"({', '.join(f'{a} {n:,}' for a, n in arms.items())}); control arm **{cf.control}**.")


def reading_arms(best, outcome: str) -> str:
    return (f"**Reading the chart.** On {outcome}, **{best.arm}** has the larger lift overall "
            f"({100 * best.lift:.1f} points, Holm-adjusted p = {best.p_holm:.2g}). The bars show whether an arm works for "
            "everybody or only for some: an offer that lifts one group and leaves the other cold should go to that "
            "group only, and the next test can confirm it.")
