"""Benchmark the spine: generate and load the default sample, then run every report.

Prints seconds and peak memory (max resident set of the step's process tree) per step.
Everything happens in a scratch folder; the project's data/ and reports/ are not touched.

    .venv/bin/python benchmarks/bench_spine.py [--customers 20000] [--years 3] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return (seconds, peak MB of the process and the children it waited for)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=1, help="runs of each step; the median is printed")
    args = ap.parse_args()
    py = sys.executable
    rows = {"generate sample": [], "load sources": [], "reports (all notebooks)": []}
    with tempfile.TemporaryDirectory(prefix="bench_spine_") as tmp:
        tmp = Path(tmp)
        for i in range(args.repeat):
            run = tmp / f"run{i}"
            raw, dbp = run / "raw", run / "crm.duckdb"
            spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
            spec["base_dir"] = str(raw)
            run.mkdir()
            (run / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
            params = yaml.safe_load((ROOT / "params/default.yaml").read_text(encoding="utf-8"))
            campaign = yaml.safe_load((ROOT / "params/campaigns/email_test.yaml").read_text(encoding="utf-8"))
            campaign["path"] = str(raw / Path(campaign["path"]).name)  # this run's e-mail test export
            (run / "email_test.yaml").write_text(yaml.safe_dump(campaign, allow_unicode=True), encoding="utf-8")
            params.update(db_path=str(dbp), sources=str(run / "sources.yaml"), campaign_file=str(run / "email_test.yaml"))
            (run / "params.yaml").write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
            rows["generate sample"].append(measure(
                [py, "-m", "dbmarketing", "sample", "--out", str(raw), "--db", str(dbp),
                 "--customers", str(args.customers), "--years", str(args.years)]))
            rows["load sources"].append(measure(
                [py, "-m", "dbmarketing", "load", "--db", str(dbp), "--sources", str(run / "sources.yaml")]))
            rows["reports (all notebooks)"].append(measure(
                [py, "-m", "dbmarketing", "report", "--quiet", "--params", str(run / "params.yaml"),
                 "--run", "bench", "--reports", str(run / "reports")]))
        size_mb = dbp.stat().st_size / 2**20
    print(f"default sample: {args.customers:,} customers, {args.years} years; {args.repeat} run(s), medians")
    print(f"{'step':<26}{'seconds':>10}{'peak MB':>10}")
    for step, values in rows.items():
        secs = statistics.median(v[0] for v in values)
        peak = max(v[1] for v in values)
        print(f"{step:<26}{secs:>10.1f}{peak:>10.0f}")
    total = sum(statistics.median(v[0] for v in values) for values in rows.values())
    print(f"{'total':<26}{total:>10.1f}")
    print(f"database file: {size_mb:.0f} MB; goal for reports: under 180 s")


if __name__ == "__main__":
    main()
