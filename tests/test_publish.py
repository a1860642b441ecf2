"""publish: the de-identified copy of the customer database for readers of a lower clearance.

The small cleaned sample is published at clearance 2 once (by the command line, as the data
owner runs it) and the copy is checked against the full database: no personal value left,
the same rows, customers, masters, RFM and CLV, pseudonyms that depend on the key alone, and
the key nowhere in the copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dbmarketing import customers, warehouse, privacy, rfm
from dbmarketing.warehouse import NotEnoughData

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-10-31"
KEY_A = "3f1e9a0c7b5d2e8f4a6c1b9d0e7f3a5c2b8d4e6f1a0c9b7d"   # test keys, written to files outside the project
KEY_B = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"


def cli(*args, env=None):
    """``python -m dbmarketing ...`` with this checkout's library first on the path."""
    environ = {k: v for k, v in os.environ.items() if k != privacy.KEY_ENV}
    environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "lib"), environ.get("PYTHONPATH", "")])
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "dbmarketing", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env=environ)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    a, b = folder / "a.key", folder / "b.key"
    a.write_text(KEY_A + "\n", encoding="utf-8")
    b.write_text(KEY_B + "\n", encoding="utf-8")
    return {"a": a, "b": b}


@pytest.fixture(scope="module")
def full(cleaned_sample):
    return Path(cleaned_sample)


@pytest.fixture(scope="module")
def copy(full, keys, tmp_path_factory):
    """The cleaned sample published at clearance 2 by the command line."""
    out = tmp_path_factory.mktemp("analyst") / "analyst.duckdb"
    run = cli("publish", "--clearance", 2, "--db", full, "--out", out, "--key-file", keys["a"])
    assert run.returncode == 0, run.stderr
    assert "clearance 2" in run.stdout and KEY_A not in run.stdout + run.stderr
    return out


def connect(path):
    return duckdb.connect(str(path), read_only=True)


def tables(con) -> list[tuple[str, str]]:
    return con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database() "
                       "ORDER BY 1, 2").fetchall()


def text_values(con, schema, table):
    """column -> the distinct values of every column of a table, as text."""
    cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                                      "AND schema_name = ? AND table_name = ?", [schema, table]).fetchall()]
    return {c: {v for (v,) in con.execute(f'SELECT DISTINCT CAST("{c}" AS VARCHAR) FROM {schema}."{table}" '
                                          f'WHERE "{c}" IS NOT NULL').fetchall()} for c in cols}


def personal_values(path, clearance=2) -> set[str]:
    """Every distinct value of every column above ``clearance`` in the full database (all schemas,
    the truth schema's planted people included), as text: names, phones, e-mails, ID numbers,
    addresses, full birth dates, rejected raw values and records. A value that the full database
    also holds in a column a reader of ``clearance`` sees (a gender letter, say) is not a secret
    at that clearance and is left out -- only short ones may be."""
    with connect(path) as con:
        tiers = {(s, t, c): p for s, t, c, p in con.execute(
            "SELECT table_schema, table_name, column_name, privacy_tier FROM main.catalog").fetchall()}
        secret, seen = set(), set()
        for s, t in tables(con):
            for c, values in text_values(con, s, t).items():
                (secret if tiers.get((s, t, c), 1) > clearance else seen).update(values)
    shared = secret & seen
    assert all(len(v) <= 2 for v in shared), sorted(shared)[:10]
    return secret - shared


# --------------------------------------------------------------------------------------
# what the copy holds
# --------------------------------------------------------------------------------------


def test_no_personal_value_of_the_full_database_in_the_copy(full, copy):
    """Every table and column of the copy, all schemas, against every distinct value above tier 2
    of the full database: no whole value equal, and no value of 5 characters or more inside any
    text of the copy (a phone, e-mail, ID number, address or date quoted in a sentence)."""
    secret = personal_values(full)
    assert len(secret) > 5000  # the sample's names, phones, e-mails, ID numbers, addresses, birth dates
    long = {v for v in secret if len(v) >= 5}
    lengths = sorted({len(v) for v in long})
    found = []
    with connect(copy) as con:
        for s, t in tables(con):
            for c, values in text_values(con, s, t).items():
                for v in values:
                    if v in secret:
                        found.append((s, t, c, v))
                        continue
                    for n in lengths:
                        if n > len(v):
                            break
                        if any(v[i:i + n] in long for i in range(len(v) - n + 1)):
                            found.append((s, t, c, v))
                            break
    assert not found, found[:10]


