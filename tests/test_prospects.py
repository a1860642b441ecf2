"""Chapter 08, prospects and acquisition (dbmarketing.prospects).

Hand-computed small cases (the profile's index and its test; the expected-value ranking and the
exclusion counts), a second library's answer (scipy's chi-square for the z test), planted truths
(a toy where only income decides, which the look-alike cannot see; a prospect list planted on
the small sample with a known propensity), the export's masks at clearance 2, and the sections
on a database with customers and orders but no prospect tables.

The planted list follows the contract of main.prospect_list and main.acquisition_contacts
(/work/briefs/prospdata.md) column by column, so it also checks the shapes the chapter reads.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dbmarketing import prospects, warehouse
from dbmarketing.present import words

AS_OF = "2026-10-31"
AGE_BANDS = ["under 25", "25-34", "35-44", "45-54", "55-64", "65+"]
INCOME = ["under 5k", "5k-10k", "10k-20k", "20k+"]

LIST_COLUMNS = {  # the contract's main.prospect_list
    "list_id": "VARCHAR", "list_name": "VARCHAR", "name": "VARCHAR", "phone": "VARCHAR", "email": "VARCHAR",
    "province": "VARCHAR", "city": "VARCHAR", "age_band": "VARCHAR", "gender": "VARCHAR", "income_band": "VARCHAR",
    "channel": "VARCHAR", "consent_mail": "BOOLEAN", "consent_sms": "BOOLEAN", "consent_email": "BOOLEAN",
    "consent_phone": "BOOLEAN", "acquired_date": "DATE", "do_not_contact": "BOOLEAN", "customer_id": "VARCHAR",
    "matched_by": "VARCHAR"}
CONTACT_COLUMNS = {  # the contract's main.acquisition_contacts
    "campaign_id": "VARCHAR", "list_id": "VARCHAR", "cell": "VARCHAR", "contact_date": "DATE", "channel": "VARCHAR",
    "cost_per_contact": "DOUBLE", "response_window_days": "INTEGER", "responded": "BOOLEAN",
    "first_order_amount": "DOUBLE"}


def _logistic(x):
    return 1 / (1 + np.exp(-x))


def plant_list(con, n: int = 3000, seed: int = 1) -> pd.DataFrame:
    """A prospect list with the contract's columns on a cleaned database: 10% of its rows are
    customers (their phone), the rest new people; a planted propensity on city tier, age band
    (the attributes customers have too) and income band; an acquisition test ACQ01 on 2,000 of
    the new rows (80% test), responses drawn from the propensity (control: a quarter of it)."""
    rng = np.random.default_rng(seed)
    customers = con.execute("SELECT customer_id, phone FROM main.customers WHERE phone IS NOT NULL").df()
    cities = con.execute("SELECT city, province, city_tier FROM main.cities").df()
    k = n // 10
    known = customers.sample(k, random_state=seed)
    city = cities.iloc[rng.integers(0, len(cities), n)].reset_index(drop=True)
    rows = pd.DataFrame({
        "list_id": [f"L{i:06d}" for i in range(n)], "list_name": "租用名单甲",
        "name": [f"Person {i}" for i in range(n)],
        "phone": [f"139{i:08d}" for i in range(n)], "email": [f"p{i}@example.com" for i in range(n)],
        "province": city.province, "city": city.city, "age_band": rng.choice(AGE_BANDS, n),
        "gender": rng.choice(["F", "M"], n), "income_band": rng.choice(INCOME, n),
        "channel": rng.choice(["sms", "email", "direct_mail"], n, p=[0.6, 0.3, 0.1]),
        "consent_mail": rng.random(n) < 0.8, "consent_sms": rng.random(n) < 0.85, "consent_email": rng.random(n) < 0.8,
        "consent_phone": rng.random(n) < 0.5, "acquired_date": pd.Timestamp("2026-01-15"),
        "do_not_contact": rng.random(n) < 0.02, "customer_id": None, "matched_by": None})
    rows.loc[: k - 1, "phone"] = known.phone.to_numpy()
    rows.loc[: k - 1, "customer_id"] = known.customer_id.to_numpy()
    rows.loc[: k - 1, "matched_by"] = "phone"
    tier = city.city_tier.to_numpy()
    x = (-3.2 + 0.5 * (tier <= 2) + 0.5 * np.isin(rows.age_band, ["35-44", "45-54"])
         + 0.9 * (rows.income_band == "20k+") + 0.45 * (rows.income_band == "10k-20k"))
    truth = pd.DataFrame({"list_id": rows.list_id, "propensity": _logistic(x), "baseline": _logistic(x) / 4,
                          "already_customer": rows.customer_id.notna()})
    new = rows.index[k:]
    mailed = rng.choice(new, 2000, replace=False)
    cell = np.where(rng.random(len(mailed)) < 0.8, "test", "control")
    p = truth.loc[mailed, "propensity"].to_numpy()
    p = np.where(cell == "test", p, p / 4)
    responded = rng.random(len(mailed)) < p
    contacts = pd.DataFrame({
        "campaign_id": "ACQ01", "list_id": rows.loc[mailed, "list_id"].to_numpy(), "cell": cell,
        "contact_date": pd.Timestamp("2026-05-20"), "channel": "direct_mail", "cost_per_contact": 2.5,
        "response_window_days": 60, "responded": responded,
        "first_order_amount": np.where(responded, rng.gamma(2.0, 150.0, len(mailed)), np.nan)})
    for name, frame, columns in (("main.prospect_list", rows, LIST_COLUMNS),
                                 ("main.acquisition_contacts", contacts, CONTACT_COLUMNS)):
        con.register("_frame", frame)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT "
                    + ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns.items()) + " FROM _frame")
        con.unregister("_frame")
    con.execute("CREATE SCHEMA IF NOT EXISTS truth")
    con.register("_truth", truth)
    con.execute("CREATE OR REPLACE TABLE truth.prospect_propensity AS SELECT * FROM _truth")
    con.unregister("_truth")
    return truth


@pytest.fixture(scope="module")
def planted_db(cleaned_sample, tmp_path_factory):
    """The small sample with the list of :func:`plant_list` in place of the sample's own."""
    path = tmp_path_factory.mktemp("prospects") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    plant_list(con)
    con.close()
    return path


