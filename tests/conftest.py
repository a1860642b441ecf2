"""Shared fixtures: one small sample database built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
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


def pytest_collection_modifyitems(config, items):
    """`make test` runs on every core (pytest-xdist, ``--dist loadgroup``): the tests of a file
    share its module fixtures (a sample, a report run), so a file runs on one worker; the
    data-shape matrix, whose runs share nothing, is spread over all of them. The Spark files
    (test_spark*) are one group: one worker, one Spark session (``spark_session``)."""
    for item in items:
        name = item.module.__name__
        if name != "test_matrix":
            item.add_marker(pytest.mark.xdist_group("spark" if name.startswith("test_spark") else name))


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory):
    """One local Spark session (``local[2]``) for the whole test session: starting Spark takes
    5-10 s, so every test file that needs Spark shares this one."""
    from dbmarketing.warehouse import spark as engine

    spark = engine.session("local[2]", warehouse=tmp_path_factory.mktemp("spark-warehouse"))
    yield spark
    spark.stop()
