"""Benchmark the workbook at 1M, 10M and 100M transactions (10 per customer) on one machine (issue 17).

For each size it generates the Parquet files once (``gen_scale.py``, chunk by chunk; reused if
present under ``--data``), then times each step, every run in a fresh process so that the
peak resident memory (``ru_maxrss`` of that process: the interpreter and libraries included,
the baseline after imports is printed) is the step's own:

- ``generate``: the Parquet files and sources.yaml (timed once, when they are written);
- ``load``: :func:`dbmarketing.ingest.load_sources` of every file into ``raw`` (a fresh
  database each run; only up to ``--load-up-to`` transactions: see the README, Scale);
- ``build``: ``main.customers`` and ``main.sales`` (one row per order, sorted by customer and
  date, as cleaning writes it) made by DuckDB straight from the Parquet files, with
  ``main.purchase_summary`` (each customer's purchases summed, which the cleaning writes with
  main.sales and RFM and the CLV summary read; its time is printed apart), the other main
  tables empty with the sample database's columns -- a stand-in for cleaning (notebook 02),
  which is not part of this benchmark;
- ``rfm``: :func:`dbmarketing.rfm.compute` (summary, scores, segments; one row per customer back);
- ``rfmdb``: :func:`dbmarketing.rfm.compute_and_store` (the same scores written by DuckDB into
  ``main.rfm_scores``, replacing the last run's: nothing per customer into pandas);
- ``clv``: :func:`dbmarketing.customers.fit_clv` (repeat summary, BG/NBD and Gamma-Gamma per
  customer type, scoring every customer, the calibration/holdout check);
- ``c360``: :func:`dbmarketing.customers.customer_360` (every aggregate in DuckDB, one row per
  customer back into pandas);
- ``c360db``: :func:`dbmarketing.customers.store_360` (the same 360 view written by DuckDB into
  ``main.customer_360``, nothing per customer into pandas) and
  :func:`dbmarketing.customers.counts_360` (its counts per stage, type and channel), what a
  report that shows aggregates needs;
- ``model``: :func:`dbmarketing.customers.build_customer_model` (notebook 03's model: the 360
  view stored by DuckDB, the CLV, churn and segment models on the 360 columns they need, the
  whole model row joined and written to ``main.customer_model`` by the database).
- ``records``: what notebook 06 needs beside the purchases, written into the benchmark's
  database: each customer's record (``raw.customers``, ``main.customer_records``) and a made-up phone, e-mail and
  consents in ``main.customers`` (then ``papermill notebooks/06_event_triggers.ipynb ...``).

Every DuckDB connection gets ``memory_limit`` ``--duckdb-memory`` (default 8 GB) and a
``temp_directory`` next to the database, so a query larger than memory spills to disk instead
of failing. Prints one table: median seconds of ``--repeat`` runs, the largest peak memory, and
the growth of both from one size to the next (10x more data: 10.0 is linear).

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000000,10000000,100000000] [--repeat 3]
        [--data data/scale] [--template data/scale/template.duckdb] [--load-up-to 10000000] [--load-repeat 1] [--max-rss-gb 16] [--steps load,build,rfm,rfmdb,rfm04,clv,c360,c360db,model,records]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF = "2026-10-31"
STEPS = ("load", "build", "rfm", "rfmdb", "rfm04", "clv", "c360", "c360db", "model", "records")


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n:,}"


def _connect(path: Path, memory: str):
    from dbmarketing import warehouse

    con = warehouse.connect(path)
    con.execute(f"SET memory_limit = '{memory}'")
    con.execute(f"SET temp_directory = '{path.parent / 'duckdb_tmp'}'")
    con.execute("SET preserve_insertion_order = false")
    return con


# ------------------------------------------------------------------------------------------
# the steps (each runs in a worker process: python bench_scale.py --worker STEP ...)
# ------------------------------------------------------------------------------------------


def step_load(data: Path, db: Path, memory: str, template: Path) -> str:
    from dbmarketing.ingest import load_sources

    db.unlink(missing_ok=True)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    con = _connect(db, memory)
    t0 = time.perf_counter()
    out = load_sources(con, data / "sources.yaml")
    seconds = time.perf_counter() - t0
    con.close()
    db.unlink(missing_ok=True)
    return seconds, f"{int(out['rows_loaded'].sum()):,} rows loaded, {int(out['rows_rejected'].sum()):,} rejected"


def step_build(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing.rfm.summary import write_purchase_summary

    db.unlink(missing_ok=True)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    con = _connect(db, memory)
    t0 = time.perf_counter()
    con.execute(f"ATTACH '{template}' AS tpl (READ_ONLY)")
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'tpl' AND schema_name = 'main'").fetchall()]
    for name in tables:  # every main table with its columns, empty
        con.execute(f'CREATE OR REPLACE TABLE main."{name}" AS SELECT * FROM tpl.main."{name}" LIMIT 0')
    con.execute(f"""
        INSERT INTO main.customers BY NAME
        SELECT customer_no AS customer_id, type AS customer_type, gender, province, city,
               CAST(signup AS DATE) AS signup_date, signup_channel, 'scale' AS source_systems, 1 AS records
        FROM read_parquet('{data}/customers/*.parquet')""")
    sales_columns = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE "
                                                "database_name = 'tpl' AND table_name = 'sales'").fetchall()}
    optional = {"gross_amount": "amount", "returned_amount": "0.0", "cost": "round(0.7 * amount, 2)",
                "margin": "round(0.3 * amount, 2)"}  # no returns; a 30 % margin
    extra = "".join(f", {value} AS {name}" for name, value in optional.items() if name in sales_columns)
    con.execute(f"""
        INSERT INTO main.sales BY NAME
        SELECT order_no AS order_id, customer_no AS customer_id, CAST(order_date AS DATE) AS order_date,
               customer_no AS source_customer_id, channel, 1 AS lines, amount AS net_amount, false AS is_wholesale {extra}
        FROM read_parquet('{data}/orders/*.parquet')
        ORDER BY customer_id, order_date, order_id""")
    con.execute("DETACH tpl")
    t1 = time.perf_counter()
    write_purchase_summary(con)  # as the cleaning does with main.sales
    summed = time.perf_counter() - t1
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t0
    n = con.execute("SELECT count(*) FROM main.sales").fetchone()[0]
    con.close()
    return seconds, f"{n:,} sales, {len(tables)} main tables, main.purchase_summary in {summed:.1f} s"


def step_rfm(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing import rfm

    con = _connect(db, memory)
    t0 = time.perf_counter()
    out = rfm.compute(con, AS_OF, table="main.sales")
    return time.perf_counter() - t0, f"{len(out):,} customers scored"


def step_rfmdb(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing import rfm

    con = _connect(db, memory)
    t0 = time.perf_counter()
    rows = rfm.compute_and_store(con, AS_OF, table="main.sales", replace=True)
    return time.perf_counter() - t0, f"{rows:,} customers scored and stored"


def step_rfm04(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    """What chapter 04 shows of the stored scores (rfmdb stores them), summed by the database."""
    from dbmarketing import rfm

    con = _connect(db, memory)
    t0 = time.perf_counter()
    scores = rfm.stored(con, AS_OF)
    tables = [rfm.measure_summary(scores), rfm.distributions(scores), rfm.score_ranges(scores),
              rfm.segment_table(scores), rfm.empty_segments(scores), rfm.rf_matrix(scores, agg="mean"),
              rfm.rf_matrix(scores, agg="count"), rfm.pareto(scores)]
    return time.perf_counter() - t0, f"{len(tables)} tables and charts of {scores.customers:,} customers' scores"


def step_clv(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing import customers

    con = _connect(db, memory)
    t0 = time.perf_counter()
    result = customers.fit_clv(con, AS_OF)
    return time.perf_counter() - t0, f"{len(result.predictions):,} customers valued"


def step_c360(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing import customers

    con = _connect(db, memory)
    t0 = time.perf_counter()
    out = customers.customer_360(con, AS_OF)
    return time.perf_counter() - t0, f"{len(out):,} customers x {out.shape[1]} columns"


def step_c360db(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing import customers

    con = _connect(db, memory)
    t0 = time.perf_counter()
    rows = customers.store_360(con, AS_OF, table="main.customer_360")
    counts = customers.counts_360(con, "main.customer_360")
    return time.perf_counter() - t0, f"{rows:,} customers stored, {len(counts)} counts back"


def step_model(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    from dbmarketing import customers

    con = _connect(db, memory)
    t0 = time.perf_counter()
    model = customers.build_customer_model(con, AS_OF)
    stored = con.execute("SELECT count(*) FROM main.customer_model WHERE as_of = CAST(? AS DATE)", [AS_OF]).fetchone()[0]
    return time.perf_counter() - t0, (f"{stored:,} customers modelled and stored, {len(model.at_risk):,} valuable at risk, "
                                      f"skipped: {', '.join(model.skipped) or 'nothing'}")


def step_records(data: Path, db: Path, memory: str, template: Path) -> tuple[float, str]:
    """What notebook 06 needs beside the purchases (a customer master with its records): each
    customer's record of the benchmark's one source (raw.customers as a load writes it, and
    main.customer_records) and, in
    main.customers, a made-up mobile number and e-mail and the consents (yes for about 80 % of
    the customers, by a hash of the customer number), so the trigger lists have whom to contact."""
    con = _connect(db, memory)
    t0 = time.perf_counter()
    contact = """'Customer ' || customer_no AS name,
                 '13' || lpad(CAST(hash(customer_no) % 1000000000 AS VARCHAR), 9, '0') AS phone,
                 lower(customer_no) || '@example.com' AS email,
                 hash(customer_no || 'mail') % 10 < 8 AS consent_mail, hash(customer_no || 'sms') % 10 < 8 AS consent_sms,
                 hash(customer_no || 'email') % 10 < 8 AS consent_email,
                 hash(customer_no || 'phone') % 10 < 8 AS consent_phone"""
    con.execute("DELETE FROM main.customer_records")
    con.execute(f"""
        INSERT INTO main.customer_records BY NAME
        SELECT customer_no AS customer_id, 'scale' AS source_system, type AS customer_type, gender, province, city,
               CAST(signup AS DATE) AS signup_date, signup_channel, 'mobile' AS phone_kind, {contact}
        FROM read_parquet('{data}/customers/*.parquet')""")
    con.execute("DELETE FROM raw.customers")
    con.execute("""
        INSERT INTO raw.customers BY NAME
        SELECT customer_id, customer_type, name, gender, phone, email, province, city, signup_date, signup_channel,
               consent_mail, consent_sms, consent_email, consent_phone, source_system, 0 AS batch_id,
               row_number() OVER () AS source_line, TIMESTAMP '2026-10-31 00:00:00' AS valid_from
        FROM main.customer_records""")
    con.execute(f"""
        UPDATE main.customers AS c SET name = r.name, phone = r.phone, email = r.email, consent_mail = r.consent_mail,
               consent_sms = r.consent_sms, consent_email = r.consent_email, consent_phone = r.consent_phone
        FROM (SELECT customer_no, {contact} FROM read_parquet('{data}/customers/*.parquet')) r
        WHERE c.customer_id = r.customer_no""")
    con.execute("CHECKPOINT")
    seconds = time.perf_counter() - t0
    n = con.execute("SELECT count(*) FROM main.customer_records").fetchone()[0]
    reachable = con.execute("SELECT count(*) FROM main.customers WHERE consent_sms").fetchone()[0]
    con.close()
    return seconds, f"{n:,} customer records, {reachable:,} customers who take text messages"


def worker(step: str, data: Path, db: Path, memory: str, template: Path) -> None:
    import dbmarketing.clv  # noqa: F401  (imports before the baseline)
    import dbmarketing.customers  # noqa: F401
    import dbmarketing.ingest  # noqa: F401
    import dbmarketing.rfm  # noqa: F401

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, what = globals()[f"step_{step}"](data, db, memory, template)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "baseline_mb": baseline, "what": what}))


# ------------------------------------------------------------------------------------------


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_worker(step: str, data: Path, db: Path, memory: str, template: Path, max_rss_mb: float) -> dict:
    """Run one step in a fresh process; stop it if its resident memory passes ``max_rss_mb``
    (a cap on resident memory: an address-space cap such as prlimit --as also counts what
    DuckDB and Arrow only reserve, and fails long before the memory is used)."""
    out, err, code = watched([sys.executable, __file__, "--worker", step, "--data", str(data), "--db", str(db),
                              "--duckdb-memory", memory, "--template", str(template)], max_rss_mb)
    if code is None:
        return {"error": f"stopped: resident memory above {max_rss_mb / 1024:.0f} GB"}
    if code:
        lines = [line for line in err.strip().splitlines() if "Error" in line] or err.strip().splitlines() or [
            f"exit {code}"]
        return {"error": lines[-1][:200]}
    return json.loads(out.strip().splitlines()[-1])


def watched(cmd: list[str], max_rss_mb: float, cwd=None) -> tuple[str, str, int | None]:
    """Run ``cmd`` and return its (stdout, stderr, exit code); the exit code is None when it was
    stopped because its resident memory passed ``max_rss_mb`` (benchmarks' worker processes)."""
    child = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    while child.poll() is None:
        if _rss_mb(child.pid) > max_rss_mb:
            child.kill()
            killed = True
        time.sleep(0.1)
    out, err = child.communicate()
    return out, err, None if killed else child.returncode


def make_template(path: Path) -> None:
    """The sample database (make data) copied and cleaned: every main table, with its columns."""
    import shutil

    from dbmarketing import cleanse, warehouse

    sample = ROOT / "data" / "crm.duckdb"
    if not sample.exists():
        sys.exit(f"{sample} not found: run make data first (the template's columns come from the cleaned sample)")
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sample, str(path) + ".tmp")
    con = warehouse.connect(str(path) + ".tmp")
    cleanse.run(con)
    con.close()
    Path(str(path) + ".tmp").rename(path)