def test_columns_above_the_clearance_hold_what_the_rule_says(full, copy):
    with connect(full) as f, connect(copy) as c:
        a = f.execute("SELECT customer_id, name, birth_date, phone, email, address, city, id_number, gender "
                      "FROM main.customers ORDER BY customer_id").df()
        b = c.execute("SELECT customer_id, name, birth_date, phone, email, address, city, id_number, gender "
                      "FROM main.customers ORDER BY customer_id").df()
        held = c.execute("SELECT column_name, treatment FROM main.publication_columns WHERE table_schema = 'main' "
                         "AND table_name = 'customers'").fetchall()
        rejects = c.execute("SELECT DISTINCT raw_value FROM main.rejects WHERE raw_value IS NOT NULL").fetchall()
        assert not c.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'truth'").fetchone()[0]
    assert dict(held) == {"name": "mask", "birth_date": "generalize", "phone": "pseudonym", "email": "pseudonym",
                          "address": "generalize", "id_number": "pseudonym"}
    assert (a.customer_id == b.customer_id).all() and (a.gender.fillna("") == b.gender.fillna("")).all()  # tiers 1, 2
    assert b.name.dropna().tolist() == [privacy.mask_name(n) for n in a.name.dropna()]
    assert b.birth_date.dropna().tolist() == [str(d.year) for d in pd.to_datetime(a.birth_date.dropna())]
    has = a.address.notna()
    assert (b.address[has] == a.city[has].fillna("***")).all() and b.address[~has].isna().all()
    key = KEY_A.encode()
    for col in ("phone", "email", "id_number"):
        known = a[col].notna()
        assert known.any() and (b[col][known] == [privacy.pseudonym(key, v) for v in a[col][known]]).all(), col
        assert b[col][~known].isna().all()
    assert rejects == [("***",)]


def test_same_rows_in_every_table(full, copy):
    with connect(full) as f, connect(copy) as c:
        left = {st: f.execute(f'SELECT count(*) FROM {st[0]}."{st[1]}"').fetchone()[0] for st in tables(f)}
        right = {st: c.execute(f'SELECT count(*) FROM {st[0]}."{st[1]}"').fetchone()[0] for st in tables(c)}
    expected = {st: n for st, n in left.items() if st[0] != "truth"}
    expected[("main", "catalog")] = right[("main", "catalog")]  # truth's catalog rows and the copy's own are not alike
    expected[("main", "catalog_tables")] = right[("main", "catalog_tables")]
    assert {st: n for st, n in right.items() if st[1] not in ("publication", "publication_columns")} == expected
    assert right[("main", "customers")] > 1000 and right[("main", "sales")] > 1000


def test_the_copy_keeps_the_catalog_and_load_history(full, copy):
    with connect(full) as f, connect(copy) as c:
        batches = f.execute("SELECT * FROM main.load_batches ORDER BY batch_id").df()
        pd.testing.assert_frame_equal(c.execute("SELECT * FROM main.load_batches ORDER BY batch_id").df(), batches)
        tiers_full = f.execute("SELECT table_schema, table_name, column_name, privacy_tier FROM main.catalog "
                               "WHERE table_schema <> 'truth' ORDER BY ALL").fetchall()
        tiers_copy = c.execute("SELECT table_schema, table_name, column_name, privacy_tier FROM main.catalog "
                               "WHERE table_name NOT IN ('publication', 'publication_columns') ORDER BY ALL").fetchall()
        assert tiers_copy == tiers_full
        assert c.execute("SELECT data_type FROM main.catalog WHERE table_name = 'customers' AND column_name = "
                         "'birth_date'").fetchall() == [("VARCHAR",), ("VARCHAR",)]  # the year, as text


