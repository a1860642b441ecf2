"""Campaigns: what a past campaign really did, who responds, who responds *because* of the
contact, and the next target list.

The parts (private; the names below are the public face):

- ``measurement`` -- responses, closed campaigns, test against control, lift and its
  intervals, results by campaign and breakdown, the customer as known before the campaign
  (:func:`contact_features`) and response profiles; its docstring states the definitions;
- ``models`` -- the response model (gains), the uplift learners (:class:`TwoModelUplift`,
  :class:`InteractionUplift`, which accept any scikit-learn classifier) and the Qini measures;
- ``design`` -- the test design: sample sizes, power, detectable lift, random cells;
- ``policy`` -- the contact policy across every campaign and trigger: consent, contact point,
  do-not-contact, frequency caps by channel and priorities (:func:`apply_contact_policy`);
- ``rollout`` -- test, then roll out: the eligible, the decision rule stated before the test,
  a representative pilot, its reading, and the roll-out list through the contact policy;
- ``selection`` -- the next campaign: whom to contact, its contact list and its record;
- ``exports`` -- a customer-level campaign export brought from a campaign tool, arm by arm;
- ``planning`` -- what chapter 05 decides between its calls: its choices checked, the columns
  its tables show, the figures the next campaign is planned with, its response window, the
  uplift methods side by side;
- ``_common`` -- what two of them share.

Their SQL is in ``warehouse/sql/campaigns.sql``.
"""

from .design import assign_cells, minimum_detectable_lift, power_of_test, sample_size
from .exports import NO, YES, CampaignFile, arm_results, file_profile, read_campaign_file
from .measurement import (
    BREAKDOWNS,
    CHANNEL_CONSENT,
    CHANNEL_CONTACT,
    PROFILE_ATTRIBUTES,
    campaign_list,
    closed_campaigns,
    compare_cells,
    contact_features,
    in_response_window,
    response_profile,
    responses,
    results,
    snapshot,
)
from .models import (
    HOLDOUTS,
    MODEL_FEATURES,
    UPLIFT_METHODS,
    InteractionUplift,
    ResponseModel,
    TwoModelUplift,
    UpliftResult,
    gains_table,
    qini_coefficient,
    qini_curve,
    response_model,
    uplift_against_truth,
    uplift_model,
)
from .policy import (
    DEFAULT_POLICY,
    ContactPolicy,
    PolicyError,
    apply_contact_policy,
    load_policy,
    reach_rules,
    recent_contacts,
    suppressed,
)
from .selection import TargetPlan, export_list, past_channel_figures, save_campaign, select_targets
from .rollout import (
    DecisionRule,
    as_plan,
    decide,
    decision_rule,
    draw_pilot,
    eligible,
    read_pilot,
    rollout_list,
    rule_before_test,
    strata_shares,
)
from .planning import (
    RATE_COLUMNS,
    check_choices,
    compare_uplift_methods,
    next_campaign_figures,
    response_window,
)

__all__ = [
    "RATE_COLUMNS", "check_choices", "compare_uplift_methods", "next_campaign_figures",
    "response_window",
    "CHANNEL_CONSENT",
    "CHANNEL_CONTACT",
    "MODEL_FEATURES",
    "BREAKDOWNS",
    "campaign_list",
    "in_response_window",
    "responses",
    "closed_campaigns",
    "compare_cells",
    "results",
    "snapshot",
    "contact_features",
    "HOLDOUTS",
    "gains_table",
    "ResponseModel",
    "response_model",
    "TwoModelUplift",
    "InteractionUplift",
    "UPLIFT_METHODS",
    "qini_curve",
    "qini_coefficient",
    "UpliftResult",
    "uplift_model",
    "uplift_against_truth",
    "PROFILE_ATTRIBUTES",
    "response_profile",
    "sample_size",
    "power_of_test",
    "minimum_detectable_lift",
    "assign_cells",
    "suppressed",
    "DEFAULT_POLICY",
    "ContactPolicy",
    "PolicyError",
    "apply_contact_policy",
    "load_policy",
    "reach_rules",
    "recent_contacts",
    "DecisionRule",
    "as_plan",
    "decide",
    "decision_rule",
    "draw_pilot",
    "eligible",
    "read_pilot",
    "rollout_list",
    "rule_before_test",
    "strata_shares",
    "TargetPlan",
    "select_targets",
    "past_channel_figures",
    "export_list",
    "save_campaign",
    "YES",
    "NO",
    "CampaignFile",
    "read_campaign_file",
    "arm_results",
    "file_profile",
]
