"""Command line: ``python -m dbmarketing {sample,load,report,publish}``.

    python -m dbmarketing sample --out data/raw --db data/crm.duckdb   # write the sample's raw files and truth
    python -m dbmarketing load --db data/crm.duckdb --sources params/sources/sample.yaml
    python -m dbmarketing report --params params/default.yaml --run monthly-2026-11
    python -m dbmarketing publish --clearance 2 --db data/crm.duckdb --out data/analyst.duckdb --key-file /etc/dbmarketing/pseudonym.key

Errors are printed on one line to stderr and the exit code is 1.
"""

from __future__ import annotations

import argparse
import sys
import time

from .privacy import KEY_ENV as _KEY_ENV
from .messages import log, one_line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dbmarketing", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="generate the sample retailer's raw source files (and its truth schema)")
    s.add_argument("--out", default="data/raw", help="folder for the raw files (default data/raw)")
    s.add_argument("--db", default="data/crm.duckdb", help="database for the truth schema ('' to skip)")
    s.add_argument("--customers", type=int, default=20_000, help="number of people (default 20,000)")
    s.add_argument("--years", type=int, default=3, help="years of history (default 3)")
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--locale", default="zh_CN", choices=["zh_CN", "en_US"])

    ld = sub.add_parser("load", help="load the sources of a sources file into the database")
    ld.add_argument("--db", default="data/crm.duckdb")
    ld.add_argument("--sources", default="params/sources/sample.yaml")
    ld.add_argument("--only", nargs="*", help="names of the sources to load (default all)")

    r = sub.add_parser("report", help="run every numbered notebook with papermill and write HTML reports")
    r.add_argument("--params", default="params/default.yaml")
    r.add_argument("--run", required=True, help="run name: the reports go to reports/RUN/")
    r.add_argument("--notebooks", default="notebooks")
    r.add_argument("--reports", default="reports")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", dest="overrides",
                   help="a parameter for this run over the file's (a YAML value), e.g. --set engine=spark")
    r.add_argument("--course", action="store_true", help="run the course cells too (goals, methods by hand, "
                                                           "exercises and their checks); a report leaves them out")

    co = sub.add_parser("course", help="write the trainer and student notebooks and the offline slides of every "
                                       "chapter from classroom runs (make course)")
    co.add_argument("--out", default="reports/course")
    co.add_argument("--run", action="append", required=True, metavar="LANG=FOLDER",
                    help="a classroom run (report --course) of one edition, e.g. en=reports/classroom")
    co.add_argument("--notebooks", default="notebooks")

    ed = sub.add_parser("editions", help="copy the English notebooks' code cells into the other editions "
                                         "(notebooks/zh/), their prose untouched; --check only says where they differ")
    ed.add_argument("--notebooks", default="notebooks")
    ed.add_argument("--check", action="store_true", help="change nothing; exit 1 if an edition departs")

    cr = sub.add_parser("compare-runs", help="say whether two report runs show the same figures (e.g. make reports "
                                              "and make reports ENGINE=spark): exit 1 and one line per difference if not")
    cr.add_argument("run_a", help="a run's folder, e.g. reports/sample")
    cr.add_argument("run_b", help="the other run's folder, e.g. reports/sample-spark")
    cr.add_argument("--tolerance", type=float, default=1e-9, help="relative difference allowed in a number (1e-9)")

    pb = sub.add_parser(
        "publish", help="write a de-identified copy of the database for readers of a lower clearance",
        description="Write a copy of the database in which every column above --clearance (main.catalog) holds a keyed "
                    "pseudonym, a generalized or a masked value (dbmarketing.privacy.RULES), with the catalog, the load "
                    "history and main.publication saying what it is. The key: --key-file if given, else the "
                    f"environment variable {_KEY_ENV}; at least 32 characters, outside the project and the databases' "
                    "folders, the same every month (copies then join); only its fingerprint enters the copy.")
    pb.add_argument("--clearance", type=int, default=2, help="the readers' clearance, 1-3 (default 2)")
    pb.add_argument("--db", default="data/crm.duckdb", help="the full database (opened read-only)")
    pb.add_argument("--out", required=True, help="the copy to write (e.g. data/analyst.duckdb)")
    pb.add_argument("--key-file", help=f"file holding the pseudonym key; wins over {_KEY_ENV}")
    pb.add_argument("--replace", action="store_true", help="write over an existing --out")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "sample":
            return _sample(args)
        if args.command == "load":
            return _load(args)
        if args.command == "report":
            return _report(args)
        if args.command == "publish":
            return _publish(args)
        if args.command == "compare-runs":
            return _compare_runs(args)
        if args.command == "editions":
            return _editions(args)
        if args.command == "course":
            return _course(args)
    except Exception as exc:  # one clear line for schedulers; the type names the kind of failure
        print(f"error: {type(exc).__name__}: {one_line(exc, 2000)}", file=sys.stderr)
        return 1
    return 2