def test_customers_masters_and_shared_values_counted_alike(full, copy):
    queries = [
        "SELECT count(DISTINCT customer_id) FROM main.customers",
        "SELECT count(*) FROM main.customer_map",
        # customers per master: the de-duplication
        "SELECT n, count(*) FROM (SELECT master_id, count(*) n FROM main.customer_map GROUP BY 1) GROUP BY 1 ORDER BY 1",
        # the same phone, e-mail, ID number held by several records ('same phone' counts)
        *[f"SELECT count(DISTINCT {c}), count({c}), (SELECT count(*) FROM (SELECT {c} FROM main.customer_records "
          f"GROUP BY 1 HAVING count(*) > 1 AND {c} IS NOT NULL)) FROM main.customer_records"
          for c in ("phone", "email", "id_number")],
        "SELECT count(DISTINCT phone), count(DISTINCT email), count(DISTINCT id_number) FROM raw.customers",
        # the do-not-contact list matched by phone or e-mail, as cleaning matched it
        "SELECT count(*) FROM main.suppressions s JOIN main.customers c ON s.phone = c.phone OR s.email = c.email",
        "SELECT matched_by, count(*) FROM main.suppressions GROUP BY 1 ORDER BY 1",
        "SELECT count(*) FROM main.sales s JOIN main.customer_map m USING (customer_id)",
    ]
    with connect(full) as f, connect(copy) as c:
        for q in queries:
            assert c.execute(q).fetchall() == f.execute(q).fetchall(), q
        assert c.execute("SELECT count(*) FROM main.customer_records WHERE phone IS NOT NULL").fetchone()[0] > 1000


def work_copy(path, tmp_path, name):
    """A writable copy (the library's functions may write temporary tables)."""
    target = tmp_path / name
    shutil.copy(path, target)
    return warehouse.connect(target)


def test_rfm_and_clv_are_the_same_on_the_copy(full, copy, tmp_path):
    results = {}
    for name, path in (("full", full), ("copy", copy)):
        con = work_copy(path, tmp_path, f"{name}.duckdb")
        try:
            scores = rfm.compute(con, AS_OF).sort_values("customer_id").reset_index(drop=True)
            summary = rfm.summarize(con, AS_OF, unit="weeks", repeat=True).sort_values("customer_id")
            try:
                fitted = customers.fit_clv(con, AS_OF)
            except NotEnoughData:
                fitted = None
            c360 = customers.customer_360(con, AS_OF).sort_values("customer_id").reset_index(drop=True)
        finally:
            con.close()
        results[name] = scores, summary.reset_index(drop=True), fitted, c360
    (s_full, m_full, clv_full, c_full), (s_copy, m_copy, clv_copy, c_copy) = results["full"], results["copy"]
    assert len(s_full) > 1000
    pd.testing.assert_frame_equal(s_copy, s_full)
    pd.testing.assert_frame_equal(m_copy, m_full)
    assert clv_full is not None, "the small sample fits CLV: compare it"
    pd.testing.assert_frame_equal(clv_copy.params, clv_full.params)
    pd.testing.assert_frame_equal(clv_copy.predictions.sort_values("customer_id").reset_index(drop=True),
                                  clv_full.predictions.sort_values("customer_id").reset_index(drop=True))
    # the customer 360 runs on the copy: the same but for age, from the birth year alone (within a year)
    assert (c_copy.customer_id == c_full.customer_id).all()
    age = c_copy.age.astype("Float64") - c_full.age.astype("Float64")
    assert c_full.age.notna().sum() > 1000 and (c_copy.age.isna() == c_full.age.isna()).all()
    assert age.abs().max() <= 1 and age.abs().mean() < 0.5
    same = [c for c in c_full.columns if c != "age"]
    pd.testing.assert_frame_equal(c_copy[same], c_full[same], check_exact=False, rtol=1e-9)  # sums in another order


# --------------------------------------------------------------------------------------
# the key
# --------------------------------------------------------------------------------------


