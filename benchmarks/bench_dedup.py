"""Benchmark de-duplicating 1,000,000 and 10,000,000 customer records (issue 17).

The records: the sample retailer (``dbmarketing.sample.generate``, ``--base-customers``
people, seeded; about 3% of them planted a second time, the truth in schema ``truth``),
loaded and standardized as cleaning does (``cleanse.records.standardize_customers``), the
columns the match model reads (``matching.match_frame``) with each record's planted person,
written once to ``<dir>/base.parquet``. A size larger than the base takes it several times
("tiles"): tile t > 0 appends ``~t`` to the customer number, the name, ID number, phone and
e-mail (and the person), so no two tiles share a blocking key and each tile's duplicates are
the base's. Making the table of a size is printed apart; it is not part of de-duplication.

De-duplication, timed in a fresh process per size (DuckDB with ``--duckdb-memory`` and a
temporary folder next to its file), in the steps the library offers:

1. **train**: ``matching.train_model`` on a random sample of ``--train-records`` records (all
   of them when there are fewer); trained once, used for every chunk;
2. **name frequencies** of all records' names (``matching.name_frequencies``);
3. **score**: ``matching.score_pairs`` on the DuckDB table, in chunks x chunks parts (chunks =
   records / ``--chunk-records``, rounded up; 1 is one pass);
4. **cluster**: the ID-number rule (``matching.same_id_pairs``) and the connected components at
   ``--threshold`` (``matching.clusters_at``).

Printed per size: each step's seconds, the total, the process's peak resident memory
(interpreter and libraries included), and the pairwise precision / recall of the clusters
against the planted persons. A process whose resident memory passes ``--max-rss-gb`` is
stopped. Run heavy sizes under the machine's lock:

    flock /work/heavy.lock .venv/bin/python benchmarks/bench_dedup.py --sizes 1000000,10000000
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import time
from pathlib import Path

import yaml

from bench_scale import watched  # the worker process, stopped above a resident-memory cap

ROOT = Path(__file__).resolve().parents[1]
TILED = ("customer_id", "name", "id_number", "phone", "email")  # made unique per tile


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KB on Linux


# ---------------------------------------------------------------------------- workers
def worker_base(args) -> dict:
    """Generate, load and standardize the base sample; write base.parquet."""
    import duckdb

    from dbmarketing import ingest, sample, warehouse
    from dbmarketing.cleanse import matching
    from dbmarketing.cleanse.records import standardize_customers

    folder = Path(args.dir)
    raw, db = folder / "raw", folder / "base.duckdb"
    sample.generate(raw, db_path=db, n_customers=args.base_customers, years=1, seed=args.seed)
    spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    spec["base_dir"] = str(raw)
    (folder / "sources.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    con = warehouse.connect(db)
    ingest.load_sources(con, folder / "sources.yaml")
    records, _, _ = standardize_customers(con, 1, warehouse.newest_extraction(con))
    frame = matching.match_frame(records)
    truth = con.execute("SELECT customer_id, CAST(person_id AS VARCHAR) AS person_id FROM truth.customer_records").df()
    con.close()
    frame = frame.merge(truth, on="customer_id", how="left")
    frame["person_id"] = frame.person_id.fillna("only " + frame.customer_id)  # no planted person: its own
    out = duckdb.connect()
    out.register("frame", frame)
    out.execute(f"COPY (SELECT * FROM frame ORDER BY customer_id) TO '{folder / 'base.parquet'}' (FORMAT parquet)")
    return {"records": len(frame), "people": int(frame.person_id.nunique())}


def worker_dedup(args) -> dict:
    import duckdb

    from dbmarketing.cleanse import matching

    folder = Path(args.dir)
    db = folder / f"dedup-{args.size}.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db), config={"memory_limit": args.duckdb_memory, "threads": 2,
                                          "temp_directory": str(folder / "duckdb-tmp")})
    seconds = {}
    t0 = time.perf_counter()
    base = folder / "base.parquet"
    base_rows = con.execute(f"SELECT count(*) FROM '{base}'").fetchone()[0]
    tiles = math.ceil(args.size / base_rows)
    tiled = ", ".join(f"CASE WHEN t = 0 THEN {c} ELSE {c} || '~' || t END AS {c}" for c in (*TILED, "person_id"))
    con.execute(f"""CREATE TABLE tiled AS
        SELECT {tiled}, * EXCLUDE ({", ".join((*TILED, "person_id"))})
        FROM '{base}', range({tiles}) tiles(t) ORDER BY t, customer_id LIMIT {args.size}""")
    con.execute(f"CREATE VIEW records AS SELECT customer_id, {', '.join(matching.MATCH_FIELDS)} FROM tiled")
    seconds["make the table (not de-duplication)"] = time.perf_counter() - t0
    peak_before = _peak_gb()

    def step(name, fn):
        t = time.perf_counter()
        result = fn()
        seconds[name] = time.perf_counter() - t
        return result

    def train():
        n = min(args.train_records, args.size)
        frame = con.execute(f"SELECT * FROM records USING SAMPLE reservoir({n} ROWS) REPEATABLE ({args.seed})").df()
        return matching.train_model(matching.match_frame(frame), args.seed)

    def names():
        tf = matching.name_frequencies(con.execute("SELECT name FROM records").df()["name"])
        con.execute("CREATE TABLE names AS SELECT * FROM tf")
        return len(tf)

    chunks = math.ceil(args.size / args.chunk_records)
    model = step("train the model (on a sample)", train)
    step("name frequencies", names)
    pairs = step(f"score pairs ({chunks} x {chunks} chunks)",
                 lambda: matching.score_pairs(con, "records", model, "names", chunks=chunks))

    def cluster():
        ids = con.execute("SELECT customer_id, id_number FROM records").df()
        return matching.clusters_at(ids, pairs, args.threshold, matching.same_id_pairs(ids))

    clusters = step("clusters (model pairs and the ID rule)", cluster)
    total = sum(v for k, v in seconds.items() if "not de-duplication" not in k)
    peak = _peak_gb()
    con.register("clusters", clusters[["customer_id", "cluster_id"]])
    predicted, true, both = con.execute("""
        WITH c AS (SELECT cluster_id, person_id FROM clusters JOIN tiled USING (customer_id)),
        n AS (SELECT count(*) AS n, cluster_id, person_id FROM c GROUP BY ALL)
        SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM c GROUP BY cluster_id)),
               (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM c GROUP BY person_id)),
               (SELECT sum(n * (n - 1) / 2) FROM n)""").fetchone()
    con.close()
    db.unlink(missing_ok=True)
    return {"size": args.size, "tiles": tiles, "seconds": seconds, "total": total, "peak_gb": peak,
            "peak_before_gb": peak_before, "pairs": len(pairs), "masters": int(clusters.cluster_id.nunique()),
            "predicted_pairs": predicted, "true_pairs": true, "correct_pairs": both,
            "sessions": [s["status"] for s in model["training_sessions"]]}


WORKERS = {"base": worker_base, "dedup": worker_dedup}


# ---------------------------------------------------------------------------- driver
def run_worker(name: str, args, max_rss_gb: float, **extra) -> dict:
    """Run one worker in a fresh process, stopped if its resident memory passes ``max_rss_gb``."""
    cmd = [sys.executable, __file__, "--worker", name, "--dir", str(args.dir), "--seed", str(args.seed),
           "--base-customers", str(args.base_customers), "--train-records", str(args.train_records),
           "--chunk-records", str(args.chunk_records), "--threshold", str(args.threshold),
           "--duckdb-memory", args.duckdb_memory]
    for k, v in extra.items():
        cmd += [f"--{k}", str(v)]
    out, err, code = watched(cmd, max_rss_gb * 1024, cwd=ROOT)
    if code is None:
        sys.exit(f"{name}: stopped, resident memory above {max_rss_gb:.0f} GB")
    if code:
        sys.exit(f"{name} failed (exit {code}):\n{err[-4000:]}")
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000", help="records to de-duplicate, comma-separated")
    ap.add_argument("--base-customers", type=int, default=200_000, help="people in the generated base sample")
    ap.add_argument("--train-records", type=int, default=1_000_000, help="records the model is trained on")
    ap.add_argument("--chunk-records", type=int, default=2_500_000, help="records per chunk of the scoring")
    ap.add_argument("--threshold", type=float, default=0.9, help="match probability that links two records")
    ap.add_argument("--duckdb-memory", default="8GB")
    ap.add_argument("--max-rss-gb", type=float, default=16.0)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", type=Path, default=ROOT / "data" / "bench_dedup")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args), default=str))
        return
    args.dir = args.dir.resolve()
    args.dir.mkdir(parents=True, exist_ok=True)
    done = args.dir / f"base-{args.base_customers}-{args.seed}.json"
    if not done.exists():
        t0 = time.perf_counter()
        info = run_worker("base", args, args.max_rss_gb)
        info["seconds"] = time.perf_counter() - t0
        done.write_text(json.dumps(info))
    info = json.loads(done.read_text())
    print(f"bench_dedup: base sample of {args.base_customers:,} people: {info['records']:,} records "
          f"({info['seconds']:.0f} s to generate, load and standardize; in {args.dir / 'base.parquet'})", flush=True)
    for size in (int(s) for s in args.sizes.split(",")):
        r = run_worker("dedup", args, args.max_rss_gb, size=size)
        print(f"\n{size:,} records ({r['tiles']} tile(s) of the base), model trained on "
              f"{min(args.train_records, size):,} (EM sessions: {', '.join(r['sessions'])})")
        for name, s in r["seconds"].items():
            print(f"  {name:<48}{s:>9.1f} s")
        print(f"  {'de-duplication in total':<48}{r['total']:>9.1f} s")
        print(f"  peak resident memory {r['peak_gb']:.2f} GB ({r['peak_before_gb']:.2f} GB after making the table); "
              f"{r['pairs']:,} pairs scored, {r['masters']:,} masters")
        p = r["correct_pairs"] / r["predicted_pairs"] if r["predicted_pairs"] else 1.0
        rec = r["correct_pairs"] / r["true_pairs"] if r["true_pairs"] else 1.0
        print(f"  against the planted persons: precision {p:.4f}, recall {rec:.4f} "
              f"({r['correct_pairs']:,.0f} correct of {r['predicted_pairs']:,.0f} predicted pairs; "
              f"{r['true_pairs']:,.0f} true pairs)", flush=True)


if __name__ == "__main__":
    main()