@pytest.fixture(scope="module")
def without_prospects(cleaned_sample, tmp_path_factory):
    """The small sample (customers, orders, campaigns) without a prospect list, an acquisition
    test or their truth."""
    path = tmp_path_factory.mktemp("no_prospects") / "crm.duckdb"
    shutil.copy(cleaned_sample, path)
    con = warehouse.connect(path)
    for table in ("main.acquisition_contacts", "main.prospect_list", "truth.prospect_propensity"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.close()
    return path


def run_chapter(db_path, folder, lang="en", clearance=2):
    """Run notebook 08 (its ``lang`` edition) on ``db_path``; return (the executed notebook, the
    sections it skipped)."""
    import nbformat
    import papermill

    from dbmarketing.present import words

    root = Path(__file__).resolve().parents[1]
    source = root / "notebooks" / ("" if lang == "en" else lang) / "08_prospects.ipynb"
    out = Path(folder) / f"08_{lang}.ipynb"
    papermill.execute_notebook(str(source), str(out), cwd=str(root), progress_bar=False, log_output=False,
                               parameters={"db_path": str(db_path), "as_of": AS_OF, "clearance": clearance,
                                           "export_dir": str(Path(folder) / "exports"), "value_years": 2})
    words.set_lang("en")
    nb = nbformat.read(out, as_version=4)
    skipped = [o["metadata"][warehouse.SKIPPED_KEY]["skipped"] for c in nb.cells for o in c.get("outputs", [])
               if warehouse.SKIPPED_KEY in o.get("metadata", {})]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
              or (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    assert not errors, errors
    return nb, skipped


# ---------------------------------------------------------------------------- the profile

def test_profile_index_and_test_by_hand():
    """10 customers, 4 best; 3 of the best and 5 of all are women: share 75% against 50%,
    index 150; the z test of 3/4 (best) against 2/6 (rest): pooled 0.5, se = sqrt(.25 (1/4 + 1/6)),
    z = (0.75 - 1/3) / se = 1.2910, p = 0.1967 -- and scipy's chi-square of the 2x2 table agrees."""
    from scipy.stats import chi2_contingency

    base = pd.DataFrame({"gender": list("FFFMFFMMMM"), "age_band": ["25-34"] * 10})
    best = pd.Series([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    prof = prospects.best_profile(base, best, attributes=("gender", "age_band"))
    f = prof[(prof.attribute == "gender") & (prof.level == "F")].iloc[0]
    assert (f.best_customers, f.customers) == (3, 5)
    assert f.share_best == pytest.approx(0.75) and f.share_all == pytest.approx(0.5)
    assert f["index"] == pytest.approx(150.0)
    se = math.sqrt(0.25 * (1 / 4 + 1 / 6))
    assert f.z == pytest.approx((0.75 - 1 / 3) / se, rel=1e-9)
    assert f.z == pytest.approx(1.2910, abs=1e-4)
    chi2, p, _, _ = chi2_contingency([[3, 1], [2, 4]], correction=False)
    assert f.p_value == pytest.approx(p, rel=1e-9) and f.z ** 2 == pytest.approx(chi2, rel=1e-9)
    assert f.p_value == pytest.approx(0.1967, abs=1e-4) and not f.significant
    # Holm over the two values tested (F and M, the same p): both p x 2
    assert f.p_holm == pytest.approx(2 * p) and prof.p_holm.notna().sum() == 2
    m = prof[(prof.attribute == "gender") & (prof.level == "M")].iloc[0]
    assert m["index"] == pytest.approx(100 * 0.25 / 0.5)
    one = prof[prof.attribute == "age_band"].iloc[0]  # everybody has it: index 100, nothing to test
    assert one["index"] == pytest.approx(100.0) and math.isnan(one.p_value) and math.isnan(one.p_holm)


def test_the_profile_adjusts_for_testing_many_values():
    """Holm's adjustment by hand on p 0.01, 0.02, 0.04: sorted, times 3, 2, 1, kept rising: 0.03,
    0.04, 0.04 (statsmodels agrees); on a planted profile the adjusted p-values are statsmodels',
    ``significant`` reads them, and the planted value stays significant."""
    from statsmodels.stats.multitest import multipletests

    assert list(multipletests([0.01, 0.02, 0.04], method="holm")[1]) == pytest.approx([0.03, 0.04, 0.04])
    rng = np.random.default_rng(11)
    n = 4000
    base = pd.DataFrame({"age_band": rng.choice(AGE_BANDS, n), "gender": rng.choice(["F", "M"], n)})
    best = pd.Series(rng.random(n) < np.where(base.age_band == "under 25", 0.4, 0.2))
    prof = prospects.best_profile(base, best, attributes=("age_band", "gender"))
    tested = prof.dropna(subset=["p_value"])
    assert list(tested.p_holm) == pytest.approx(list(multipletests(tested.p_value, method="holm")[1]))
    assert (prof.significant == (prof.p_holm < 0.05)).all()
    assert prof.set_index(["attribute", "level"]).loc[("age_band", "under 25"), "significant"]


# ---------------------------------------------------------------------------- the look-alike

def _income_toy(n=6000, seed=3):
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"age_band": rng.choice(AGE_BANDS, n), "gender": rng.choice(["F", "M"], n),
                         "city_tier": rng.integers(1, 6, n), "income_band": rng.choice(INCOME, n)})
    best = (base.income_band == "20k+") & (rng.random(n) < 0.9) | (rng.random(n) < 0.05)
    return base, best


def test_lookalike_uses_only_the_shared_attributes():
    """Where income alone decides who is best, the look-alike (which may not read income: the
    customers' side has none) ranks no better than chance, and the same model given income does."""
    base, best = _income_toy()
    look = prospects.lookalike(base, best)
    assert set(look.attributes) == set(prospects.SHARED_ATTRIBUTES)
    assert "income_band" not in set(look.coefficients.attribute)
    assert abs(look.auc - 0.5) < 0.05
    with_income = prospects.fit_attribute_model(base, best, (*prospects.SHARED_ATTRIBUTES, "income_band"))
    assert with_income.auc > 0.85


def test_lookalike_finds_a_planted_attribute():
    rng = np.random.default_rng(5)
    n = 5000
    base = pd.DataFrame({"age_band": rng.choice(AGE_BANDS, n), "gender": rng.choice(["F", "M"], n),
                         "city_tier": rng.integers(1, 6, n)})
    best = rng.random(n) < np.where(base.city_tier == 1, 0.5, 0.1)
    look = prospects.lookalike(base, best)
    assert look.auc > 0.65
    coef = look.coefficients.set_index(["attribute", "level"]).coefficient
    assert coef[("city_tier", "1")] == coef[coef.index.get_level_values(0) == "city_tier"].max()


def test_of_more_rows_than_it_fits_on_the_model_learns_from_a_seeded_sample_and_says_so():
    """With income deciding who is best (planted), a model allowed 2,000 of 6,000 customers
    learns from 2,000 drawn with its seed (the same on a second fit), still finds income, and
    the overview says it learned from a sample of them; at the default it uses every row."""
    from dbmarketing.present.narration import prospects as story

    base, best = _income_toy()
    attributes = (*prospects.SHARED_ATTRIBUTES, "income_band")
    whole = prospects.fit_attribute_model(base, best, attributes)
    drawn = prospects.fit_attribute_model(base, best, attributes, fit_rows=2000)
    again = prospects.fit_attribute_model(base, best, attributes, fit_rows=2000)
    assert (whole.rows, len(whole.train_index) + len(whole.holdout)) == (6000, 6000)
    assert drawn.rows == 6000 and len(drawn.train_index) + len(drawn.holdout) == 2000
    assert drawn.train_index.equals(again.train_index) and set(drawn.train_index) <= set(base.index)
    assert drawn.auc > 0.85
    top = drawn.coefficients.set_index(["attribute", "level"]).coefficient
    assert top.idxmax() == ("income_band", "20k+")
    words.set_lang("en")
    assert "a random 2,000 of the 6,000 customers" in story.lookalike_overview(drawn)
    assert "random" not in story.lookalike_overview(whole)


def test_too_few_to_learn_is_not_enough_data():
    base = pd.DataFrame({"age_band": ["25-34"] * 50, "gender": ["F"] * 50, "city_tier": [1] * 50})
    with pytest.raises(warehouse.NotEnoughData):
        prospects.lookalike(base, pd.Series([True] * 5 + [False] * 45))


# ---------------------------------------------------------------------------- the list

def _scored():
    """Eight prospects by hand. Cost 1; expected value = p x value - 1:
    a 0.10 x 100 - 1 = 9 (list, sms)        b 0.05 x 100 - 1 = 4 (registered)
    c 0.20 x 100 - 1 = 19 but already a customer      d 0.30 x 100 - 1 = 29 but the list's channel is e-mail
    e 0.02 x 100 - 1 = 1 (registered)       f 0.01 x 50 - 1 = -0.5: no value
    g 0.50 x 100 - 1 = 49 but no SMS consent           h 0.40 x 100 - 1 = 39 but do-not-contact"""
    ids = list("abcdefgh")
    frame = pd.DataFrame({
        "prospect_id": ids, "origin": ["list", "registered", "list", "list", "registered", "registered", "list", "list"],
        "customer_id": [None, "b", "C1", None, "e", "f", None, None], "list_id": ["a", None, "c", "d", None, None, "g", "h"],
        "name": [f"Li {x}" for x in ids], "phone": ["13912345678"] * 8, "email": [f"{x}@example.com" for x in ids],
        "address": None, "city": "上海", "age_band": "25-34", "gender": "F", "income_band": None,
        "channel": ["sms", None, "sms", "email", None, None, "sms", "sms"],
        "consent_sms": [True, True, True, True, True, True, False, True],
        "do_not_contact": [False] * 7 + [True], "already_customer": [False, False, True] + [False] * 5})
    for c in ("consent_mail", "consent_email", "consent_phone"):
        frame[c] = True
    frame["p_first_purchase"] = [0.10, 0.05, 0.20, 0.30, 0.02, 0.01, 0.50, 0.40]
    frame["first_year_value"] = [100, 100, 100, 100, 100, 50, 100, 100]
    frame["expected_value"] = frame.p_first_purchase * frame.first_year_value - 1.0
    return frame


def test_expected_value_ranking_and_exclusions_by_hand(tmp_path):
    from dbmarketing.present import words

    con = warehouse.connect(tmp_path / "tiny.duckdb")
    words.set_lang("en")
    made = prospects.acquisition_list(con, _scored(), "sms", size=2, control_share=0.5, seed=1)
    assert list(made.listed.prospect_id) == ["a", "b"]  # 9 > 4; e (1) is beyond the size of 2
    assert list(made.listed["rank"]) == [1, 2]
    assert sorted(made.listed.cell) == ["control", "test"]
    counts = made.excluded.prospects.tolist()
    # total, already customer, answered before, list channel, no consent, no contact point, do not contact,
    # no positive value, beyond the size, listed
    assert counts == [8, 1, 0, 1, 1, 0, 1, 1, 1, 2]
    assert counts[0] == sum(counts[1:])
    assert set(made.eligible.prospect_id) == {"a", "b", "e", "f"}
    assert made.prospects == 7  # c is a customer
    answered = prospects.acquisition_list(con, _scored(), "sms", answered={"a"})
    assert list(answered.listed.prospect_id) == ["b", "e"] and answered.excluded.prospects.tolist()[2] == 1
    con.close()


def test_expected_value_is_probability_times_value_less_cost():
    pool = _scored().drop(columns=["p_first_purchase", "first_year_value", "expected_value"])
    value = prospects.FirstYearValue(("age_band",), pd.DataFrame({"age_band": ["25-34"], "new_customers": [10],
                                                                   "mean_value": [80.0], "value": [80.0]}),
                                     overall=60.0, measure="margin", shrink=30, new_customers=10)
    out = prospects.expected_values(pool, np.full(len(pool), 0.1), value, 2.0)
    assert out.expected_value.tolist() == pytest.approx([0.1 * 80 - 2.0] * len(pool))
    other = pool.assign(age_band="65+")  # a cell without new customers takes the overall mean
    assert prospects.expected_values(other, np.full(len(pool), 0.1), value, 2.0).first_year_value.tolist() == [60.0] * 8


def test_export_masks_personal_data_at_clearance_2(tmp_path):
    con = warehouse.connect(tmp_path / "tiny.duckdb")
    made = prospects.acquisition_list(con, _scored(), "sms")
    path = prospects.export_acquisition_list(con, made.listed, tmp_path / "list_clearance2.csv", 2, about="test list")
    shown = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    assert len(shown) == len(made.listed) == 3
    assert set(shown.phone) == {"139****5678"}
    assert all(n.startswith("L") and "*" in n for n in shown.name)
    assert all(e.endswith("***@example.com") for e in shown.email)
    full = pd.read_csv(prospects.export_acquisition_list(con, made.listed, tmp_path / "list_clearance3.csv", 3),
                       dtype=str, encoding="utf-8-sig")
    assert set(full.phone) == {"13912345678"}
    con.close()


# ---------------------------------------------------------------------------- the small sample

def test_sections_skip_without_prospect_tables(without_prospects, tmp_path):
    """A database with customers and orders but no list and no acquisition test: the list's and
    the test's sections say what to load; the registered non-buyers are still prospects."""
    con = warehouse.connect(without_prospects, read_only=True)
    try:
        assert warehouse.missing(con, "prospect list") == ["prospect list"]
        assert warehouse.missing(con, "acquisition test") == ["prospect list", "acquisition test"]
        assert warehouse.missing(con, "lookalike") == [] and warehouse.missing(con, "acquisition list") == []
        assert not prospects.has_list(con) and not prospects.has_acquisition(con)
        pool = prospects.prospects(con, AS_OF)
        registered = con.execute("SELECT count(*) FROM main.customers c WHERE customer_type = 'consumer' AND NOT EXISTS "
                                 "(SELECT 1 FROM main.sales s WHERE s.customer_id = c.customer_id AND s.order_date <= ?)",
                                 [AS_OF]).fetchone()[0]
        assert len(pool) == registered > 0 and set(pool.origin) == {"registered"}
        assert prospects.planted(con) is None
    finally:
        con.close()


def test_the_planted_list_end_to_end(planted_db, tmp_path):
    from dbmarketing import campaigns

    con = warehouse.connect(planted_db, read_only=True)
    try:
        assert warehouse.missing(con, "acquisition test") == []
        snap = campaigns.snapshot(con, AS_OF)
        pool = prospects.prospects(con, AS_OF, snap=snap)
        listed = pool[pool.origin == "list"]
        assert len(listed) == 3000 and int(listed.already_customer.sum()) == 300
        assert listed.city_tier.notna().all()
        base = prospects.customer_base(snap)
        best = prospects.best_flag(base)
        assert best.mean() == pytest.approx(0.2 * len(base) / len(base), abs=0.03)
        look = prospects.lookalike(base, best)
        results = prospects.acquisition_results(con, pool, AS_OF)
        assert len(results) == 2000 and set(results.cell) == {"test", "control"}
        lift = prospects.acquisition_lift(results)
        t, c = results[results.cell == "test"], results[results.cell == "control"]
        assert lift["test_rate"] == pytest.approx(t.responded.mean()) and lift["control_rate"] == pytest.approx(c.responded.mean())
        models = prospects.acquisition_models(results, look)
        assert len(models.holdout) == round(0.3 * len(t)) and set(models.auc) == {"response", "lookalike"}
        assert models.auc["response"] > 0.6  # income and tier were planted; the model sees both
        rules = prospects.acquisition_rules(results, min_support=0.02)
        top = rules.iloc[0]
        assert top.lift > 1 and top.response_rate == pytest.approx(top.responders / top.contacts)
        # the response model against the truth ranks better than the look-alike, which cannot see income
        truth = prospects.planted(con)
        new = pool[(pool.origin == "list") & ~pool.already_customer.astype(bool)]
        scores = pd.DataFrame({"list_id": new.list_id, "response": models.response.score(new),
                               "lookalike": look.score(new)})
        compared = prospects.against_truth(scores, truth, ["response", "lookalike"]).set_index("model")
        assert compared.loc["response", "spearman"] > 0.5
        assert compared.loc["response", "spearman"] > compared.loc["lookalike", "spearman"]
        assert compared.loc["response", "gain_top_30"] <= compared.loc["response", "perfect_top_30"] + 1e-12
        # the list chosen by expected value beats a random selection of the same size on the planted truth
        value = prospects.first_year_value(con, AS_OF, base, years=2)
        assert value.new_customers > 50 and value.table.value.between(value.table.mean_value.clip(upper=value.overall),
                                                                      value.table.mean_value.clip(lower=value.overall)).all()
        p, basis = prospects.purchase_probability(pool, look, models.response)
        assert set(basis[pool.origin.to_numpy() == "list"]) == {"response model"}
        scored = prospects.expected_values(pool, p, value, 0.5)
        answered = set(results.loc[results.responded == 1, "list_id"])
        made = prospects.acquisition_list(con, scored, "sms", size=500, answered=answered)
        assert not made.listed.prospect_id.isin(answered).any()
        assert not made.listed.already_customer.astype(bool).any()
        assert made.excluded.prospects.iloc[0] == len(pool) == made.excluded.prospects.iloc[1:].sum()
        against = prospects.list_against_random(made.listed, made.eligible, truth)
        assert against["factor"] > 1.2
    finally:
        con.close()


def test_the_chapter_runs_and_skips_what_the_database_lacks(without_prospects, tmp_path):
    from dbmarketing.present import words

    _, skipped = run_chapter(without_prospects, tmp_path)
    assert skipped == [words.text("needs.title_prospect_list"), words.text("needs.title_acquisition_test")]
    written = sorted(p.name for p in (tmp_path / "exports").glob("acquisition_*"))
    assert written == ["acquisition_sms_2026-10-31_clearance2.csv", "acquisition_sms_2026-10-31_clearance2.xlsx"]


def test_the_chapter_on_a_planted_list_masks_its_export(planted_db, tmp_path):
    nb, skipped = run_chapter(planted_db, tmp_path, clearance=2)
    assert skipped == []
    listed = pd.read_csv(tmp_path / "exports" / "acquisition_sms_2026-10-31_clearance2.csv", dtype=str,
                         encoding="utf-8-sig")
    assert len(listed) > 0 and listed.phone.str.contains(r"\*\*\*\*", regex=True).all()
    assert not listed.phone.str.fullmatch(r"1\d{10}").any()
    shown = "".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))
    con = warehouse.connect(planted_db, read_only=True)
    phones = [r[0] for r in con.execute("SELECT phone FROM main.prospect_list WHERE customer_id IS NULL").fetchall()]
    con.close()
    assert not any(p in shown for p in phones)  # no list phone in clear in the report at clearance 2


