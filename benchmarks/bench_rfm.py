"""Benchmark RFM summary + scores on 10,000,000 transactions of 1,000,000 customers.

Generates (seeded, deterministic) a DuckDB file with ``main.sales`` laid out as
``clean.run`` writes it (one row per order, sorted by customer and date) and
``main.customers``, then times, each in a fresh process so peak memory is its own:

1. ``dbmarketing``: ``rfm.compute`` -- summary + scores + segments, one SQL query in DuckDB,
   one row per customer back into pandas (purchase table only, as the other two paths);
2. the same with the customer master (prospects and customer types joined in);
3. the same with the repeat-purchase (CLV) summary added (``repeat=True``);
4. pandas, the common way: transactions pulled into a DataFrame, ``groupby().agg()``, then
   scores by the same tie rule (the result is checked to be identical to path 1);
5. lifetimes: transactions pulled into a DataFrame, ``summary_data_from_transaction_data``,
   then scores (its frequency/recency/T/monetary_value are checked against
   ``rfm.repeat_summary``, to 1e-9).

Prints the median seconds of ``--repeat`` runs, the process's peak resident memory
(``ru_maxrss``, which includes the Python interpreter and imported libraries; the baseline
after imports is printed too) and the speed-up against the lifetimes path. Goal: path 1 in
at most 1.5 s, at least 8x faster than lifetimes, under 1.5 GB.

lifetimes (unmaintained, it pins old dependencies) is not a dependency. The script uses, in this
order: an importable ``lifetimes``; the folder ``--lifetimes-dir`` (default
``data/.cache/lifetimes``, git-ignored) holding ``lifetimes/utils.py``, where it installs
lifetimes 0.11.3 on first use with ``pip install --no-deps --target`` (only that file is
loaded); if that fails (no network), a faithful re-implementation of its algorithm below,
and it says which it used.

    .venv/bin/python benchmarks/bench_rfm.py [--transactions 10000000] [--customers 1000000]
        [--repeat 3] [--db PATH (kept; reused if it exists)] [--lifetimes-dir DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

AS_OF = "2026-10-31"
DAYS = 1095  # three years of history


def generate(path: Path, transactions: int, customers: int, seed: int) -> float:
    """Write main.sales and main.customers; returns seconds. Every customer buys at least once;
    the other purchases go to customers with a skewed (heavy-buyer) distribution."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect(str(path))
    u = lambda salt: f"((hash(i, {seed * 1000 + salt}) % 1000003) / 1000003.0)"  # noqa: E731
    con.execute(f"""
        CREATE OR REPLACE TABLE main.sales AS
        WITH t AS (
            SELECT i,
                   CASE WHEN i < {customers} THEN i ELSE CAST(floor({customers} * {u(1)} * {u(1)}) AS BIGINT) END AS c,
                   {u(2)} AS u2, {u(3)} AS u3
            FROM range({transactions}) r(i))
        SELECT 'SO' || lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS order_id,
               'C' || lpad(CAST(c + 1 AS VARCHAR), 8, '0') AS customer_id,
               DATE '{AS_OF}' - CAST(floor({DAYS} * u2) AS INTEGER) AS order_date,
               round(20 + 400 * u3 * u3, 2) AS net_amount
        FROM t ORDER BY customer_id, order_date, order_id""")
    con.execute(f"""
        CREATE OR REPLACE TABLE main.customers AS
        SELECT 'C' || lpad(CAST(i + 1 AS VARCHAR), 8, '0') AS customer_id, 'consumer' AS customer_type,
               DATE '{AS_OF}' - {DAYS} AS signup_date
        FROM range({customers}) r(i)""")
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------
# the paths (each runs in a worker process)
# --------------------------------------------------------------------------------------


