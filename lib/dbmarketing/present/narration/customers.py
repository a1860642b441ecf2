"""Chapter 03, the customer model: the sentences its report prints."""

from __future__ import annotations

import pandas as pd


def model_stored(as_of, c360: pd.DataFrame, stored_dates) -> str:
    buyers = int((~c360.is_prospect).sum())
    return (f"Customer model as of **{as_of}**: **{len(c360):,}** customers ({buyers:,} buyers, "
            f"{int(c360.is_prospect.sum()):,} prospects) written to `main.customer_model`; "
            f"dates kept in the table: {', '.join(str(d) for d in stored_dates)}.")


def reading_pareto(attrs: dict, value: str) -> str:
    below_zero = attrs["peak_share"] > 1 + 1e-9  # customers below zero pull the curve back down to 100%
    return (f"Reading the chart: the top 20% of buyers bring **{attrs['top20_share']:.0%}** of all {value}. "
            + (f"The curve peaks at **{attrs['peak_share']:.1%}** of the total after {attrs['peak_customer_share']:.0%} "
               "of the buyers; the customers after the peak are below zero and pull the total back to 100%."
               if below_zero else "No customer is below zero: the curve climbs to 100% and stays there."))


def holdout(calibration_end, holdout_weeks: int, attrs: dict) -> str:
    return (f"The model was refitted on purchases up to **{calibration_end}** and asked to predict the "
            f"{holdout_weeks} weeks after it. It predicted **{attrs['predicted_total']:,.0f}** repeat purchases against "
            f"**{attrs['actual_total']:,.0f}** made (error **{attrs['total_error']:+.1%}**); the mean absolute error of the "
            f"group means, weighted by customers, is **{attrs['mae']:.3f}** purchases per customer.")


def churn_snapshots(churn) -> str:
    return (f"Training snapshot **{churn.train_as_of}**, holdout snapshot **{churn.test_as_of}**, "
            f"horizon {churn.horizon_days} days; on the holdout **{churn.base_rate:.0%}** of the customers churned.")


def reading_tree(leaves: pd.DataFrame) -> str:
    return ("Reading the tree: each box asks a question -- go left (**yes**) or right (**no**) -- and shows the churn share "
            "among the customers who reach it and their share of all customers; green boxes hold few churners, red boxes "
            f"many. The leaves run from **{leaves.churn_share.min():.0%}** to **{leaves.churn_share.max():.0%}** churn. "
            "Where the base rate is high, both sides of a split can end \"likely to churn\": the split still matters, "
            "since it separates higher from lower risk, and the risk score -- not the yes/no decision -- is what ranks "
            "the customers.")


def at_risk(risky: pd.DataFrame, c360: pd.DataFrame, value: str) -> str:
    at = risky.attrs
    return (f"**{len(risky):,}** valuable customers at high risk: {value} to date at least {at['value_cut']:,.0f} "
            f"and churn risk at least **{at['risk_cut']:.0%}** (1.2 x the base rate {at['base_rate']:.0%})"
            + (f"; together they brought {risky[value].sum():,.0f} of {value} so far "
               f"({risky[value].sum() / c360[value].sum():.1%} of all)." if len(risky) else "."))


def left_out_of_segments(left_out) -> str:
    return (f"Left out of the segmentation, since every buyer has the same value: {', '.join(left_out)} "
            "(nothing of the kind was loaded, or nobody differs).")