def test_the_sample_s_own_list_and_test(cleaned_sample):
    """The tables the sample's list and acquisition test are loaded and cleaned into (branch
    prospdata) read as the chapter expects: every list row a prospect or counted as a customer,
    every closed contact with its row's attributes, and a list chosen by expected value worth more
    than a random one by the planted propensity."""
    from dbmarketing import campaigns

    con = warehouse.connect(cleaned_sample, read_only=True)
    try:
        if not prospects.has_acquisition(con):
            pytest.skip("this sample has no prospect list or acquisition test")
        rows, matched = con.execute("SELECT count(*), count(customer_id) FROM main.prospect_list "
                                    "WHERE acquired_date IS NULL OR acquired_date <= ?", [AS_OF]).fetchone()
        snap = campaigns.snapshot(con, AS_OF)
        pool = prospects.prospects(con, AS_OF, snap=snap)
        listed = pool[pool.origin == "list"]
        assert len(listed) == rows and int(listed.already_customer.sum()) == matched
        assert listed.age_band.dropna().isin(AGE_BANDS).all()
        results = prospects.acquisition_results(con, pool, AS_OF)
        assert len(results) == con.execute("SELECT count(*) FROM main.acquisition_contacts").fetchone()[0]
        assert results.income_band.notna().mean() > 0.9
        base = prospects.customer_base(snap)
        best = prospects.best_flag(base)
        look = prospects.lookalike(base, best)
        models = prospects.acquisition_models(results, look)
        value = prospects.first_year_value(con, AS_OF, base, years=2)
        p, _ = prospects.purchase_probability(pool, look, models.response)
        scored = prospects.expected_values(pool, p, value, prospects.contact_cost(con, "sms"))
        made = prospects.acquisition_list(con, scored, "sms", size=len(listed) // 5,
                                          answered=set(results.loc[results.responded == 1, "list_id"]))
        against = prospects.list_against_random(made.listed, made.eligible, prospects.planted(con))
        assert against["list_rows"] > 0 and against["factor"] > 1.0
    finally:
        con.close()


