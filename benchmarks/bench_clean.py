"""Benchmark cleaning and de-duplicating a million customer records.

Generates the sample retailer (``dbmarketing.sample.generate``, seeded; about 3% of the
people are planted a second time as duplicate records, with the truth in schema ``truth``)
and loads it with ``dbmarketing.ingest.load_sources``, both in a scratch folder, then runs
``dbmarketing.cleanse.run(con, as_of=<end of the history>)`` in a process of its own and
prints: records, masters, seconds per stage and in total, the peak memory of the cleaning
process (max resident set; DuckDB and splink run inside it, so their memory counts) and
the pairwise precision / recall of the merge against the planted duplicates
(``cleanse.evaluate_against_truth``). Generation and loading are timed and printed
separately; they are not part of the cleaning figure.
Goal: 1,000,000 customers cleaned in under 10 minutes and 8 GB on a 2-core machine.

    .venv/bin/python benchmarks/bench_clean.py [--customers 1000000] [--years 1] [--seed 42]
                                               [--dir FOLDER]

``--dir`` keeps the scratch folder (default: a temporary one, removed at the end); a
folder that already holds a loaded sample for the same arguments is reused, so the
cleaning can be timed again without generating and loading again. Every cleaning run
starts from a fresh copy of the loaded database.

Stages are timed by wrapping the functions :func:`cleanse.run` calls (it looks them up in
the module at call time); "write tables, other" is the rest of the run: writing the
record, pair, map and customer tables and the run's bookkeeping.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]

# functions of dbmarketing.cleanse that run() calls, in call order, with the label printed
STAGES = {
    "quality_scorecard": "quality scorecards (before, after)",
    "standardize_customers": "standardize records",
    "find_duplicates": "find duplicates (splink)",
    "clusters_at": "clusters",
    "golden_records": "golden records",
    "clean_transactions": "clean transactions",
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# ---------------------------------------------------------------------------- workers
def worker_generate(args) -> dict:
    from dbmarketing import sample

    s = sample.generate(args.raw, db_path=args.db, n_customers=args.customers, years=args.years, seed=args.seed)
    return {"customer_records": s.customer_records, "persons": s.persons, "orders": s.orders,
            "order_lines": s.order_lines, "end_date": str(s.end_date)}


def worker_load(args) -> dict:
    from dbmarketing import ingest, warehouse

    spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    spec["base_dir"] = str(args.raw)
    sources = Path(args.db).parent / "sources.yaml"
    sources.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    con = warehouse.connect(args.db)
    try:
        loaded = ingest.load_sources(con, sources)
    finally:
        con.close()
    return {"rows_loaded": int(loaded.rows_loaded.sum()) if "rows_loaded" in loaded else None}


def worker_clean(args) -> dict:
    from dbmarketing import cleanse, warehouse

    seconds: dict[str, float] = {}
    peak_after: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
                peak_after[name] = _peak_mb()
        return wrapper

    for name in STAGES:
        setattr(cleanse.pipeline, name, timed(name, getattr(cleanse.pipeline, name)))
    con = warehouse.connect(args.db)
    try:
        start_mb = _peak_mb()
        t0 = time.perf_counter()
        result = cleanse.run(con, as_of=args.as_of)
        total = time.perf_counter() - t0
        out = {"records": result.records, "masters": result.masters, "merged_records": result.merged_records,
               "seconds": seconds, "peak_after": peak_after, "total": total, "start_mb": start_mb,
               "peak_mb": _peak_mb()}
        Path(args.out).write_text(json.dumps(out, default=str))  # kept if the evaluation fails
        t0 = time.perf_counter()
        out["truth"] = cleanse.evaluate_against_truth(con)
        out["evaluate_seconds"] = time.perf_counter() - t0
    finally:
        con.close()
    return out


WORKERS = {"generate": worker_generate, "load": worker_load, "clean": worker_clean}


# ---------------------------------------------------------------------------- driver
def step(name: str, out: Path, **kw) -> tuple[dict, float, float]:
    """Run one worker in a child process: (its result, wall seconds, peak MB of the child)."""
    cmd = [sys.executable, __file__, "--worker", name, "--out", str(out)]
    for k, v in kw.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE)
    # read stderr while waiting (a full pipe would block the child), then reap it with wait4
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{name} failed (exit {proc.returncode}):\n{err.decode(errors='replace')[-4000:]}")
    return json.loads(out.read_text()), seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000, help="people in the sample (default 1,000,000)")
    ap.add_argument("--years", type=int, default=1, help="years of order history (default 1)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", type=Path, help="scratch folder to use and keep (reused if it holds this sample)")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--raw", help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--as-of", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        Path(args.out).write_text(json.dumps(WORKERS[args.worker](args), default=str))
        return

    tmp = None
    if args.dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_clean_")
        folder = Path(tmp.name)
    else:
        folder = args.dir.resolve()
        folder.mkdir(parents=True, exist_ok=True)
    try:
        run(args, folder)
    finally:
        if tmp is not None:
            tmp.cleanup()


def run(args, folder: Path) -> None:
    key = f"{args.customers}-{args.years}-{args.seed}"
    sample_dir = folder / f"sample-{key}"
    raw, loaded_db, done = sample_dir / "raw", sample_dir / "loaded.duckdb", sample_dir / "loaded.json"
    print(f"bench_clean: {args.customers:,} customers, {args.years} year(s) of orders, seed {args.seed}; "
          f"{os.cpu_count()} CPUs", flush=True)
    if done.exists():
        info = json.loads(done.read_text())
        print(f"reusing the loaded sample in {sample_dir}", flush=True)
    else:
        shutil.rmtree(sample_dir, ignore_errors=True)
        sample_dir.mkdir(parents=True)
        gen, gen_s, gen_mb = step("generate", folder / "generate.json", raw=raw, db=loaded_db,
                                  customers=args.customers, years=args.years, seed=args.seed)
        _, load_s, load_mb = step("load", folder / "load.json", raw=raw, db=loaded_db)
        info = {**gen, "generate": [gen_s, gen_mb], "load": [load_s, load_mb]}
        done.write_text(json.dumps(info))
    print(f"{'generate sample':<36}{info['generate'][0]:>9.1f} s{info['generate'][1]:>9.0f} MB peak"
          f"   ({info['customer_records']:,} customer records, {info['orders']:,} orders)")
    print(f"{'load sources':<36}{info['load'][0]:>9.1f} s{info['load'][1]:>9.0f} MB peak", flush=True)

    work_db = folder / "cleanse.duckdb"
    for suffix in ("", ".wal"):
        Path(f"{work_db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(loaded_db, work_db)
    r, wall, child_mb = step("clean", folder / "cleanse.json", db=work_db, as_of=info["end_date"])
    work_db.unlink(missing_ok=True)

    print(f"\ncleaning (cleanse.run, as_of {info['end_date']}): {r['records']:,} records -> {r['masters']:,} masters "
          f"({r['merged_records']:,} records merged)")
    print(f"{'stage':<36}{'seconds':>9}{'peak MB so far':>16}")
    for name, label in STAGES.items():
        if name in r["seconds"]:
            print(f"{label:<36}{r['seconds'][name]:>9.1f}{r['peak_after'][name]:>16.0f}")
    other = r["total"] - sum(r["seconds"].values())
    print(f"{'write tables, other':<36}{other:>9.1f}")
    print(f"{'total cleanse.run':<36}{r['total']:>9.1f}")
    print(f"peak memory of the cleaning process: {r['peak_mb']:,.0f} MB during cleanse.run "
          f"({r['start_mb']:,.0f} MB before it; {child_mb:,.0f} MB including the evaluation; "
          f"process wall time {wall:.1f} s)")
    t = r["truth"]
    if t:
        print(f"against the planted truth: precision {t['precision']:.4f}, recall {t['recall']:.4f} "
              f"({t['correct_pairs']:,} correct of {t['predicted_pairs']:,} predicted pairs; "
              f"{t['true_pairs']:,} true pairs; evaluated in {r['evaluate_seconds']:.1f} s)")
    else:
        print("no truth schema: precision and recall not measured")
    ok_time, ok_mem = r["total"] < 600, r["peak_mb"] < 8 * 1024
    print(f"goal (under 600 s and 8,192 MB): time {'met' if ok_time else 'MISSED'}, "
          f"memory {'met' if ok_mem else 'MISSED'}")


if __name__ == "__main__":
    main()
