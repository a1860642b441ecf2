"""Benchmark the CLV fit on a million simulated customers: the DuckDB summary and the models.

Simulates 1,000,000 customers from known BG/NBD and Gamma-Gamma parameters (seeded): first
purchases spread over a quarter, then a year and a quarter of repeat purchases, one row per
purchase with a whole-day date and an amount, written to a DuckDB database as
``main.customers`` and ``main.sales`` (the tables a user's database holds after cleaning).
Then it times, each with its peak memory:

1. **summary** -- the repeat-purchase summary in DuckDB (:func:`dbmarketing.rfm.summarize`,
   ``repeat=True``): the SQL over every purchase and the transfer of one row per customer
   to pandas;
2. **BG/NBD fit** and **Gamma-Gamma fit** on that summary (:mod:`dbmarketing.clv`);
3. **a user's fit** -- :func:`dbmarketing.customers.fit_clv` end to end, as notebook 03 runs it:
   the summary, the margin rates, both fits per customer type, scoring every customer
   (probability alive, expected purchases, 12-month CLV) and the calibration/holdout check
   (a second summary split at a date, a refit and the comparison table).

Seconds are the median of ``--repeat`` runs. Memory: ``python peak`` is the largest
allocation traced by tracemalloc during one extra run (Python and numpy, not DuckDB);
``process peak`` is the resident memory of the whole process (DuckDB's too), sampled every
10 ms during that run, above what it was before the step. Goal: a user's fit of 1,000,000
customers in under 10 s on a 2-core machine.

    .venv/bin/python benchmarks/bench_clv.py [--customers 1000000] [--repeat 3] [--seed 42]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import tracemalloc
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from dbmarketing import clv, customers, warehouse, rfm

BG_TRUTH = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)  # CDNOW-like, weeks
GG_TRUTH = dict(p=6.25, q=3.74, gamma=15.44)
START = date(2025, 7, 1)  # first purchases in the quarter from here
AS_OF = date(2026, 9, 30)  # 456 days after START: the end of the observation


def simulate_sales(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(customers, sales): n customers, their first purchase and their repeat purchases.

    Each customer buys at rate lambda ~ Gamma(r, alpha) a week and drops out after a repeat
    purchase with probability p ~ Beta(a, b); the repeat purchases are the first x of the
    Poisson purchase times in (first purchase, AS_OF], x the purchase at which the customer
    drops out. Every purchase is worth Gamma(p, nu) with nu ~ Gamma(q, gamma) per customer."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = BG_TRUTH.values()
    first = rng.integers(0, 91, n)
    horizon_weeks = ((AS_OF - START).days - first) / 7.0
    lam = rng.gamma(r, 1.0 / alpha, n)
    p_drop = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    n_possible = rng.poisson(lam * horizon_weeks)
    x = np.minimum(rng.geometric(p_drop), n_possible)
    # the purchase times: N uniform times per customer, sorted; the first x are made
    owner = np.repeat(np.arange(n), n_possible)
    times = rng.uniform(0, 1, owner.size) * horizon_weeks[owner]
    order = np.lexsort((times, owner))
    owner, times = owner[order], times[order]
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_possible) - n_possible, n_possible)
    made = rank < x[owner]
    owner, times = owner[made], times[made]
    day = np.concatenate([first, first[owner] + np.maximum(np.round(times * 7.0), 1).astype(np.int64)])
    who = np.concatenate([np.arange(n), owner])
    pp, q, g = GG_TRUTH.values()
    nu = rng.gamma(q, 1.0 / g, n)
    amount = np.round(rng.gamma(pp, 1.0 / nu[who]), 2)
    ids = np.char.add("C", np.arange(n).astype(str))
    people = pd.DataFrame({"customer_id": ids, "customer_type": "consumer",
                           "signup_date": pd.Timestamp(START) + pd.to_timedelta(first, unit="D")})
    sales = pd.DataFrame({"order_id": np.arange(who.size), "customer_id": ids[who],
                          "order_date": pd.Timestamp(START) + pd.to_timedelta(day, unit="D"),
                          "net_amount": amount, "margin": np.round(0.3 * amount, 2)})
    return people, sales


class PeakRSS:
    """The process's resident memory, sampled every 10 ms while the block runs (MB above the start)."""

    def __enter__(self):
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    def _watch(self):
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss() -> float:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    @property
    def above_start(self) -> float:
        return self.peak - self.start