# ---------------------------------------------------------------------------- against the truth, by hand

def test_against_truth_by_hand():
    """Ten list rows with propensities 0.01 ... 0.10: the perfect score has rank correlation 1 and
    recovers all of the achievable gain, its reverse -1 and less than nothing; a score of ties
    ranks no better than chance."""
    truth = pd.DataFrame({"list_id": [f"L{i}" for i in range(10)], "propensity": np.arange(1, 11) / 100})
    scores = pd.DataFrame({"list_id": truth.list_id, "perfect": truth.propensity, "reverse": -truth.propensity})
    out = prospects.against_truth(scores, truth, ["perfect", "reverse"]).set_index("model")
    assert out.loc["perfect", "spearman"] == pytest.approx(1.0) and out.loc["reverse", "spearman"] == pytest.approx(-1.0)
    # the top 30% (3 rows) of the perfect order hold (0.10 + 0.09 + 0.08) / 0.55 of the expected responders
    assert out.loc["perfect", "gain_top_30"] == pytest.approx(0.27 / 0.55)
    assert out.loc["perfect", "perfect_top_30"] == pytest.approx(0.27 / 0.55)
    assert out.loc["perfect", "recovered"] == pytest.approx(1.0)
    assert out.loc["reverse", "gain_top_30"] == pytest.approx(0.06 / 0.55)
    assert out.loc["reverse", "recovered"] == pytest.approx((0.06 / 0.55 - 0.3) / (0.27 / 0.55 - 0.3))


