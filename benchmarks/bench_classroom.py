"""Benchmark the classroom run: every notebook, course cells included, on the classroom sample.

The course's goal (issue 16): a class runs every chapter in under 60 seconds here. Each repeat
copies ``data/classroom.duckdb`` (``make classroom`` builds it) and runs the report runner with
the course cells (``report --course``: papermill, one kernel per notebook, loading and cleaning
included, the HTML pages written) into a scratch folder, so neither the database nor
``reports/`` change. Prints the median seconds of each notebook and of the whole run, the
fastest and slowest whole run, and what starting a kernel and importing the workbook costs
(the seconds of a notebook that only does that; the runner hides it behind the previous
notebook, :mod:`dbmarketing.reports.kernels`).

    .venv/bin/python benchmarks/bench_classroom.py [--repeat 3] [--lang en] [--db data/classroom.duckdb]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

from dbmarketing import reports  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--lang", default="en", choices=["en", "zh"])
    p.add_argument("--db", default=str(ROOT / "data/classroom.duckdb"))
    args = p.parse_args()
    if not Path(args.db).exists():
        print(f"{args.db} is missing: run make classroom first", file=sys.stderr)
        return 1
    params = yaml.safe_load((ROOT / "params/classroom.yaml").read_text(encoding="utf-8"))
    runs, per_notebook = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for i in range(args.repeat):
            db = tmp / f"classroom{i}.duckdb"
            shutil.copy(args.db, db)
            given = dict(params, db_path=str(db), lang=args.lang,
                         sources=str(ROOT / params["sources"]), campaign_file=str(ROOT / params["campaign_file"]))
            pfile = tmp / f"params{i}.yaml"
            pfile.write_text(yaml.safe_dump(given, allow_unicode=True), encoding="utf-8")
            started = time.perf_counter()
            folder = reports.run_reports(pfile, f"bench{i}", notebooks_dir=ROOT / "notebooks", reports_dir=tmp,
                                         progress=False, course=True)
            runs.append(time.perf_counter() - started)
            for entry in json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["notebooks"]:
                per_notebook.setdefault(entry["name"], []).append(entry["seconds"])
        # the fixed cost of a notebook: a kernel that imports what every chapter imports and opens the database
        probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
            "import matplotlib.pyplot as plt, pandas, sklearn, seaborn\n"
            "from dbmarketing import present, warehouse, rfm, customers, campaigns\n"
            f"present.setup_notebook('en'); con = warehouse.Session({str(tmp / 'classroom0.duckdb')!r}); con.close()")])
        nbformat.write(probe, tmp / "probe.ipynb")
        fixed = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            papermill.execute_notebook(str(tmp / "probe.ipynb"), str(tmp / "probe.out.ipynb"), progress_bar=False, kernel_name="python3",
                                       cwd=str(ROOT), extra_arguments=["--IPKernelApp.log_level=CRITICAL"])
            fixed.append(time.perf_counter() - started)
    print(f"classroom run ({args.lang}, course cells included), median of {args.repeat}:")
    for name, seconds in per_notebook.items():
        print(f"  {name:<24} {statistics.median(seconds):6.1f} s")
    median = statistics.median(runs)
    print(f"  {'whole run':<24} {median:6.1f} s   (fastest {min(runs):.1f} s, slowest {max(runs):.1f} s; goal < 60 s)")
    start = statistics.median(fixed)
    print(f"  a kernel that only starts and imports: {start:.1f} s, x {len(per_notebook)} notebooks = "
          f"{start * len(per_notebook):.1f} s; the runner starts each while the previous notebook runs "
          "(reports.kernels), so only the first is waited for, and writes each notebook's pages while the next runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