def test_the_same_key_gives_the_same_pseudonyms_another_key_others(full, copy, keys, tmp_path):
    again = privacy.publish(full, tmp_path / "again.duckdb", 2, key_file=keys["a"])
    other = privacy.publish(full, tmp_path / "other.duckdb", 2, key_file=keys["b"])
    q = "SELECT phone, email, id_number FROM main.customer_records ORDER BY customer_id"
    with connect(copy) as c, connect(again.path) as a, connect(other.path) as o:
        first, second, third = c.execute(q).fetchall(), a.execute(q).fetchall(), o.execute(q).fetchall()
        fingerprints = [x.execute("SELECT key_fingerprint FROM main.publication").fetchone()[0] for x in (c, a, o)]
    assert first == second
    values = lambda rows: {v for row in rows for v in row if v is not None}
    assert len(values(first)) > 1000 and not values(first) & values(third)
    assert fingerprints[0] == fingerprints[1] == again.key_fingerprint != fingerprints[2]
    assert fingerprints[0] == privacy.key_fingerprint(KEY_A.encode()) and len(fingerprints[0]) == 16


def test_the_key_is_nowhere_in_the_copy(copy, keys):
    data = copy.read_bytes()
    for secret in (KEY_A.encode(), keys["a"].read_bytes(), KEY_A.upper().encode(), KEY_A[:16].encode()):
        assert secret not in data
    with connect(copy) as con:
        for s, t in tables(con):
            for c, values in text_values(con, s, t).items():
                assert not any(KEY_A in v or KEY_A[:16] in v for v in values), (s, t, c)
    assert not list(copy.parent.glob(".*partial*")) and not Path(f"{copy}.wal").exists()


def test_the_copy_says_its_clearance(full, copy):
    with connect(full) as f, connect(copy) as c:
        assert privacy.database_clearance(f) == 4 and privacy.clearance_note(f, 4) == ""
        assert privacy.database_clearance(c) == 2
        assert privacy.clearance_note(c, 2) == ""
        assert privacy.clearance_note(c, 4).startswith("You asked for clearance 4 but this database is a copy "
                                                       "published at clearance 2")
        clearance, source, left_out = c.execute("SELECT clearance, source_database, left_out FROM main.publication").fetchone()
    assert (clearance, source) == (2, "crm.duckdb") and left_out.startswith("schema truth")


def test_identifiers_above_the_clearance_become_pseudonyms_that_still_join(full, keys, tmp_path):
    """A catalog that ranks customer numbers private: every column of the customer-number family
    (customer_id, master_id, source_customer_id, ...) is pseudonymized alike, so joins, the
    de-duplication and RFM per customer stay the same."""
    strict = tmp_path / "strict.duckdb"
    shutil.copy(full, strict)
    with duckdb.connect(str(strict)) as con:
        con.execute("UPDATE main.catalog SET privacy_tier = 3 WHERE column_name = 'customer_id' AND table_name = 'sales'")
    result = privacy.publish(strict, tmp_path / "strict_copy.duckdb", 2, key_file=keys["a"])
    family = {c["column_name"] for c in result.columns if c["treatment"] == "pseudonym"}
    assert {"customer_id", "master_id", "source_customer_id", "customer_id_l", "customer_id_r"} <= family
    key = KEY_A.encode()
    with connect(full) as f, connect(result.path) as c:
        for q in ("SELECT n, count(*) FROM (SELECT master_id, count(*) n FROM main.customer_map GROUP BY 1) GROUP BY 1 "
                  "ORDER BY 1",
                  "SELECT count(*), count(DISTINCT customer_id) FROM main.sales JOIN main.customers USING (customer_id)",
                  "SELECT count(*) FROM main.contacts JOIN main.customer_map USING (customer_id)"):
            assert c.execute(q).fetchall() == f.execute(q).fetchall(), q
        ids = f.execute("SELECT customer_id FROM main.customers ORDER BY 1").fetchall()
        assert not set(ids) & set(c.execute("SELECT customer_id FROM main.customers").fetchall())
    con = work_copy(result.path, tmp_path, "strict_work.duckdb")
    try:
        on_copy = rfm.compute(con, AS_OF).set_index("customer_id")
    finally:
        con.close()
    on_full = rfm.compute(connect(full), AS_OF)
    on_full.index = [privacy.pseudonym(key, i) for i in on_full.customer_id]
    on_full = on_full.drop(columns="customer_id")
    pd.testing.assert_frame_equal(on_copy.loc[on_full.index], on_full, check_names=False)


