"""Finding new customers: prospects who look like the best ones (chapter 08).

Of the four kinds of customer in the database, the **potential customer** is "found mainly by
similarity to current customers, or by the characteristics of buyers of similar products". The
parts (private; the names below are the public face):

- ``pool`` -- the prospects from two places in one frame: registered non-buyers and the
  external prospect list (rows already customers flagged and counted) (:func:`prospects`);
- ``profile`` -- the best customers against the whole base, per attribute value a prospect
  also has: index and a significance test (:func:`best_profile`);
- ``lookalike`` -- the look-alike (best vs the rest, shared attributes only) and the one
  attribute model it and the response model are (:func:`lookalike`, :func:`fit_attribute_model`);
- ``acquisition`` -- a past acquisition mailing: lift against control, the response model
  against the look-alike on one hold-out, responder rules (:func:`acquisition_models`);
- ``selection`` -- the acquisition list by expected value, exclusions counted, a control
  group, the export (:func:`acquisition_list`);
- ``truth`` -- the models and the list against the sample's planted propensity.

Their SQL is in ``warehouse/sql/prospects.sql``.
"""

from .acquisition import AcquisitionModels, acquisition_lift, acquisition_models, acquisition_results, acquisition_rules
from .lookalike import AttributeModel, fit_attribute_model, lookalike
from .pool import (
    LIST_ATTRIBUTES,
    POOL_COLUMNS,
    PROFILE_ATTRIBUTES,
    SHARED_ATTRIBUTES,
    attribute_values,
    customer_base,
    has_acquisition,
    has_list,
    prospects,
)
from .profile import BEST_TIER, best_flag, best_profile
from .selection import (
    LIST_COLUMNS,
    AcquisitionList,
    FirstYearValue,
    acquisition_list,
    contact_cost,
    expected_values,
    export_acquisition_list,
    first_year_value,
    purchase_probability,
)
from .truth import against_truth, expected_gain, list_against_random, planted

__all__ = [
    "LIST_ATTRIBUTES", "POOL_COLUMNS", "PROFILE_ATTRIBUTES", "SHARED_ATTRIBUTES", "attribute_values", "customer_base",
    "has_acquisition", "has_list", "prospects",
    "BEST_TIER", "best_flag", "best_profile",
    "AttributeModel", "fit_attribute_model", "lookalike",
    "AcquisitionModels", "acquisition_lift", "acquisition_models", "acquisition_results", "acquisition_rules",
    "LIST_COLUMNS", "AcquisitionList", "FirstYearValue", "acquisition_list", "contact_cost", "expected_values", "export_acquisition_list",
    "first_year_value", "purchase_probability",
    "against_truth", "expected_gain", "list_against_random", "planted",
]