def test_list_against_random_by_hand():
    """Eligible list rows with propensities 0.1, 0.2, 0.3, 0.4 (mean 0.25) and a registered
    prospect (no truth); the list holds the rows of 0.4 and 0.3 and the registered one: 0.7
    expected first purchases against 2 x 0.25 = 0.5 for a random pair, a factor of 1.4."""
    truth = pd.DataFrame({"list_id": ["a", "b", "c", "d"], "propensity": [0.1, 0.2, 0.3, 0.4]})
    eligible = pd.DataFrame({"origin": ["list"] * 4 + ["registered"], "list_id": ["a", "b", "c", "d", None]})
    listed = eligible.iloc[[3, 2, 4]]
    out = prospects.list_against_random(listed, eligible, truth)
    assert out == pytest.approx({"list_rows": 2, "eligible_rows": 4, "expected": 0.7, "random": 0.5, "factor": 1.4})


def test_the_sentences_read_their_figures():
    from dbmarketing.present import words
    from dbmarketing.present.narration import prospects as story

    words.set_lang("en")
    pool = pd.DataFrame({"origin": ["registered"] * 3 + ["list"] * 4, "already_customer": [False] * 6 + [True]})
    pool.attrs["as_of"] = "2026-10-31"
    assert story.pool_overview(pool) == words.text("prospects.pool_overview", registered=3, as_of="2026-10-31",
                                                   list_rows=4, already=1, already_share=0.25, list_new=3, total=6)
    assert "3 registered" in story.pool_overview(pool) and "In all, 6 prospects" in story.pool_overview(pool)
    profile = pd.DataFrame({"attribute": ["gender", "age_band"], "level": ["F", "65+"], "share_best": [0.6, 0.02],
                            "share_all": [0.5, 0.04], "index": [120.0, 50.0], "significant": [True, True]})
    assert "index 50" in story.best_overview(profile, 10, 100)  # the value furthest from 100
    weak = story.lookalike_overview(prospects.AttributeModel(("gender",), None, 0.52, pd.DataFrame(index=range(3)),
                                                             pd.DataFrame(), 0.2, pd.Index(range(7))))
    assert words.text("prospects.lookalike_weak") in weak and "7 customers" in weak and "0.52" in weak
    strong = story.lookalike_overview(prospects.AttributeModel(("gender",), None, 0.7, pd.DataFrame(index=range(3)),
                                                               pd.DataFrame(), 0.2, pd.Index(range(7))))
    assert words.text("prospects.lookalike_weak") not in strong