# --------------------------------------------------------------------------------------
# refusals: one line, exit 1, nothing written
# --------------------------------------------------------------------------------------


def one_line_error(run, *words):
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: PublishError: "), run.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert KEY_A not in run.stderr and KEY_B not in run.stderr


def test_refusals_are_one_line(full, keys, tmp_path):
    out = tmp_path / "out" / "analyst.duckdb"
    one_line_error(cli("publish", "--db", full, "--out", out), "no pseudonym key", privacy.KEY_ENV)
    one_line_error(cli("publish", "--db", full, "--out", out, "--key-file", ROOT / "pseudonym.key"),
                   "inside the project folder")
    one_line_error(cli("publish", "--db", full, "--out", full, "--key-file", keys["a"]), "is the database itself")
    one_line_error(cli("publish", "--db", full, "--out", out, "--key-file", tmp_path / "missing.key"), "does not exist")
    short = tmp_path / "keys" / "short.key"
    short.parent.mkdir()
    short.write_text("too-short-a-key\n", encoding="utf-8")
    one_line_error(cli("publish", "--db", full, "--out", out, "--key-file", short), "15 characters", "at least 32")
    one_line_error(cli("publish", "--db", full, "--out", out, env={privacy.KEY_ENV: "short"}),
                   f"environment variable {privacy.KEY_ENV}", "5 characters")
    one_line_error(cli("publish", "--clearance", 4, "--db", full, "--out", out, "--key-file", keys["a"]), "1, 2 or 3")
    # a key file in the output's folder, or anywhere in a project holding the database
    beside = out.parent / "pseudonym.key"
    out.parent.mkdir()
    beside.write_text(KEY_A, encoding="utf-8")
    one_line_error(cli("publish", "--db", full, "--out", out, "--key-file", beside), "the output's folder")
    project = tmp_path / "shop"
    (project / "data").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'shop'\n", encoding="utf-8")
    (project / "secrets").mkdir()
    (project / "secrets" / "pseudonym.key").write_text(KEY_A, encoding="utf-8")
    shutil.copy(full, project / "data" / "crm.duckdb")
    one_line_error(cli("publish", "--db", project / "data" / "crm.duckdb", "--out", out,
                       "--key-file", project / "secrets" / "pseudonym.key"), "inside the project folder")
    assert not out.exists() and not list(out.parent.glob(".*partial*"))


def test_an_existing_copy_is_replaced_only_when_asked(full, copy, keys, tmp_path):
    out = tmp_path / "analyst.duckdb"
    first = cli("publish", "--db", full, "--out", out, env={privacy.KEY_ENV: KEY_B})  # the key from the environment
    assert first.returncode == 0, first.stderr
    one_line_error(cli("publish", "--db", full, "--out", out, "--key-file", keys["a"]), "exists", "--replace")
    with connect(out) as c:
        assert c.execute("SELECT key_fingerprint FROM main.publication").fetchone()[0] == privacy.key_fingerprint(KEY_B.encode())
    # --key-file wins over the environment
    again = cli("publish", "--db", full, "--out", out, "--key-file", keys["a"], "--replace", env={privacy.KEY_ENV: KEY_B})
    assert again.returncode == 0, again.stderr
    with connect(out) as c:
        assert c.execute("SELECT key_fingerprint FROM main.publication").fetchone()[0] == privacy.key_fingerprint(KEY_A.encode())
    one_line_error(cli("publish", "--db", out, "--out", tmp_path / "again.duckdb", "--key-file", keys["a"]),
                   "already a published copy")


def test_a_failed_publication_leaves_the_old_copy_and_nothing_half_written(full, keys, tmp_path, monkeypatch):
    out = tmp_path / "analyst.duckdb"
    privacy.publish(full, out, 2, key_file=keys["a"])
    before = out.read_bytes()

    def broken(column):
        def fn(values, city):
            raise RuntimeError("planted failure")
        return fn

    monkeypatch.setattr(sys.modules["dbmarketing.privacy.analyst_copy"], "_mask_udf", broken)
    with pytest.raises(Exception, match="planted failure"):
        privacy.publish(full, out, 2, key_file=keys["a"], replace=True)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analyst.duckdb"]


