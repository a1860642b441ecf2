"""Customer lifetime value: how many more purchases, of what value, from each customer.

Two probability models of customer behaviour in a *non-contractual* setting (the customer
can leave without telling us), fitted to each customer's purchase summary, and the value
calculation that combines them:

- :class:`BetaGeo` -- the BG/NBD model of *how often* a customer buys and *whether* the
  customer is still "alive" (Fader, Hardie & Lee 2005);
- :class:`GammaGamma` -- the Gamma-Gamma model of *how much* a customer spends per purchase
  (Fader, Hardie & Lee 2005; Fader & Hardie 2013);
- :func:`customer_lifetime_value` -- expected discounted margin over a horizon;
- :func:`holdout_comparison` -- the calibration/holdout check of the purchase model;
- :func:`summary_from_events` -- a small pandas reference implementation of the
  customer summary (frequency, recency, T, monetary value) for tests and tiny data.

The verbs follow scikit-learn (parameters in ``__init__``, ``fit`` returns the model, learned
state ends in ``_``) and the names follow the lifetimes package (``frequency``, ``recency``,
``T``, ``monetary_value``).

Units. ``frequency`` is the number of *repeat* purchases (the first purchase is not counted;
several purchases on the same day count as one). ``recency`` is the time from the first to
the last purchase and ``T`` the time from the first purchase to the end of the observation
period, both in one time unit of your choice (weeks in the CDNOW examples). Every time
argument of a fitted model (``t``, ``periods * period_length``) is in that same unit, and
the fitted rate parameter ``alpha_`` is too.

The parts (private): ``base`` (what the fitters share), ``bgnbd``, ``gamma_gamma``, ``value``.
"""

from .base import NotFittedError
from .bgnbd import BetaGeo
from .gamma_gamma import GammaGamma
from .value import customer_lifetime_value, holdout_comparison, summary_from_events

__all__ = [
    "NotFittedError",
    "BetaGeo",
    "GammaGamma",
    "customer_lifetime_value",
    "holdout_comparison",
    "summary_from_events",
]