def generate(data: Path, n: int) -> dict:
    if (data / "sources.yaml").exists():
        return {"seconds": None, "peak_mb": None, "what": "reused"}
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(HERE / "gen_scale.py"), "--transactions", str(n), "--out", str(data)],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child so far
    return {"seconds": seconds, "peak_mb": peak, "what": done.stdout.strip()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000,100000000")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "scale")
    ap.add_argument("--template", type=Path, default=ROOT / "data" / "scale" / "template.duckdb",
                    help="a cleaned database whose main tables give the columns (made from make data's sample)")
    ap.add_argument("--load-up-to", type=int, default=10_000_000)
    ap.add_argument("--load-repeat", type=int, default=1, help="runs of the load step (minutes each at 10M)")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--duckdb-memory", default="8GB")
    ap.add_argument("--max-rss-gb", type=float, default=16.0, help="stop a step whose resident memory passes this")
    ap.add_argument("--worker")
    ap.add_argument("--db", type=Path)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.db, args.duckdb_memory, args.template)
        return

    if not args.template.exists():
        make_template(args.template)
    steps = [s for s in args.steps.split(",") if s]
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{os.cpu_count()} CPUs, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB; "
          f"as of {AS_OF}; DuckDB memory_limit {args.duckdb_memory}; median of {args.repeat} runs, each in a fresh process")
    results: dict[tuple[str, int], dict] = {}
    for n in sizes:
        data = args.data / _label(n).lower()
        gen = generate(data, n)
        results[("generate", n)] = gen
        db = data / "bench.duckdb"
        for step in steps:
            if step == "load" and n > args.load_up_to:
                results[(step, n)] = {"skipped": f"above --load-up-to {_label(args.load_up_to)}"}
                continue
            target = data / "load.duckdb" if step == "load" else db  # load starts from an empty database
            runs = [run_worker(step, data, target, args.duckdb_memory, args.template, args.max_rss_gb * 1024)
                    for _ in range(1 if step == "build" else args.load_repeat if step == "load" else args.repeat)]  # build makes the database the others read
            bad = [r for r in runs if "error" in r]
            if bad:
                results[(step, n)] = bad[0]
            else:
                results[(step, n)] = {"seconds": statistics.median(r["seconds"] for r in runs),
                                      "peak_mb": max(r["peak_mb"] for r in runs), "baseline_mb": runs[0]["baseline_mb"],
                                      "what": runs[0]["what"]}
            r = results[(step, n)]
            print(f"  {_label(n):>5} {step:<8} " + (f"{r['seconds']:8.2f} s  peak {r['peak_mb']:7,.0f} MB  {r['what']}"
                                                    if "seconds" in r else r.get("error", "")), flush=True)

    print()
    head = f"{'step':<9}" + "".join(f"{_label(n):>22}" for n in sizes) + "".join(
        f"{'growth ' + _label(a) + '->' + _label(b):>24}" for a, b in zip(sizes, sizes[1:]))
    print(head)
    for step in ("generate", *steps):
        cells, growth = [], []
        for n in sizes:
            r = results.get((step, n), {})
            if r.get("seconds") is not None:
                cells.append(f"{r['seconds']:8.1f} s {r['peak_mb'] / 1024:6.2f} GB")
            else:
                cells.append(("skipped" if "skipped" in r else "reused" if r.get("what") == "reused" else "FAILED"))
        for a, b in zip(sizes, sizes[1:]):
            ra, rb = results.get((step, a), {}), results.get((step, b), {})
            if ra.get("seconds") and rb.get("seconds"):
                growth.append(f"time x{rb['seconds'] / ra['seconds']:.1f}, mem x{rb['peak_mb'] / ra['peak_mb']:.1f}")
            else:
                growth.append("-")
        print(f"{step:<9}" + "".join(f"{c:>22}" for c in cells) + "".join(f"{g:>24}" for g in growth))
    for (step, n), r in results.items():
        if "error" in r:
            print(f"{step} at {_label(n)} failed: {r['error']}")


if __name__ == "__main__":
    main()