def test_an_uncatalogued_column_stops_the_publication(full, keys, tmp_path):
    odd = tmp_path / "odd.duckdb"
    shutil.copy(full, odd)
    with duckdb.connect(str(odd)) as con:
        con.execute("ALTER TABLE main.customers ADD COLUMN nickname VARCHAR")
    with pytest.raises(privacy.PublishError, match="main.customers.nickname: not in main.catalog"):
        privacy.publish(odd, tmp_path / "copy.duckdb", 2, key_file=keys["a"])
    assert not (tmp_path / "copy.duckdb").exists()


def test_the_rule_table_names_each_column_once():
    names = [c for r in privacy.RULES for c in r.columns]
    assert len(names) == len(set(names))
    assert privacy.treatment("phone", "VARCHAR")[0] == "pseudonym"
    assert privacy.treatment("birth_date", "DATE")[0] == "generalize"
    assert privacy.treatment("raw_record", "VARCHAR")[0] == "other text"
    assert privacy.treatment("unit_cost", "DOUBLE")[0] == "other"
    assert len(privacy.pseudonym(b"k" * 32, "13812345678")) == privacy.PSEUDONYM_HEX
    assert privacy.pseudonym(b"k" * 32, None) is None


def test_a_report_on_the_copy_runs_the_chapters_that_apply_with_the_full_databases_figures(full, copy, tmp_path):
    """The report runner on the analyst copy leaves out loading and cleaning (01, 02) and says
    why; 03-08 run on it, and 03 and 04 at clearance 2 give the counts, RFM segments and CLV the full
    database gives."""
    import json

    import yaml

    from dbmarketing import reports

    only_marts = tmp_path / "notebooks"  # the full database's run of the chapters that write the figures compared
    only_marts.mkdir()
    for nb in sorted((ROOT / "notebooks").glob("0[34]_*.ipynb")):
        shutil.copy(nb, only_marts / nb.name)
    figures = {}
    for name, path, notebooks in (("full", full, only_marts), ("copy", copy, ROOT / "notebooks")):
        target = tmp_path / f"{name}.duckdb"
        shutil.copy(path, target)
        params = tmp_path / f"{name}.yaml"
        params.write_text(yaml.safe_dump({"db_path": str(target), "as_of": AS_OF, "clearance": 2,
                                          **({"campaign_file": ""} if name == "copy" else {})}), encoding="utf-8")
        out = reports.run_reports(params, name, notebooks_dir=notebooks, reports_dir=tmp_path / "reports",
                                 progress=False)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        chapters = ["03_customer_model", "04_rfm_scoring"]
        assert [e["name"] for e in manifest["notebooks"]] == chapters + (
            ["05_campaign_response", "06_event_triggers", "07_baskets", "08_prospects"] if name == "copy" else [])
        figures[name] = {"left out": [e["name"] for e in manifest["notebooks_left_out"]]}
        with duckdb.connect(str(target), read_only=True) as con:
            for label, sql in (
                    ("model", "SELECT customer_type, lifecycle_stage, value_tier, count(*), round(sum(clv), 2) "
                              "FROM main.customer_model GROUP BY ALL ORDER BY ALL"),
                    ("rfm", "SELECT as_of, segment, count(*), round(sum(monetary), 2) FROM main.rfm_scores "
                            "GROUP BY ALL ORDER BY ALL")):
                figures[name][label] = con.execute(sql).fetchall()
    assert figures["copy"]["left out"] == ["01_data_collection", "02_data_cleaning"]
    index = (tmp_path / "reports" / "copy" / "index.html").read_text(encoding="utf-8")
    assert "analyst copy published at clearance 2" in index
    assert figures["copy"]["model"] == figures["full"]["model"] and figures["full"]["model"]
    assert figures["copy"]["rfm"] == figures["full"]["rfm"] and figures["full"]["rfm"]
    # a reader asking the copy for more than it holds is told so
    with duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True) as con:
        assert privacy.clearance_note(con, 4).startswith("You asked for clearance 4 but this database is a copy")
        assert privacy.clearance_note(con, 2) == ""
