"""Shared fixtures: one small sample database built once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# make test runs one test process per core (xdist), and a report run's kernels beside it: the
# threads numpy's BLAS and scikit-learn's OpenMP would start per core only fight over the same
# cores (chapter 05 on the small sample: 27 s of CPU with them, 17 s without). One thread each,
# for every process the tests start (kernels, the CLI); a number set in the environment wins.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")
SMALL = dict(n_customers=1500, years=2, seed=7)


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """A small sample: raw files, the truth schema and the loaded raw layer.

    Returns a dict with ``root`` (folder), ``raw_dir``, ``db_path``, ``sources`` (a copy of
    params/sources/sample.yaml pointing at this folder's raw files) and ``campaign_file`` (a
    copy of params/campaigns/email_test.yaml pointing at this folder's e-mail test export).
    """
    from dbmarketing import ingest, warehouse, sample

    root = tmp_path_factory.mktemp("small_sample")
    raw_dir = root / "raw"
    db_path = root / "crm.duckdb"
    sample.generate(raw_dir, db_path=db_path, **SMALL)
    spec = yaml.safe_load((ROOT / "params/sources/sample.yaml").read_text(encoding="utf-8"))
    spec["base_dir"] = str(raw_dir)
    sources = root / "sources.yaml"
    sources.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    campaign = yaml.safe_load((ROOT / "params/campaigns/email_test.yaml").read_text(encoding="utf-8"))
    campaign["path"] = str(raw_dir / Path(campaign["path"]).name)
    campaign_file = root / "email_test.yaml"
    campaign_file.write_text(yaml.safe_dump(campaign, allow_unicode=True), encoding="utf-8")
    con = warehouse.connect(db_path)
    ingest.load_sources(con, sources)
    con.close()
    return {"root": root, "raw_dir": raw_dir, "db_path": db_path, "sources": sources, "campaign_file": campaign_file}


@pytest.fixture(scope="session")
def cleaned_sample(small_sample, tmp_path_factory):
    """The small sample cleaned once (``cleanse.run``, extraction date 2026-10-31): the path of
    its database. A test module that writes to it works on its own copy."""
    import shutil

    from dbmarketing import cleanse, warehouse

    path = tmp_path_factory.mktemp("cleaned_sample") / "crm.duckdb"
    shutil.copy(small_sample["db_path"], path)
    con = warehouse.connect(path)
    cleanse.run(con, "2026-10-31")
    con.close()
    return path


# `make test` runs on every core (pytest-xdist). The tests of a file share its module fixtures
# (a sample, a report run), so a file is one unit of work, run by one worker; the data-shape
# matrix, whose runs share nothing, is one unit per test, spread over all of them. The Spark
# files (test_spark*) are one unit: one worker, one Spark session (``spark_session``).
#
# The units are made here, not by xdist_group marks and ``--dist loadgroup``: xdist 3.8 groups by
# rewriting ``item._nodeid``, which pytest 9.2 no longer reads, so every file's tests were spread
# over both workers, each building the file's module fixtures (a whole report run) again.

# The files that take longest, longest first (their durations in make test, 2026-12-07): a
# worker takes them first, so that the workers finish together on the many short files.
LONGEST_FIRST = ["test_hostile", "test_notebooks", "test_spark", "test_publish",
                 "test_matrix", "test_report", "test_prospects", "test_cli", "test_customers", "test_load_chunks",
                 "test_prospect_data", "test_events", "test_rfm"]


def file_of(nodeid: str) -> str:
    """The test's file by name, the Spark files as one (test_spark)."""
    name = Path(nodeid.split("::")[0]).stem
    return "test_spark" if name.startswith("test_spark") else name


def unit(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, but in the matrix a test of its own."""
    return nodeid if file_of(nodeid) == "test_matrix" else file_of(nodeid)


def rank(nodeid: str) -> int:
    name = file_of(nodeid)
    return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: rank(item.nodeid))  # stable: a file's tests keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class Units(LoadScopeScheduling):
        """xdist's scheduling by scope, with :func:`unit` as the scope."""

        def _split_scope(self, nodeid: str) -> str:
            return unit(nodeid)

    config.option.loadscopereorder = False  # the units in the order collected (longest first), not by size
    return Units(config, log)


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark session (``local[2]``) for the whole test session: starting Spark takes
    5-10 s, so every test file that needs Spark shares this one."""
    from dbmarketing.warehouse import spark as engine

    # Tuned for the tests' few thousand rows, where Spark spends its time planning, not computing:
    # no Java code generated and compiled per query, no re-planning between stages, one partition
    # after a shuffle. None of these changes what a query means, only how Spark runs it; the Spark
    # test files took 204-227 s of CPU with Spark's defaults, 197-199 s so (two runs each, 2026-12-07).
    # The Spark JVM was the largest user of CPU in make test (376 s of the three Spark files' run,
    # measured from /proc; the Python side 59 s): now expressions are evaluated, not compiled into
    # Java classes per query (Spark's own tests run both ways), and the JVM compiles Spark's code
    # with its quick compiler only (C1: the optimizing C2 pays off in long runs, not in a few hundred
    # small queries) and collects garbage in one thread: 376 s -> 314 s (C1) -> 251 s of JVM CPU,
    # 262 s -> 249 s of wall time (one run each, 2026-12-08, nothing else running).
    spark = engine.session("local[2]", warehouse=tmp_path_factory.mktemp("spark-warehouse"),
                           config={"spark.sql.codegen.wholeStage": "false", "spark.sql.adaptive.enabled": "false",
                                   "spark.sql.shuffle.partitions": "1", "spark.sql.codegen.factoryMode": "NO_CODEGEN",
                                   "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"})
    yield spark
    spark.stop()
