"""Customer modeling: the 360 view and lifecycle, value tiers, CLV, churn and segments.

The customer model (notebook 03) builds on the clean ``main`` tables of :mod:`dbmarketing.cleanse`,
one module a job:

- ``c360``: :func:`customer_types` (the four types of notebook 01, per customer) and
  :func:`type_counts` (counted by source and type in the database); :func:`customer_360` -- one
  row per master customer at ``as_of``: demographics, tenure, type, source, consents, lifecycle
  stage (:class:`LifecycleRules`), revenue, gross margin at product cost, cost to serve
  (:class:`ServiceCosts`), profit, channel and category mix, campaign history, complaints.
  Computed in DuckDB from feature sources (:data:`SOURCES`) that each report the newest date
  they used: a date after ``as_of`` raises :class:`LeakageError`; :func:`lifecycle` -- the
  lifecycle stage alone; :func:`store_360` -- the same view written by the database into a
  table (no round trip through pandas, for ten million customers) and :func:`counts_360` --
  its customers per stage, type and channel, counted there;
- ``value``: :func:`value_tiers` (MVC, MGC, BZ) and :func:`profit_pareto`; :func:`fit_clv` --
  BG/NBD and Gamma-Gamma (:mod:`dbmarketing.clv`) per customer type on the repeat-purchase
  summary of :func:`dbmarketing.rfm.summarize`, CLV with a margin and a discount rate, and the
  calibration/holdout check;
- ``churn``: :func:`churn_model` -- "no purchase in the next ``horizon_days``": a decision tree
  and a logistic regression on a time-based split, AUC, top-decile lift, calibration; and
  :func:`valuable_at_risk`, the valuable customers at high risk with their reasons;
  :func:`plot_churn_tree` draws the tree for a marketer;
- ``segments``: :func:`segment` -- k-means on log-transformed, standardized behaviour, k by
  silhouette, profiles as indices (100 = average); :func:`marketing_groups` (overlapping lists);
- ``model``: :func:`build_customer_model` -- all of it, written to ``main.customer_model`` (one
  row per customer per as-of date; rows of that date replaced, other dates kept; in the catalog
  with privacy tiers); :func:`customer_view` -- one customer's 360 view for the lookup;
- ``checks``: :class:`LeakageError`, and :func:`clv_recovery` -- the CLV fit against the
  parameters planted in the sample database;
- ``tables``: the summary tables chapters 01 and 03 show (types, stages, revenue to profit,
  value tiers, marketing groups), from the model's frames.
"""

from .c360 import (
    CUSTOMER_TYPES,
    customer_types,
    type_counts,
    LIFECYCLE_STAGES,
    CHANNELS,
    TICKET_TYPES,
    LifecycleRules,
    ServiceCosts,
    SOURCES,
    customer_360,
    counts_360,
    lifecycle,
    store_360,
)
from .value import (
    VALUE_TIERS,
    value_tiers,
    profit_pareto,
    ClvResult,
    fit_clv,
    MIN_CLV_BUYERS,
    MIN_CLV_REPEATERS,
)
from .churn import (
    CHURN_FEATURES,
    WHOLE_NUMBER_FEATURES,
    FEATURE_LABELS,
    churn_features,
    top_decile_lift,
    model_reasons,
    churn_reasons,
    tree_nodes,
    plot_churn_tree,
    ChurnResult,
    churn_model,
    valuable_at_risk,
)
from .segments import (
    SEGMENT_FEATURES,
    SegmentResult,
    segment,
    MARKETING_GROUPS,
    unknown_groups,
    marketing_groups,
)
from .model import (
    CUSTOMER_MODEL,
    CustomerModel,
    build_customer_model,
    has_product_costs,
    store_customer_model,
    customer_view,
    VIEW_SECTIONS,
    view_sections,
)
from .checks import (
    LeakageError,
    clv_recovery,
)
from .tables import group_counts, profit_bridge, stage_by_type, stage_counts, tier_summary, type_summary, types_by_source

__all__ = [
    "stage_counts", "stage_by_type", "profit_bridge", "tier_summary", "group_counts", "type_summary", "types_by_source",
    "CUSTOMER_TYPES",
    "customer_types",
    "type_counts",
    "LIFECYCLE_STAGES",
    "VALUE_TIERS",
    "CHANNELS",
    "TICKET_TYPES",
    "LeakageError",
    "LifecycleRules",
    "ServiceCosts",
    "SOURCES",
    "customer_360",
    "store_360",
    "counts_360",
    "lifecycle",
    "value_tiers",
    "profit_pareto",
    "ClvResult",
    "fit_clv",
    "CHURN_FEATURES",
    "WHOLE_NUMBER_FEATURES",
    "FEATURE_LABELS",
    "churn_features",
    "top_decile_lift",
    "model_reasons",
    "churn_reasons",
    "tree_nodes",
    "plot_churn_tree",
    "ChurnResult",
    "churn_model",
    "valuable_at_risk",
    "SEGMENT_FEATURES",
    "SegmentResult",
    "segment",
    "MARKETING_GROUPS",
    "unknown_groups",
    "marketing_groups",
    "CUSTOMER_MODEL",
    "CustomerModel",
    "build_customer_model",
    "has_product_costs",
    "store_customer_model",
    "customer_view",
    "VIEW_SECTIONS",
    "view_sections",
    "clv_recovery",
    "MIN_CLV_BUYERS",
    "MIN_CLV_REPEATERS",
]
