"""Customer lifetime value: BG/NBD and Gamma-Gamma fitters, value and the holdout check."""

from .bgnbd import (
    NotFittedError,
    BetaGeo,
    GammaGamma,
    customer_lifetime_value,
    holdout_comparison,
    summary_from_events,
)

__all__ = [
    "NotFittedError",
    "BetaGeo",
    "GammaGamma",
    "customer_lifetime_value",
    "holdout_comparison",
    "summary_from_events",
]
