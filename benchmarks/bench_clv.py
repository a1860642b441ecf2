"""Benchmark the CLV models on a million simulated customers.

Simulates 1,000,000 customers from known BG/NBD and Gamma-Gamma parameters (seeded), with
first purchases spread over a quarter and a year of calibration measured in whole days
(as a database summary gives them), then prints for each fit: seconds (median of
``--repeat`` runs), peak memory allocated by the fit (tracemalloc) and the fitted vs
planted parameters; then the cost of scoring every customer. Goal: a 1,000,000-customer
fit in under 10 s on a 2-core machine.

    .venv/bin/python benchmarks/bench_clv.py [--customers 1000000] [--repeat 3] [--seed 42]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc

import numpy as np
import pandas as pd

from dbmarketing import clv

BG_TRUTH = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW-like, weeks
GG_TRUTH = dict(p=6.25, q=3.74, gamma=15.44)


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Customer summary (weeks, day-granular) and mean repeat spend under the two models."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = BG_TRUTH.values()
    first_day = rng.integers(0, 91, n)  # first purchase in the first quarter
    T_days = 365 + 91 - first_day  # observed to the end of the following year
    T = T_days / 7.0
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    drop_at = rng.geometric(p)
    n_possible = rng.poisson(lam * T)
    x = np.minimum(drop_at, n_possible)
    # the x-th of N uniform purchase times is Beta(x, N - x + 1); dates are whole days, so
    # recency is rounded to the nearest day (a repeat purchase is at least a day later)
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), n_possible - x + 1), 0.0)
    tx_days = np.clip(np.round(tx * 7.0), 1, T_days) * (x > 0)
    pp, q, g = GG_TRUTH.values()
    nu = rng.gamma(q, 1.0 / g, n)
    m = np.where(x > 0, rng.gamma(pp * np.maximum(x, 1), 1.0 / nu) / np.maximum(x, 1), 0.0)
    return pd.DataFrame({"frequency": x, "recency": tx_days / 7.0, "T": T, "monetary_value": m})


def timed(fn, repeat: int):
    """(median seconds, peak MB traced in one extra run, result of the last run)."""
    seconds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(seconds), peak / 2**20, result


def compare(model, truth: dict) -> str:
    return "  ".join(
        f"{k}={model.params_[k]:.4f} (planted {v}, {100 * (model.params_[k] / v - 1):+.1f}%)" for k, v in truth.items()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each fit; the median is printed")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    t0 = time.perf_counter()
    data = simulate(args.customers, args.seed)
    print(f"simulated {len(data):,} customers in {time.perf_counter() - t0:.1f} s "
          f"({int((data['frequency'] > 0).sum()):,} repeat customers, "
          f"{int(data['frequency'].sum()):,} repeat purchases)")
    f, r, T, m = (data[c] for c in ("frequency", "recency", "T", "monetary_value"))

    sec, peak, bg = timed(lambda: clv.BetaGeo().fit(f, r, T), args.repeat)
    print(f"BG/NBD fit, {len(data):,} rows -> {bg.n_distinct_:,} distinct (x, t_x, T): "
          f"{sec:.2f} s (median of {args.repeat}), peak {peak:.0f} MB allocated, "
          f"{bg.optimizer_result_.nfev} likelihood evaluations, converged={bg.converged_}")
    print(f"  {compare(bg, BG_TRUTH)}")

    counts = data.groupby(["frequency", "recency", "T"]).size().reset_index(name="customers")
    sec, peak, bgw = timed(
        lambda: clv.BetaGeo().fit(counts["frequency"], counts["recency"], counts["T"], weights=counts["customers"]),
        args.repeat,
    )
    print(f"BG/NBD fit from {len(counts):,} pre-counted rows (weights, as a SQL GROUP BY gives them): "
          f"{sec:.2f} s, peak {peak:.0f} MB; same estimates: "
          f"{np.allclose(list(bgw.params_.values()), list(bg.params_.values()), rtol=1e-6)}")

    repeat = data[data["frequency"] > 0]
    sec, peak, gg = timed(lambda: clv.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"]), args.repeat)
    print(f"Gamma-Gamma fit, {len(repeat):,} repeat customers: {sec:.2f} s (median of {args.repeat}), "
          f"peak {peak:.0f} MB allocated, converged={gg.converged_}")
    print(f"  {compare(gg, GG_TRUTH)}")

    t0 = time.perf_counter()
    bg.expected_purchases(52, f, r, T)
    t1 = time.perf_counter()
    bg.probability_alive(f, r, T)
    t2 = time.perf_counter()
    clv.customer_lifetime_value(bg, gg, f, r, T, m, periods=12, margin=0.3, discount_rate=0.01,
                                period_length=365.25 / 12 / 7)
    t3 = time.perf_counter()
    print(f"scoring {len(data):,} customers: expected_purchases {t1 - t0:.2f} s, "
          f"probability_alive {t2 - t1:.2f} s, 12-month CLV {t3 - t2:.2f} s")
    print(f"process peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
