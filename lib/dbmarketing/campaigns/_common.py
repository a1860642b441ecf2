"""What two modules of the campaigns package share (private): a campaign's rows of a feature table."""

from __future__ import annotations

import pandas as pd


def _subset(features: pd.DataFrame, campaign_id) -> pd.DataFrame:
    """The rows of ``features`` of the given campaign(s) (None or "all": every row)."""
    if campaign_id is None or (isinstance(campaign_id, str) and campaign_id.strip().lower() in ("", "all")):
        return features
    wanted = [campaign_id] if isinstance(campaign_id, str) else list(campaign_id)
    unknown = sorted(set(wanted) - set(features.campaign_id))
    if unknown:
        raise ValueError(f"campaign(s) {', '.join(map(repr, unknown))} not in these features "
                         f"(they hold {', '.join(sorted(set(features.campaign_id)))})")
    return features[features.campaign_id.isin(wanted)]
