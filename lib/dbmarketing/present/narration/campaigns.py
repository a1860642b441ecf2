"""Chapter 05, campaign response: the sentences its report prints.

The wording is the catalog's (``words/<lang>/campaigns.yaml``, keys ``campaigns.*``); the
functions here decide which sentences a run prints and with which figures, whatever the
language. Values the data holds (channels, learners, arm names) are written in the reader's
words with :func:`dbmarketing.present.words.label`, segment names with the segment map's
label of the reader's language (:func:`readable`).
"""

from __future__ import annotations

import pandas as pd

from .. import words


_t = words.of("campaigns")


def _list(items) -> str:
    return _t("list_sep").join(str(i) for i in items)


def readable(frame: pd.DataFrame, segments=None) -> pd.DataFrame:
    """A copy of ``frame`` for display with RFM segment names in the reader's language (the
    segment map's ``label_en`` / ``label_zh``): the ``segment`` column, and the ``level`` of the
    rows whose ``attribute`` is ``segment`` (a response profile). Other values stay as they are
    (the table helper writes them with the catalog's labels)."""
    from ... import rfm

    seg_map = rfm.load_segments(segments)
    lang = words.lang()
    names = {s.name: getattr(s, f"label_{lang}") for s in (*seg_map.segments, seg_map.prospects)}
    out = frame.copy()
    if "segment" in out:
        out["segment"] = out["segment"].map(lambda v: names.get(v, v))
    if {"attribute", "level"} <= set(out.columns):
        is_segment = out["attribute"] == "segment"
        out.loc[is_segment, "level"] = out.loc[is_segment, "level"].map(lambda v: names.get(v, v))
    return out


def nothing_closed(as_of) -> str:
    return _t("nothing_closed", as_of=as_of)


def reading_results(results: pd.DataFrame, measured: pd.DataFrame, closed, as_of) -> str:
    sig = measured[measured.significant.fillna(False).astype(bool) & (measured.warning == "")]
    still_open = sorted(set(results.campaign_id) - set(closed))
    with_control = measured[measured.incremental_margin.notna()]
    if with_control.empty:
        best_text = _t("no_control")
    else:
        best = with_control.loc[with_control.incremental_margin.idxmax()]
        best_text = _t("best_margin", campaign=best.campaign_id, channel=words.label(best.channel),
                       responders=best.incremental_responders, margin=best.incremental_margin, cost=best.cost)
    return ((_t("not_measured_yet", as_of=as_of, campaigns=_list(still_open)) if still_open else "")
            + _t("reading_chart", significant=len(sig), measured=len(measured)) + best_text
            + _t("small_control_note"))


def last_campaign(row, profit: str) -> str:
    """The newest measured campaign's incremental profit, ``profit`` written as the index
    writes it (:func:`dbmarketing.present.headline` returns it)."""
    return _t("last_campaign", campaign=row.campaign_id, name=row.campaign_name, profit=profit,
              margin=row.incremental_margin, cost=row.cost)


def reading_gains(gains: pd.DataFrame, learner: str) -> str:
    top = gains.iloc[2]
    return _t("reading_gains", learner=words.label(learner), gain=top.gain, lift=top.cum_lift)


def reading_uplift(qini: pd.DataFrame, truth: dict | None, control_share_past: float) -> str:
    q = qini.set_index("ranking").qini
    by_uplift = q["by uplift"] > q["by response score"]
    lines = [_t("uplift_qini", qini_uplift=q["by uplift"], qini_response=q["by response score"],
                winner=_t("winner_uplift") if by_uplift else _t("winner_response"))]
    if truth is not None:
        truth_uplift = truth["mean_true_uplift_top_30%"] > truth["mean_true_uplift_top_30%_by_response"]
        lines.append(
            _t("uplift_truth", spearman=truth["spearman"], spearman_response=truth["spearman_response_score"],
               top_uplift=100 * truth["mean_true_uplift_top_30%"],
               top_response=100 * truth["mean_true_uplift_top_30%_by_response"],
               everybody=100 * truth["mean_true_uplift_all"],
               better=_t("winner_uplift") if truth_uplift else _t("winner_response"))
            + (_t("uplift_verdicts_differ") if truth_uplift != by_uplift else ""))
    lines.append(_t("uplift_control", control_share=control_share_past))
    return _t("sentence_sep").join(lines)


def no_uplift_to_rank() -> str:
    return _t("no_uplift_to_rank")


def test_design(channel: str, figures: dict, design: dict, min_lift: float, power: float, alpha: float,
                control_share: float) -> str:
    return _t("test_design", channel=words.label(channel), control_rate=figures["control_rate"],
              margin=figures["margin_per_response"], cost=figures["cost_per_contact"], min_lift=100 * min_lift,
              power=power, alpha=alpha, control_share=control_share, test=design["test"],
              control=design["control"], total=design["total"])


def plan_summary(s: dict) -> str:
    return (_t("plan_summary", selected=s["selected"], contacts=s["contacts"], control=s["control"],
               responders=s["expected_incremental_responders"], margin=s["expected_incremental_margin"],
               cost=s["cost"], profit=s["expected_profit"], detectable=100 * s["minimum_detectable_lift"],
               expected=100 * s["expected_lift"])
            + (_t("plan_warning", warning=s["warning"]) if s["warning"] else ""))


def lists_written(folder: str, written, contacts: int, dropped, clearance: int) -> str:
    return (_t("lists_written", folder=folder, files=_list(f"`{w}`" for w in written), contacts=contacts)
            + (_t("lists_dropped", clearance=clearance, columns=_list(words.header(c) for c in dropped))
               if dropped else _t("lists_all")))


def not_recorded() -> str:
    return _t("not_recorded")


def recorded(campaign_id: str, start, contacts_loaded: int) -> str:
    return _t("recorded", campaign=campaign_id, start=start, contacts=contacts_loaded)


def no_campaign_file() -> str:
    return _t("no_campaign_file")


def campaign_file(cf) -> str:
    arms = cf.frame.arm.value_counts()
    return _t("campaign_file", path=cf.path, customers=len(cf.frame), arms=len(arms),
              sizes=_list(_t("arm_size", arm=words.label(a), customers=n) for a, n in arms.items()),
              control=words.label(cf.control))


def reading_arms(best, outcome: str) -> str:
    return _t("reading_arms", outcome=words.header(outcome), arm=words.label(best.arm), lift=100 * best.lift,
              p=best.p_holm)