def scores_by_rank(frame, bins: int = 5):
    """The tie rule of dbmarketing.rfm in pandas: over the distinct values from worst to best,
    score = min(1 + floor(bins x share strictly worse), score of the value before + 1)."""
    import numpy as np

    n = len(frame)
    out = {}
    for col, key in (("r_score", -frame["recency"]), ("f_score", frame["frequency"]), ("m_score", frame["monetary"])):
        values, codes, counts = np.unique(key.to_numpy(), return_inverse=True, return_counts=True)
        below = np.cumsum(counts) - counts
        step = np.arange(len(values))
        by_value = step + np.minimum.accumulate(1 + (bins * below) // n - step)
        out[col] = by_value[codes]
    return frame.assign(**out)


FETCH_SECONDS = []  # time spent pulling the transactions into pandas, per run


def transactions_frame(con):
    t0 = time.perf_counter()
    frame = con.execute(f"SELECT customer_id, order_id, order_date, net_amount FROM main.sales "
                        f"WHERE order_date <= DATE '{AS_OF}'").df()
    FETCH_SECONDS.append(time.perf_counter() - t0)
    return frame


def path_dbmarketing(con, customers):
    from dbmarketing import rfm

    return rfm.compute(con, AS_OF, table="main.sales", customers=customers)


def path_dbmarketing_repeat(con):
    from dbmarketing import rfm

    return rfm.compute(con, AS_OF, table="main.sales", customers=None, repeat=True)


def path_pandas(con):
    import pandas as pd

    tx = transactions_frame(con)
    summary = tx.groupby("customer_id").agg(last_purchase=("order_date", "max"), frequency=("order_id", "nunique"),
                                            monetary=("net_amount", "sum"))
    summary["recency"] = (pd.Timestamp(AS_OF) - summary["last_purchase"]).dt.days
    summary["monetary"] = summary["monetary"].round(6)  # as dbmarketing: equal spend stays equal
    return scores_by_rank(summary)


LIFETIMES = "lifetimes==0.11.3"
DEFAULT_LIFETIMES_DIR = Path(__file__).resolve().parents[1] / "data" / ".cache" / "lifetimes"


def install_lifetimes(directory: Path) -> str:
    """Install lifetimes into ``directory`` unless it is there; returns what happened."""
    if (directory / "lifetimes" / "utils.py").exists():
        return f"found in {directory}"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--target", str(directory), LIFETIMES], capture_output=True, text=True)
    if done.returncode or not (directory / "lifetimes" / "utils.py").exists():
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"could not install {LIFETIMES} into {directory} ({last})"
    return f"installed {LIFETIMES} into {directory} (pip --no-deps --target)"


def load_lifetimes(directory: str | None):
    """lifetimes' summary_data_from_transaction_data: installed, from a folder, or None."""
    try:
        from lifetimes.utils import summary_data_from_transaction_data

        return summary_data_from_transaction_data, "lifetimes (installed)"
    except Exception:  # noqa: BLE001 -- not installed, or its dependencies do not import
        pass
    if directory:
        path = Path(directory) / "lifetimes" / "utils.py"
        if path.exists():
            if "dill" not in sys.modules:
                try:
                    import dill  # noqa: F401  (utils imports it for its save/load helpers only)
                except ImportError:
                    sys.modules["dill"] = types.ModuleType("dill")
            spec = importlib.util.spec_from_file_location("lifetimes_utils", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.summary_data_from_transaction_data, f"lifetimes {path}"
    return reimplemented_summary, "re-implementation of lifetimes' algorithm (lifetimes not found)"


def reimplemented_summary(transactions, customer_id_col, datetime_col, monetary_value_col=None,
                          datetime_format=None, observation_period_end=None, freq="D"):
    """lifetimes 0.11.3 ``summary_data_from_transaction_data`` step by step (its algorithm,
    for freq='D'): sort; dates to daily periods; drop after the end; sum by (day, customer);
    flag each customer's first day; min/max/count by customer; repeat-day mean value."""
    import numpy as np
    import pandas as pd

    end = pd.to_datetime(observation_period_end, format=datetime_format).to_period(freq).to_timestamp()
    cols = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    tx = transactions[cols].sort_values(cols).copy()
    tx[datetime_col] = pd.to_datetime(tx[datetime_col], format=datetime_format)
    tx = tx.set_index(datetime_col).to_period(freq).to_timestamp()
    tx = tx.loc[tx.index <= end].reset_index()
    grouped = tx.groupby([datetime_col, customer_id_col], sort=False, as_index=False)
    periods = grouped.sum() if monetary_value_col else grouped.head(1)
    periods["first"] = False
    periods.loc[periods.groupby(customer_id_col, sort=True, as_index=False).head(1).index, "first"] = True
    customers = periods.groupby(customer_id_col, sort=False)[datetime_col].agg(["min", "max", "count"])
    customers["frequency"] = customers["count"] - 1
    customers["T"] = (end - customers["min"]) / np.timedelta64(1, freq)
    customers["recency"] = (customers["max"] - customers["min"]) / np.timedelta64(1, freq)
    columns = ["frequency", "recency", "T"]
    if monetary_value_col:
        periods.loc[periods["first"], monetary_value_col] = np.nan
        customers["monetary_value"] = periods.groupby(customer_id_col)[monetary_value_col].mean().fillna(0)
        columns.append("monetary_value")
    return customers[columns].astype(float)


def path_lifetimes(con, summary_fn):
    tx = transactions_frame(con)
    summary = summary_fn(tx, "customer_id", "order_date", "net_amount", observation_period_end=AS_OF, freq="D")
    # RFM from lifetimes' columns: days since the last purchase, purchase days, mean repeat value
    rfm_frame = summary.assign(recency=summary["T"] - summary["recency"], frequency=summary["frequency"] + 1,
                               monetary=summary["monetary_value"])
    return summary, scores_by_rank(rfm_frame)


def prepare(args) -> None:
    """Generate the database unless it exists; print JSON with its counts."""
    import duckdb

    path = Path(args.db)
    seconds = None if path.exists() else generate(path, args.transactions, args.customers, args.seed)
    con = duckdb.connect(str(path), read_only=True)
    n_tx, n_cust = con.execute("SELECT count(*), count(DISTINCT customer_id) FROM main.sales").fetchall()[0]
    con.close()
    print(json.dumps({"generated_seconds": seconds, "transactions": n_tx, "customers": n_cust}))


def worker(args) -> None:
    """Run one path ``--repeat`` times; print JSON with the times and the peak memory."""
    if args.worker == "prepare":
        prepare(args)
        return
    import duckdb
    import pandas  # noqa: F401

    from dbmarketing import rfm  # noqa: F401

    summary_fn, source = (load_lifetimes(args.lifetimes_dir) if args.worker == "lifetimes" else (None, ""))
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    con = duckdb.connect(args.db, read_only=True)
    seconds = []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        if args.worker == "dbmarketing":
            result = path_dbmarketing(con, None)
        elif args.worker == "dbmarketing_customers":
            result = path_dbmarketing(con, "main.customers")
        elif args.worker == "dbmarketing_repeat":
            result = path_dbmarketing_repeat(con)
        elif args.worker == "pandas":
            result = path_pandas(con)
        else:
            result = path_lifetimes(con, summary_fn)
        seconds.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.save:  # keep the result for the checks of the main process
        if args.worker == "lifetimes":
            result[0].reset_index().to_parquet(args.save)
        elif args.worker == "pandas":
            result.reset_index()[["customer_id", "r_score", "f_score", "m_score"]].to_parquet(args.save)
        else:
            result[["customer_id", "r_score", "f_score", "m_score"]].to_parquet(args.save)
    print(json.dumps({"seconds": seconds, "fetch_seconds": FETCH_SECONDS, "peak_mb": peak, "baseline_mb": baseline, "rows": len(
        result[1] if isinstance(result, tuple) else result), "source": source}))


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

PATHS = [
    ("dbmarketing", "dbmarketing rfm.compute: summary + scores + segments (SQL)"),
    ("dbmarketing_customers", "  the same, with the customer master (prospects, types)"),
    ("dbmarketing_repeat", "  the same, with the repeat-purchase (CLV) summary"),
    ("pandas", "pandas: fetch transactions, groupby, scores"),
    ("lifetimes", "lifetimes summary_data_from_transaction_data + scores"),
]


def run_worker(name: str, args, save: Path | None = None) -> dict:
    cmd = [sys.executable, __file__, "--worker", name, "--db", str(args.db), "--repeat", str(args.repeat),
           "--transactions", str(args.transactions), "--customers", str(args.customers), "--seed", str(args.seed)]
    if save:
        cmd += ["--save", str(save)]
    if args.lifetimes_dir:
        cmd += ["--lifetimes-dir", args.lifetimes_dir]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(db_path: Path, folder: Path) -> list[str]:
    """The paths agree: pandas scores = dbmarketing scores; lifetimes summary = rfm.repeat_summary."""
    import duckdb
    import numpy as np
    import pandas as pd

    from dbmarketing import rfm

    lines = []
    ours = pd.read_parquet(folder / "dbmarketing.parquet").set_index("customer_id").sort_index()
    theirs = pd.read_parquet(folder / "pandas.parquet").set_index("customer_id").sort_index()
    same = ours.index.equals(theirs.index) and all(
        (ours[c].to_numpy(np.int64) == theirs[c].to_numpy(np.int64)).all() for c in ("r_score", "f_score", "m_score"))
    lines.append(f"pandas scores identical to dbmarketing's: {'yes' if same else 'NO'}")
    con = duckdb.connect(str(db_path), read_only=True)
    mine = rfm.repeat_summary(con, AS_OF, table="main.sales", unit="days")
    con.close()
    life = pd.read_parquet(folder / "lifetimes.parquet").set_index("customer_id").sort_index()
    mine = mine.reindex(life.index)
    diff = max(float(np.max(np.abs(mine[c].to_numpy(np.float64) - life[c].to_numpy(np.float64))))
               for c in ("frequency", "recency", "T", "monetary_value"))
    lines.append(f"lifetimes summary vs rfm.repeat_summary: {len(life):,} customers, largest difference {diff:.1e}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transactions", type=int, default=10_000_000)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each path; the median is printed")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--db", help="DuckDB file to use (generated if missing, kept)")
    ap.add_argument("--lifetimes-dir", default=str(DEFAULT_LIFETIMES_DIR),
                    help="folder holding lifetimes/utils.py (lifetimes is installed there if missing)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return

    print(f"lifetimes: {install_lifetimes(Path(args.lifetimes_dir))}")
    with tempfile.TemporaryDirectory(prefix="bench_rfm_") as tmp:
        folder = Path(tmp)
        args.db = Path(args.db) if args.db else folder / "bench.duckdb"
        # Generating and counting run in a worker too: a process started from this one inherits
        # its resident memory into ru_maxrss (Linux), so this process must stay small.
        info = run_worker("prepare", args)
        if info["generated_seconds"] is not None:
            print(f"generated {args.transactions:,} transactions of {args.customers:,} customers "
                  f"in {info['generated_seconds']:.1f} s ({args.db.stat().st_size / 2**20:.0f} MB)")
        else:
            print(f"using {args.db}")
        n_tx, n_cust = info["transactions"], info["customers"]
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"main.sales: {n_tx:,} transactions, {n_cust:,} customers; as of {AS_OF}; "
              f"{os.cpu_count()} CPUs (load average {load}: other work on the machine slows every path); "
              f"median of {args.repeat} runs\n")
        results = {}
        for name, label in PATHS:
            results[name] = run_worker(name, args, folder / f"{name}.parquet")
        base = statistics.median(results["lifetimes"]["seconds"])
        print(f"{'path':<62} {'median s':>9} {'runs':>18} {'peak MB':>8} {'vs lifetimes':>13}")
        for name, label in PATHS:
            r = results[name]
            med = statistics.median(r["seconds"])
            runs = " ".join(f"{s:.2f}" for s in r["seconds"])
            print(f"{label:<62} {med:>9.2f} {runs:>18} {r['peak_mb']:>8.0f} {base / med:>12.1f}x")
        for name in ("pandas", "lifetimes"):
            print(f"{name}: of which pulling {n_tx:,} transactions into pandas: "
                  f"{statistics.median(results[name]['fetch_seconds']):.2f} s (median)")
        print(f"baseline memory of a worker after imports: {results['dbmarketing']['baseline_mb']:.0f} MB")
        print(f"lifetimes used: {results['lifetimes']['source']}")
        for line in check(args.db, folder):
            print(line)
        med = statistics.median(results["dbmarketing"]["seconds"])
        peak = results["dbmarketing"]["peak_mb"]
        checks = [(f"{med:.2f} s <= 1.5 s", med <= 1.5), (f"{base / med:.1f}x >= 8x lifetimes", base / med >= 8),
                  (f"{peak:.0f} MB < 1,536 MB", peak < 1536)]
        print("\ngoal: " + "; ".join(f"{text} {'yes' if ok else 'NO'}" for text, ok in checks))


if __name__ == "__main__":
    main()
