"""Campaigns: bring your own campaign -- a customer-level export of a campaign tool with
several arms (treatments) and one control arm, read through a column map and measured arm by
arm against the control."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import ingest, messages
from ..ingest import BOOLEAN_WORDS
from .measurement import _small_cells, compare_cells, holm, response_profile


YES = {word for word, yes in BOOLEAN_WORDS.items() if yes}
NO = {word for word, yes in BOOLEAN_WORDS.items() if not yes}


@dataclass
class CampaignFile:
    """A customer-level campaign export read by :func:`read_campaign_file`: ``frame`` has one
    row per customer (indexed by the file's line), ``arm``, the outcomes (``responded`` and
    the ``also`` columns, 0/1), ``spend`` (0 without a spend column) and the attributes as
    text (numeric attributes with many values in five quantile bands)."""

    path: Path
    control: str
    outcomes: list
    attributes: list
    cost_per_contact: float
    frame: pd.DataFrame


def _yes_no(values: pd.Series, location: str, column: str) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.lower()
    bad = ~text.isin(YES | NO)
    if bad.any():
        lines = messages.cut_list([f"line {i} ({values[i]!r})" for i in values.index[bad][:5]], 5,
                                  total=int(bad.sum()))
        raise ValueError(f"{location}, column {column!r}: not a yes/no value at {lines} (use 1/0, yes/no, true/false)")
    return text.isin(YES).astype(int)


def _bands(values: pd.Series, column: str) -> pd.Series:
    """A numeric attribute with more than 12 values in five quantile bands; others as text."""
    number = pd.to_numeric(values, errors="coerce")
    if number.notna().all() and number.nunique() > 12:
        cut = pd.qcut(number, 5, duplicates="drop")
        return cut.map(lambda iv: f"{iv.left:,.6g} - {iv.right:,.6g}").astype(str)
    return values.fillna("(empty)").astype(str)


def read_campaign_file(map_path) -> CampaignFile:
    """Read a customer-level campaign export through its column map (YAML, see
    ``params/campaigns/email_test.yaml``): ``path`` (relative to the current folder),
    ``encoding``, ``sheet``, ``group`` (the arm column), ``control`` (the arm not contacted),
    ``responded`` (the yes/no outcome), ``also`` (more yes/no outcomes), ``spend``,
    ``cost_per_contact`` and ``attributes``. A missing column, an empty arm, a value that is
    not yes/no or a spend that is not a number raises ValueError naming file, line and column."""
    map_path = Path(map_path)
    spec = messages.read_yaml(map_path, ValueError, "column map") or {}
    if not isinstance(spec, dict):
        raise ValueError(f"{map_path}: expected a mapping 'key: value' (path:, group:, control:, responded:, ...)")
    for key in ("path", "group", "control", "responded"):
        if not spec.get(key):
            raise ValueError(f"{map_path}: '{key}:' is missing")
    records = ingest.read_file(spec["path"], encoding=spec.get("encoding") or "auto", sheet=spec.get("sheet"))
    location = str(spec["path"])
    if len(records.bad_shape):
        first = records.bad_shape.iloc[0]
        raise ValueError(f"{location}, line {first.line_no}: {first.reason}")
    raw = records.frame
    also = spec.get("also") or []
    attributes = spec.get("attributes") or []
    outcomes = [spec["responded"], *also]
    wanted = [spec["group"], *outcomes, *([spec["spend"]] if spec.get("spend") else []), *attributes]
    missing = [c for c in wanted if c not in raw.columns]
    if missing:
        raise ValueError(f"{location}: column(s) {messages.cut_list(map(repr, missing))} not in the file "
                         f"(it has {messages.cut_list(map(repr, raw.columns))}); fix {map_path}")
    arm = raw[spec["group"]].fillna("").astype(str).str.strip()
    if (arm == "").any():
        raise ValueError(f"{location}, line {arm.index[arm == ''][0]}, column {spec['group']!r}: empty arm")
    control = str(spec["control"])
    if control not in set(arm):
        raise ValueError(f"{location}, column {spec['group']!r}: no customer in the control arm {control!r} "
                         f"(arms found: {messages.cut_list(sorted(set(arm)))})")
    frame = pd.DataFrame({"arm": arm}, index=raw.index)
    for c in outcomes:
        frame[c] = _yes_no(raw[c], location, c)
    if spec.get("spend"):
        text = raw[spec["spend"]].fillna("0").astype(str).str.replace(",", "", regex=False).str.strip()
        spend = pd.to_numeric(text, errors="coerce")
        if spend.isna().any():
            i = spend.index[spend.isna()][0]
            raise ValueError(f"{location}, line {i}, column {spec['spend']!r}: not a number: {raw.at[i, spec['spend']]!r}")
        frame["spend"] = spend
    else:
        frame["spend"] = 0.0
    for c in attributes:
        frame[c] = _bands(raw[c], c)
    return CampaignFile(Path(location), control, outcomes, list(attributes), float(spec.get("cost_per_contact") or 0), frame)


def arm_results(cf: CampaignFile, outcome: str | None = None, by: str | None = None, alpha: float = 0.05,
                min_contacts: int = 100, min_responders: int = 10) -> pd.DataFrame:
    """Each treatment arm of a campaign file against the one control arm: the figures of
    :func:`compare_cells` for ``outcome`` (default the file's response), the p-value adjusted
    for testing several arms (Holm), spend per customer and incremental spend, the cost and
    the return on it (incremental spend - cost) / cost, before the cost of goods. With ``by``
    (an attribute), the same within each level of it, with warnings for small cells."""
    outcome = outcome or cf.outcomes[0]
    f = cf.frame
    groups = [(None, f)] if by is None else list(f.groupby(by, sort=True))
    rows = []
    for level, part in groups:
        ctrl = part[part.arm == cf.control]
        for arm, cell in part[part.arm != cf.control].groupby("arm", sort=True):
            row = {} if by is None else {by: level}
            row["arm"] = arm
            row.update(compare_cells(int(cell[outcome].sum()), len(cell), int(ctrl[outcome].sum()), len(ctrl), alpha))
            row["spend_per_customer"] = cell.spend.mean()
            row["control_spend_per_customer"] = ctrl.spend.mean() if len(ctrl) else math.nan
            row["incremental_spend"] = (row["spend_per_customer"] - row["control_spend_per_customer"]) * len(cell)
            row["cost"] = cf.cost_per_contact * len(cell)
            row["return_on_cost"] = ((row["incremental_spend"] - row["cost"]) / row["cost"]) if row["cost"] else math.nan
            row["warning"] = _small_cells(row, min_contacts, min_responders, "arm")
            rows.append(row)
    out = pd.DataFrame(rows)
    keys = [by] if by else []
    if len(out):
        adjusted = []
        for _, g in (out.groupby(keys, sort=False) if keys else [(None, out)]):
            p = g.p_value.fillna(1.0).to_numpy()
            adjusted.append(pd.Series(holm(p), index=g.index))
        out["p_holm"] = pd.concat(adjusted).sort_index()
        out["significant"] = out.p_holm < alpha
    return out.rename(columns={"contacted": "customers", "test_rate": "arm_rate", "test_rate_low": "arm_rate_low",
                               "test_rate_high": "arm_rate_high", "test_responders": "responders"})


def file_profile(cf: CampaignFile, arm: str, outcome: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Responders of one arm against everybody in that arm, by attribute (index and
    chi-square test, as :func:`response_profile`)."""
    outcome = outcome or cf.outcomes[0]
    f = cf.frame
    frame = f[f.arm == arm].assign(cell="test", campaign_id=arm, responded=lambda d: d[outcome].astype(bool))
    return response_profile(frame, arm, attributes=cf.attributes)