def test_expected_gain_shares_ties_at_the_cut():
    """Four rows, propensities 0.4, 0.3, 0.2, 0.1 (total 1), scores 2, 1, 1, 0: the top 50% take
    the first row and half of the two tied at the cut: 0.4 + (0.3 + 0.2) / 2 = 0.65."""
    assert prospects.expected_gain([0.4, 0.3, 0.2, 0.1], [2, 1, 1, 0], 0.5) == pytest.approx(0.65)
    assert prospects.expected_gain([0.4, 0.3, 0.2, 0.1], [5, 5, 5, 5], 0.25) == pytest.approx(0.25)  # all tied: random
    assert prospects.expected_gain([0.4, 0.3, 0.2, 0.1], [4, 3, 2, 1], 0.25) == pytest.approx(0.4)


@pytest.fixture(scope="module")
def list_without_test(planted_db, tmp_path_factory):
    """The planted list without its acquisition test (a list rented, never mailed)."""
    path = tmp_path_factory.mktemp("list_only") / "crm.duckdb"
    shutil.copy(planted_db, path)
    con = warehouse.connect(path)
    con.execute("DROP TABLE main.acquisition_contacts")
    con.close()
    return path


def test_a_list_without_a_test_is_scored_by_the_look_alike(list_without_test, tmp_path):
    from dbmarketing import campaigns
    from dbmarketing.present import words

    con = warehouse.connect(list_without_test, read_only=True)
    try:
        assert prospects.has_list(con) and not prospects.has_acquisition(con)
        snap = campaigns.snapshot(con, AS_OF)
        pool = prospects.prospects(con, AS_OF, snap=snap)
        base = prospects.customer_base(snap)
        look = prospects.lookalike(base, prospects.best_flag(base))
        p, basis = prospects.purchase_probability(pool, look, None, expected_response=0.04)
        assert set(basis) == {"look-alike"}
        for origin in ("registered", "list"):  # scaled to the expected response rate within each origin
            assert p[pool.origin.to_numpy() == origin].mean() == pytest.approx(0.04, rel=1e-6)
    finally:
        con.close()
    _, skipped = run_chapter(list_without_test, tmp_path)
    assert skipped == [words.text("needs.title_acquisition_test")]


def test_the_chinese_edition_reads_chinese(planted_db, tmp_path):
    """The zh edition on the planted list: every sentence, header and value a reader reads is
    Chinese (the English words test_words.py finds: none)."""
    import re

    from test_words import english_words

    nb, skipped = run_chapter(planted_db, tmp_path, lang="zh")
    assert skipped == []
    found = set()
    for cell in nb.cells:
        if "course" in cell.metadata.get("tags", []):  # left out of reports; bilingual key terms, answers in code
            continue
        if cell.cell_type == "markdown":
            found |= set(english_words(cell.source))
        for o in cell.get("outputs", []):
            for kind in ("text/markdown", "text/html"):
                text = str(o.get("data", {}).get(kind, ""))
                text = re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", text, flags=re.S))
                found |= set(english_words(text))
    assert not found