def _sample(args) -> int:
    from . import sample

    t0 = time.perf_counter()
    summary = sample.generate(
        args.out, db_path=args.db or None, n_customers=args.customers, years=args.years, seed=args.seed, locale=args.locale
    )
    print(summary)
    print(f"sample written to {args.out} in {time.perf_counter() - t0:.1f} s")
    return 0


def _load(args) -> int:
    from . import ingest, warehouse

    t0 = time.perf_counter()
    ingest.read_sources(args.sources)  # a wrong sources file stops before the database is created
    con = warehouse.connect(args.db)
    try:
        result = ingest.load_sources(con, args.sources, only=args.only)
    finally:
        con.close()
    for row in result.itertuples():
        log(f"{row.source} -> {row.table}: {row.status}, batch {row.batch_id}, {row.rows_read:,} read, "
            f"{row.rows_loaded:,} loaded, {row.rows_unchanged:,} unchanged, {row.rows_rejected:,} rejected")
    log(f"loaded into {args.db} in {time.perf_counter() - t0:.1f} s")
    return 0


def _compare_runs(args) -> int:
    from .reports.compare import compare_runs

    diffs = compare_runs(args.run_a, args.run_b, tolerance=args.tolerance)
    for line in diffs:
        print(line)
    log(f"{args.run_a} and {args.run_b}: " + (f"{len(diffs)} difference(s)" if diffs else "the same figures"))
    return 1 if diffs else 0


def _overrides(pairs: list[str]) -> dict:
    """``--set NAME=VALUE`` options as parameters: each VALUE read as YAML (2 is a number, 2026-10-31 a date)."""
    import yaml

    out = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip().isidentifier():
            raise SystemExit(f"--set {pair}: expected NAME=VALUE, e.g. --set engine=spark")
        try:
            out[name.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError as error:
            raise SystemExit(f"--set {pair}: the value is not YAML ({one_line(str(error), 120)})") from None
    return out


def _report(args) -> int:
    from . import reports

    t0 = time.perf_counter()
    out = reports.run_reports(args.params, args.run, notebooks_dir=args.notebooks, reports_dir=args.reports,
                             progress=not args.quiet, course=args.course, overrides=_overrides(args.overrides))
    log(f"reports written in {time.perf_counter() - t0:.1f} s: open {out / 'index.html'}")
    return 0


def _course(args) -> int:
    from .course import build

    t0 = time.perf_counter()
    runs = {}
    for given in args.run:
        lang, sep, folder = given.partition("=")
        if not sep:
            raise ValueError(f"--run {given!r}: write LANG=FOLDER, e.g. en=reports/classroom")
        runs[lang] = folder
    out = build.build(args.out, runs, notebooks_dir=args.notebooks)
    log(f"course written in {time.perf_counter() - t0:.1f} s: open {out / 'index.html'}")
    return 0


def _editions(args) -> int:
    from pathlib import Path

    from .present.words import LANGS
    from .reports import editions
    from .reports.parameters import find_notebooks

    found = []
    for lang in LANGS[1:]:
        if args.check:
            for english in find_notebooks(args.notebooks):
                edition = editions.edition_dir(args.notebooks, lang) / english.name
                found += editions.differences(english, edition, lang) if edition.exists() else [
                    f"{edition}: missing (every chapter comes in every edition)"]
        else:
            for path in editions.sync(args.notebooks, lang):
                log(f"{path}: code cells copied from {Path(args.notebooks) / path.name}")
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


def _publish(args) -> int:
    from . import privacy

    t0 = time.perf_counter()
    result = privacy.publish(args.db, args.out, args.clearance, key_file=args.key_file, replace=args.replace)
    print(result)
    print(f"written in {time.perf_counter() - t0:.1f} s")
    return 0
