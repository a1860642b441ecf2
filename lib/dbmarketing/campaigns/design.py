"""Campaigns: the test design of the next campaign -- how many customers a test needs, what
cells of given sizes can detect, and the random, stratified split into test and control.

Reference: J. L. Fleiss (1981), Statistical methods for rates and proportions, 2nd ed., ch. 3.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def _z(q: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(q))


def sample_size(base_rate: float, lift: float, power: float = 0.8, alpha: float = 0.05,
                control_share: float = 0.5, relative: bool = False) -> dict:
    """Customers needed to detect ``lift`` over the control ``base_rate`` with a two-sided
    two-proportion z-test at ``alpha`` with ``power`` (Fleiss 1981, without continuity
    correction), when a share ``control_share`` of the selection is held out as control.
    ``lift`` is absolute (0.01 = one percentage point) unless ``relative`` (0.2 = +20%).

    Returns test, control and total customers (rounded up). Example: base 5%, lift +1 point,
    80% power, 5% alpha, half held out: 8,158 per cell."""
    p1 = float(base_rate)
    p2 = p1 * (1 + lift) if relative else p1 + lift
    if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
        raise ValueError(f"sample_size: rates must be between 0 and 1 and differ (control {p1}, test {p2})")
    if not 0 < control_share < 1:
        raise ValueError(f"control_share must be between 0 and 1, got {control_share}")
    k = control_share / (1 - control_share)  # control customers per test customer
    pbar = (p2 + k * p1) / (1 + k)
    za, zb = _z(1 - alpha / 2), _z(power)
    n_test = (za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / k)) + zb * math.sqrt(p2 * (1 - p2) + p1 * (1 - p1) / k)) ** 2
    n_test /= (p2 - p1) ** 2
    n_test = math.ceil(n_test - 1e-9)
    n_control = math.ceil(k * n_test - 1e-9)
    return {"test": n_test, "control": n_control, "total": n_test + n_control, "control_rate": p1, "test_rate": p2}


def power_of_test(base_rate: float, lift: float, n_test: int, n_control: int, alpha: float = 0.05) -> float:
    """The power of the two-sided two-proportion z-test (the normal approximation of
    :func:`sample_size`) to detect an absolute ``lift`` with the given cell sizes."""
    from scipy.stats import norm

    p1, p2 = base_rate, base_rate + lift
    pbar = (n_test * p2 + n_control * p1) / (n_test + n_control)
    se0 = math.sqrt(pbar * (1 - pbar) * (1 / n_test + 1 / n_control))
    se1 = math.sqrt(p2 * (1 - p2) / n_test + p1 * (1 - p1) / n_control)
    za = _z(1 - alpha / 2)
    return float(norm.cdf((abs(p2 - p1) - za * se0) / se1) + norm.cdf((-abs(p2 - p1) - za * se0) / se1))


def minimum_detectable_lift(base_rate: float, n_test: int, n_control: int, power: float = 0.8,
                            alpha: float = 0.05) -> float:
    """The smallest absolute lift over ``base_rate`` that cells of these sizes detect with
    ``power`` (the inverse of :func:`sample_size`, by bisection on :func:`power_of_test`)."""
    lo, hi = 1e-9, 1 - base_rate - 1e-9
    if power_of_test(base_rate, hi, n_test, n_control, alpha) < power:
        return math.nan
    for _ in range(100):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if power_of_test(base_rate, mid, n_test, n_control, alpha) < power else (lo, mid)
    return hi


def assign_cells(frame: pd.DataFrame, control_share: float, strata: str | None = "segment", seed: int = 42) -> pd.Series:
    """Random test / control assignment, stratified: round(control_share x n) customers go to
    the control cell, shared out over the levels of ``strata`` (e.g. the RFM segment) in
    proportion to their size (each level floor(control_share x its size), the rest to the
    levels with the largest remainders), and drawn at random with ``seed`` within each level,
    so every segment is in both cells in the same proportion and the control cell has its
    full size even when the segments are small. The same frame and seed give the same cells.
    Returns a Series of "test" / "control"."""
    if not 0 < control_share < 1:
        raise ValueError(f"control_share must be between 0 and 1, got {control_share}")
    rng = np.random.default_rng(seed)
    cell = pd.Series("test", index=frame.index, dtype=object)
    keys = frame[strata].astype(object).where(frame[strata].notna(), "(none)") if strata else pd.Series(0, index=frame.index)
    groups = sorted(keys.groupby(keys).groups.items(), key=lambda kv: str(kv[0]))
    exact = np.array([control_share * len(idx) for _, idx in groups])
    take = np.floor(exact).astype(int)
    rest = int(round(control_share * len(frame))) - int(take.sum())
    if rest > 0:
        take[np.argsort(-(exact - take), kind="stable")[:rest]] += 1
    for (_, idx), k in zip(groups, take):
        idx = np.asarray(idx)
        cell.loc[idx[rng.permutation(len(idx))[:k]]] = "control"
    return cell.rename("cell")