def timed(fn, repeat: int):
    """(median seconds, python peak MB, process peak MB above start, result of the last run)."""
    seconds = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t0)
    with PeakRSS() as rss:
        tracemalloc.start()
        fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return statistics.median(seconds), peak / 2**20, rss.above_start, result


def compare(model, truth: dict) -> str:
    return "  ".join(
        f"{k}={model.params_[k]:.4f} (planted {v}, {100 * (model.params_[k] / v - 1):+.1f}%)" for k, v in truth.items()
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each step; the median is printed")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    t0 = time.perf_counter()
    people, sales = simulate_sales(args.customers, args.seed)
    folder = tempfile.TemporaryDirectory(prefix="bench_clv_")
    con = warehouse.connect(Path(folder.name) / "bench.duckdb")
    con.register("_people", people)
    con.register("_sales", sales)
    con.execute("CREATE TABLE main.customers AS SELECT * FROM _people")
    con.execute("CREATE TABLE main.sales AS SELECT order_id, customer_id, CAST(order_date AS DATE) AS order_date, "
                "net_amount, margin FROM _sales ORDER BY customer_id, order_date")
    con.unregister("_people")
    con.unregister("_sales")
    del people, sales
    n_sales = con.execute("SELECT count(*) FROM main.sales").fetchall()[0][0]
    print(f"simulated {args.customers:,} customers, {n_sales:,} purchases, written to DuckDB in "
          f"{time.perf_counter() - t0:.1f} s ({os.cpu_count()} CPUs); as of {AS_OF}")

    sec, py, rss, summ = timed(lambda: rfm.summarize(con, AS_OF, unit="weeks", repeat=True), args.repeat)
    f, r, T, m = (summ[c] for c in ("clv_frequency", "clv_recency", "clv_T", "clv_monetary_value"))
    print(f"1. summary in DuckDB (rfm.summarize, repeat=True) -> {len(summ):,} customers: {sec:.2f} s "
          f"(median of {args.repeat}), python peak {py:.0f} MB, process peak +{rss:.0f} MB")

    sec_bg, py, rss, bg = timed(lambda: clv.BetaGeo().fit(f, r, T), args.repeat)
    print(f"2. BG/NBD fit, {len(summ):,} rows -> {bg.n_distinct_:,} distinct (x, t_x, T): {sec_bg:.2f} s, "
          f"python peak {py:.0f} MB, process peak +{rss:.0f} MB, {bg.optimizer_result_.nfev} likelihood evaluations, "
          f"converged={bg.converged_}")
    print(f"   {compare(bg, BG_TRUTH)}")
    sec_gg, py, rss, gg = timed(lambda: clv.GammaGamma().fit(f, m), args.repeat)
    print(f"   Gamma-Gamma fit, {int((f > 0).sum()):,} repeat customers: {sec_gg:.2f} s, python peak {py:.0f} MB, "
          f"process peak +{rss:.0f} MB, converged={gg.converged_}")
    print(f"   {compare(gg, GG_TRUTH)}")
    print(f"   summary + both fits: {sec + sec_bg + sec_gg:.2f} s")

    sec, py, rss, result = timed(lambda: customers.fit_clv(con, AS_OF, horizon_months=12, holdout_weeks=26),
                                 args.repeat)
    hold = result.holdout.attrs
    print(f"3. a user's fit (customers.fit_clv: summary, fits, scoring {len(result.predictions):,} customers, "
          f"holdout check): {sec:.2f} s (median of {args.repeat}), python peak {py:.0f} MB, "
          f"process peak +{rss:.0f} MB")
    print(f"   holdout after {result.calibration_end}: predicted {hold['predicted_total']:,.0f} repeat purchases, "
          f"actual {hold['actual_total']:,.0f} ({hold['total_error']:+.1%}); mean 12-month CLV "
          f"{result.predictions['clv'].mean():.2f}")
    if args.customers >= 1_000_000:
        print(f"goal: a user's fit of 1,000,000 customers in under 10 s -> {'met' if sec < 10 else 'NOT met'} ({sec:.2f} s)")
    else:
        print(f"goal: a user's fit of 1,000,000 customers in under 10 s -> not measured (run with --customers 1000000)")
    con.close()
    folder.cleanup()


if __name__ == "__main__":
    main()
