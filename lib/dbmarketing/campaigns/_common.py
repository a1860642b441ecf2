"""What two modules of the campaigns package share (private)."""

from __future__ import annotations

import pandas as pd


def _small_cells(cells: dict, min_contacts: int, min_responders: int, name: str) -> str:
    """The warning for a comparison (a :func:`compare_cells` result) whose cells are too small
    to trust: fewer than ``min_contacts`` customers in a cell or ``min_responders`` responders."""
    problems = []
    if cells["contacted"] < min_contacts or cells["control"] < min_contacts:
        problems.append(f"fewer than {min_contacts} customers in a cell ({name} {cells['contacted']}, "
                        f"control {cells['control']})")
    if cells["test_responders"] + cells["control_responders"] < min_responders:
        problems.append(f"fewer than {min_responders} responders")
    return "too small to trust: " + "; ".join(problems) if problems else ""


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
