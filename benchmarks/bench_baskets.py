"""Benchmark rule mining (frequent itemsets up to triples + rules) on 1,000,000 orders against
mlxtend on the same baskets.

Generates (seeded) a DuckDB file with one table ``baskets(tid, item)``: orders of 1-8 of 300
products with skewed popularity (a few sell in many orders, most in few) and four planted
pairs. Then times, each run in a fresh process so its peak memory is its own:

1. ``dbmarketing``: ``baskets.mine`` (levels counted in DuckDB from the table) + ``baskets.rules``;
2. mlxtend: the same table read into pandas and one-hot encoded (a boolean DataFrame, as
   mlxtend wants it), then ``apriori`` (its defaults) + ``association_rules``; its
   time is given for the mining alone and with the encoding.

At each size where both ran, the itemsets and the rules' measures are checked to be equal.
Prints the median seconds of ``--repeat`` runs, the peak resident memory (``ru_maxrss``, which
includes the interpreter and libraries) and two speed-ups: from the table to the rules (ours
codes the items itself; mlxtend needs the one-hot frame built from the same table: the goal is
judged on this one) and against mlxtend's mining alone (its encoding left out, ours not).
mlxtend runs under an address-space limit (``--mlxtend-gb``) and a timeout, first with its
defaults, then, if that fails, with ``low_memory=True``; a size it cannot manage either way is
reported as such, and the speed-up is then given at the largest size it managed.
Goal: 1,000,000 orders at least 10x faster than mlxtend and within 2 GB.

    .venv/bin/python benchmarks/bench_baskets.py [--orders 1000000] [--sizes 10000,100000]
        [--min-support 0.001] [--repeat 3] [--mlxtend-gb 8] [--timeout 900] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTS = 300
PAIRS = ((0, 7), (2, 11), (5, 20), (9, 30))  # (antecedent, consequent) by popularity rank


def generate(path: Path, orders: int, seed: int) -> None:
    import duckdb
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, PRODUCTS + 1) ** 0.9
    p /= p.sum()
    k = np.clip(1 + rng.poisson(1.4, orders), 1, 8)
    tid = np.repeat(np.arange(orders, dtype=np.int64), k)
    item = rng.choice(PRODUCTS, tid.size, p=p)
    extra_t, extra_i = [tid], [item]
    for a, c in PAIRS:
        with_a = np.unique(tid[item == a])
        drawn = with_a[rng.random(with_a.size) < 0.4]
        extra_t.append(drawn)
        extra_i.append(np.full(drawn.size, c))
    frame = pd.DataFrame({"tid": np.concatenate(extra_t), "item": np.concatenate(extra_i)}).drop_duplicates()
    frame["item"] = frame["item"].map(lambda i: f"P{i:03d}")
    con = duckdb.connect(str(path))
    con.register("frame", frame)
    con.execute("CREATE OR REPLACE TABLE baskets AS SELECT * FROM frame ORDER BY tid, item")
    con.close()


def child(args) -> dict:
    """One timed run in this process: prints seconds, peak memory and a digest of the result."""
    import duckdb

    con = duckdb.connect(str(args.db), read_only=True)
    view = f"SELECT tid, item FROM baskets WHERE tid < {int(args.size)}"
    out = {}
    if args.child == "ours":
        sys.path.insert(0, str(ROOT / "lib"))
        from dbmarketing import baskets

        con.execute(f"CREATE TEMP VIEW sized AS {view}")
        t0 = time.perf_counter()
        found = baskets.mine(con, "sized", min_support=args.min_support, max_len=3)
        rules = baskets.rules(found)
        out["seconds"] = time.perf_counter() - t0
        itemsets = {tuple(s): v for s, v in zip(found.frequent.itemset, found.frequent.support)}
        measures = {(a, c): (conf, lift) for a, c, conf, lift in zip(rules.antecedent, rules.consequent,
                                                                     rules.confidence, rules.lift)}
    else:
        import numpy as np
        import pandas as pd
        from mlxtend.frequent_patterns import apriori, association_rules

        resource.setrlimit(resource.RLIMIT_AS, (int(args.mlxtend_gb * 2**30),) * 2)
        t0 = time.perf_counter()
        tx = con.execute(view).df()
        codes, items = pd.factorize(tx["item"], sort=True)
        rows, tids = pd.factorize(tx["tid"])
        onehot = np.zeros((len(tids), len(items)), dtype=bool)
        onehot[rows, codes] = True
        onehot = pd.DataFrame(onehot, columns=list(items))
        t1 = time.perf_counter()
        frequent = apriori(onehot, min_support=args.min_support, use_colnames=True, max_len=3,
                           low_memory=args.low_memory)
        rules = association_rules(frequent, num_itemsets=len(onehot), metric="confidence", min_threshold=0.0)
        t2 = time.perf_counter()
        out["seconds"], out["with_encoding"] = t2 - t1, t2 - t0
        itemsets = {tuple(sorted(s)): v for s, v in zip(frequent.itemsets, frequent.support)}
        measures = {(tuple(sorted(a)), tuple(sorted(c))): (conf, lift) for a, c, conf, lift in
                    zip(rules.antecedents, rules.consequents, rules.confidence, rules.lift)}
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["itemsets"], out["rules"] = len(itemsets), len(measures)
    out["digest"] = {"itemsets": sorted((list(k), round(v, 12)) for k, v in itemsets.items()),
                     "rules": sorted((list(a), list(c), round(x, 9), round(y, 9)) for (a, c), (x, y) in measures.items())}
    return out


def run_mlxtend(size: int, args) -> dict | str:
    """mlxtend with its defaults; when that fails, with ``low_memory=True`` (slower, less memory)."""
    first = run_child("mlxtend", size, args)
    if isinstance(first, dict):
        first["how"] = "defaults"
        return first
    second = run_child("mlxtend", size, args, ["--low-memory"])
    if isinstance(second, dict):
        second["how"] = f"low_memory=True (defaults {first})"
        return second
    return f"defaults {first}; low_memory=True {second}"


def run_child(kind: str, size: int, args, extra=()) -> dict | str:
    cmd = [sys.executable, __file__, "--child", kind, "--size", str(size), "--db", str(args.db),
           "--min-support", str(args.min_support), "--mlxtend-gb", str(args.mlxtend_gb), *extra]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return f"did not finish in {args.timeout:g} s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return "failed: " + ("out of memory (limit %g GB)" % args.mlxtend_gb if "MemoryError" in done.stderr
                             or "Unable to allocate" in done.stderr else last[:160])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--sizes", default="10000,100000,300000", help="smaller sizes also measured (comma-separated)")
    ap.add_argument("--min-support", type=float, default=0.001)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--mlxtend-gb", type=float, default=8.0)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--child", choices=["ours", "mlxtend"], default=None)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--low-memory", action="store_true")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    folder = tempfile.TemporaryDirectory()
    if args.db is None:
        args.db = Path(folder.name) / "baskets.duckdb"
    if not args.db.exists():
        t0 = time.perf_counter()
        generate(args.db, args.orders, args.seed)
        print(f"generated {args.orders:,} orders in {time.perf_counter() - t0:.1f} s ({args.db})")
    sizes = sorted({int(s) for s in args.sizes.split(",") if s} | {args.orders})
    print(f"min_support {args.min_support}, itemsets up to triples, median of {args.repeat} runs")
    print(f"{'orders':>10} {'path':<10} {'seconds':>9} {'peak MB':>8} {'itemsets':>8} {'rules':>7}  note")
    best = None
    for size in sizes:
        ours = [run_child("ours", size, args) for _ in range(args.repeat)]
        theirs = [run_mlxtend(size, args) for _ in range(args.repeat if size < args.orders else 1)]
        o_sec = statistics.median(r["seconds"] for r in ours)
        o_mb = max(r["peak_mb"] for r in ours)
        print(f"{size:>10,} {'ours':<10} {o_sec:>9.2f} {o_mb:>8.0f} {ours[0]['itemsets']:>8} {ours[0]['rules']:>7}")
        ok = [r for r in theirs if isinstance(r, dict)]
        if not ok:
            print(f"{size:>10,} {'mlxtend':<10} {'-':>9} {'-':>8} {'-':>8} {'-':>7}  {theirs[0]}")
            continue
        m_sec = statistics.median(r["seconds"] for r in ok)
        m_all = statistics.median(r["with_encoding"] for r in ok)
        same = ok[0]["digest"] == ours[0]["digest"]
        print(f"{size:>10,} {'mlxtend':<10} {m_sec:>9.2f} {max(r['peak_mb'] for r in ok):>8.0f} {ok[0]['itemsets']:>8} "
              f"{ok[0]['rules']:>7}  {m_all:.2f} s with one-hot encoding; same itemsets and measures: "
              f"{'yes' if same else 'NO'}; {m_all / o_sec:.1f}x faster from the table, {m_sec / o_sec:.1f}x "
              f"against its mining alone; mlxtend {ok[0]['how']}")
        best = (size, m_all / o_sec, m_sec / o_sec, o_sec, o_mb)
    if best:
        size, speedup, mining, sec, mb = best
        goal = "met" if speedup >= 10 and mb <= 2048 else "NOT met"
        print(f"largest size both ran: {size:,} orders: ours {sec:.2f} s, {speedup:.1f}x faster than mlxtend from the "
              f"same table ({mining:.1f}x against its mining alone), peak {mb:.0f} MB (goal >= 10x and <= 2 GB: {goal})")


if __name__ == "__main__":
    main()
