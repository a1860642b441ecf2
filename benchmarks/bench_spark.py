"""Benchmark the Spark engine in local mode against DuckDB: the same library calls, the same data.

For each size (``--sizes``, transactions; customers = transactions / 10) it writes ``main.sales``
and ``main.customers`` with bench_rfm's generator (seeded; one row per order, skewed buyers),
copies them to a Parquet warehouse (``warehouse.spark.write_parquet``), attaches it to one local
Spark session (``--master``, default ``local[2]``: this machine's two cores) and times, median of
``--repeat``:

1. ``rfm.compute`` (summary + scores + segments) on DuckDB and on Spark;
2. ``rfm.repeat_summary`` (the CLV summary the fits read) on DuckDB and on Spark.

It checks the two engines' results are equal (scores exactly, money within 1e-9) and prints the
seconds, the Spark/DuckDB ratio and the growth per 10x, the figures the README's cluster
estimate starts from. Spark's start (once) is printed apart.

    .venv/bin/python benchmarks/bench_spark.py [--sizes 1000000 10000000] [--repeat 3] [--master local[2]]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from dbmarketing import rfm, warehouse  # noqa: E402
from dbmarketing.warehouse import spark as engine  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_rfm", ROOT / "benchmarks" / "bench_rfm.py")
bench_rfm = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_rfm)


def timed(fn, repeat: int):
    seconds, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), out


def same(a: pd.DataFrame, b: pd.DataFrame, key: str) -> int:
    """Equal, scores and counts exactly, money within 1e-9 relative; a ratio rounded to the money
    unit (avg_order_value, 6 decimals) may differ by one unit: DuckDB rounds x * 10^6, Spark the
    exact decimal value of the double, so a ratio ending in 5 at the 7th decimal can go either
    way. Returns how many such values differ."""
    a = a.sort_values(key).reset_index(drop=True)
    b = b.sort_values(key).reset_index(drop=True)
    off = 0
    if "avg_order_value" in a:
        gap = (a["avg_order_value"] - b["avg_order_value"]).abs()
        assert gap.max() <= 1.0001e-6, gap.max()
        off = int((gap > 0).sum())
        a, b = a.drop(columns="avg_order_value"), b.drop(columns="avg_order_value")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=0)
    return off


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--memory", default="8g", help="Spark driver memory (local mode: all of Spark)")
    args = p.parse_args()
    as_of = bench_rfm.AS_OF
    started = time.perf_counter()
    spark = engine.session(args.master, memory=args.memory)
    print(f"Spark {spark.version} ({args.master}, driver memory {args.memory}) started in "
          f"{time.perf_counter() - started:.1f} s")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            folder = Path(tmp) / str(n)
            folder.mkdir()
            db = folder / "bench.duckdb"
            gen = bench_rfm.generate(db, n, n // 10, 42)
            duck = warehouse.connect(db, read_only=True)
            t0 = time.perf_counter()
            engine.write_parquet(duck, folder / "parquet", ["main.sales", "main.customers"])
            con = engine.SparkConnection(spark)
            engine.attach(con, folder / "parquet")
            parquet = time.perf_counter() - t0
            d_rfm, a = timed(lambda: rfm.compute(duck, as_of), args.repeat)
            s_rfm, b = timed(lambda: rfm.compute(con, as_of), args.repeat)
            off = same(a, b, "customer_id")
            d_clv, a = timed(lambda: rfm.repeat_summary(duck, as_of).reset_index(), args.repeat)
            s_clv, b = timed(lambda: rfm.repeat_summary(con, as_of).reset_index(), args.repeat)
            same(a, b, "customer_id")
            duck.close()
            rows.append((n, gen, parquet, d_rfm, s_rfm, d_clv, s_clv))
            print(f"  {n:,} transactions: generated in {gen:.1f} s, Parquet + attach {parquet:.1f} s; "
                  f"results equal on both engines ({off:,} of {len(a):,} avg_order_value one millionth apart)", flush=True)
            shutil.rmtree(folder)
    print(f"\nmedian of {args.repeat}, seconds (Spark {args.master} vs DuckDB, same machine):")
    print(f"  {'transactions':>13} {'RFM DuckDB':>11} {'RFM Spark':>10} {'ratio':>6} "
          f"{'CLV sum. DuckDB':>16} {'CLV sum. Spark':>15} {'ratio':>6}")
    for n, _, _, d_rfm, s_rfm, d_clv, s_clv in rows:
        print(f"  {n:>13,} {d_rfm:>11.2f} {s_rfm:>10.2f} {s_rfm / d_rfm:>6.1f} {d_clv:>16.2f} {s_clv:>15.2f} "
              f"{s_clv / d_clv:>6.1f}")
    for (n1, *_, sr1, _, sc1), (n2, *_, sr2, _, sc2) in zip(rows, rows[1:]):
        print(f"  growth {n1:,} -> {n2:,} ({n2 / n1:.0f}x data): Spark RFM {sr2 / sr1:.1f}x, "
              f"Spark CLV summary {sc2 / sc1:.1f}x")
    spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
