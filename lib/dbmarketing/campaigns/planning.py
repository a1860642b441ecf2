"""What chapter 05 decides between its calls: the report's choices checked, the columns its
result tables show, the figures the next campaign is planned with (given, or taken from the
past campaigns of its channel), its response window, and the uplift methods side by side."""

from __future__ import annotations

import pandas as pd

from .models import UPLIFT_METHODS, uplift_against_truth, uplift_model
from .selection import past_channel_figures

# Columns shown as percentages wherever they appear in the chapter's tables.
RATE_COLUMNS = ["test_rate", "test_rate_low", "test_rate_high", "control_rate", "control_rate_low", "control_rate_high",
                "lift", "lift_low", "lift_high", "relative_lift", "break_even_rate", "break_even_lift", "arm_rate", "gain",
                "cum_share_customers", "response_rate", "share_of_contacted", "share_of_responders"]
DEFAULT_WINDOW_DAYS = 30


def check_choices(**choices) -> None:
    """Each keyword is ``name=(value, allowed)``; a value not allowed stops with a one-line
    error naming the parameter."""
    for name, (value, allowed) in choices.items():
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


def next_campaign_figures(con, channel: str, measured: pd.DataFrame, margin_per_response: float = 0.0,
                          cost_per_contact: float = 0.0, base_rate: float = 0.0) -> dict:
    """The margin of a responder, the cost of a contact and the control response rate the next
    ``channel`` campaign is planned with: each as given (non-zero), else from the measured past
    campaigns of the channel (``measured``: :func:`results` rows of closed campaigns; the
    control rate pooled over their control cells)."""
    past = measured[measured.channel == channel]
    if (not margin_per_response or not cost_per_contact or not base_rate) and past.empty:
        raise ValueError(f"no past {channel} campaign with a closed window to take the margin, cost and base rate "
                         "from: give margin_per_response, cost_per_contact and base_rate")
    figures = past_channel_figures(con, channel, measured) if not (margin_per_response and cost_per_contact) else {}
    return {"margin_per_response": margin_per_response or figures["margin_per_response"],
            "cost_per_contact": cost_per_contact or figures["cost_per_contact"],
            "control_rate": base_rate or float(past.control_responders.sum() / max(past.control.sum(), 1))}


def response_window(overview: pd.DataFrame, channel: str, days: int = 0) -> int:
    """The response window of a campaign to record: ``days`` if given, else that of the newest
    campaign of the channel in ``overview`` (:func:`campaign_list`), else 30 days."""
    if days:
        return int(days)
    same = overview[overview.channel == channel]
    return int(same.response_window_days.iloc[-1]) if len(same) else DEFAULT_WINDOW_DAYS


def compare_uplift_methods(con, features: pd.DataFrame, fitted, method: str, seed: int, holdout: str) -> pd.DataFrame:
    """Every uplift method on the same holdout: Qini by uplift and by response score, and where
    the database knows the planted true uplift, the rank correlation with it and the top 30%'s
    true uplift. ``fitted``: the model of ``method`` already fitted (not fitted twice)."""
    rows = []
    for each in UPLIFT_METHODS:
        model = fitted if each == method else uplift_model(features, method=each, seed=seed, holdout=holdout)
        q = model.qini.set_index("ranking")
        row = {"method": each, "qini by uplift": q.loc["by uplift", "qini"],
               "qini by response score": q.loc["by response score", "qini"]}
        truth = uplift_against_truth(con, model.holdout)
        if truth is not None:
            row.update({"rank correlation with the true uplift": truth["spearman"],
                        "true uplift of the top 30% (points)": 100 * truth["mean_true_uplift_top_30%"]})
        rows.append(row)
    return pd.DataFrame(rows)
