"""Resolving identities: a Fellegi-Sunter record-linkage model (splink, on DuckDB or Spark)
scores candidate pairs of customer records (blocking, comparisons, EM training), pairs at or above
the match threshold and records sharing a valid ID number are joined into clusters, one per
person; and what a reader asks of the model afterwards (its weights, the borderline pairs,
precision and recall against the sample's truth)."""

from __future__ import annotations

import json
import logging

import duckdb
import numpy as np
import pandas as pd

from .. import warehouse
from ..present.words import Phrase
from . import standardize as st
from ._common import PUBLIC, _cols

MAP_COLUMNS = _cols(
    ("customer_id", "VARCHAR", "Customer number in the source system", PUBLIC),
    ("master_id", "VARCHAR", "Master customer it belongs to", PUBLIC),
    ("cluster_size", "INTEGER", "Records merged into that master", PUBLIC),
    ("match_probability", "DOUBLE", "Highest match probability linking the record into its cluster", PUBLIC),
    ("linked_by", "VARCHAR", "model (match probability >= threshold) or same ID number (rule); empty when alone", PUBLIC),
    ("run_id", "INTEGER", "Cleaning run that decided it", PUBLIC),
)
PAIR_COLUMNS = _cols(
    ("customer_id_l", "VARCHAR", "One record", PUBLIC),
    ("customer_id_r", "VARCHAR", "The other record", PUBLIC),
    ("match_weight", "DOUBLE", "Log2 Bayes factor that the two are the same person", PUBLIC),
    ("match_probability", "DOUBLE", "Probability that the two are the same person", PUBLIC),
)
MATCH_PAIRS = warehouse.Table("match_pairs", "Candidate duplicate pairs scored by the match model", PAIR_COLUMNS)
CUSTOMER_MAP = warehouse.Table("customer_map", "Source customer number -> master customer (auditable merge)", MAP_COLUMNS)
CUSTOMER_MAP_HISTORY = warehouse.Table(
    "customer_map_history", "customer_map of every cleaning run (run_id), so an earlier merge can be audited and restored",
    MAP_COLUMNS)


def _splink_settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="customer_id",
        blocking_rules_to_generate_predictions=[block_on(*block) for block in BLOCKS],
        comparisons=[
            cl.LevenshteinAtThresholds("name", [1]).configure(term_frequency_adjustments=True),
            cl.ExactMatch("id_number"),
            cl.LevenshteinAtThresholds("phone", [1]),
            cl.LevenshteinAtThresholds("email", [1]),
            cl.LevenshteinAtThresholds("birth_date", [1]),
            cl.ExactMatch("gender"),
            cl.LevenshteinAtThresholds("address", [2, 5]),
            cl.ExactMatch("city"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


# Blocking rules of the EM sessions that estimate m, in order. A comparison is trained by
# every session not blocked on its own field; phone first and ID number second train every
# comparison between them, the others are there for data without phones or ID numbers.
TRAINING_BLOCKS = (("phone",), ("id_number",), ("name", "birth_date"), ("email",))


def _train_m(linker) -> tuple[list[dict], list[str]]:
    """Estimate m by expectation-maximisation, one session per :data:`TRAINING_BLOCKS` rule,
    until every comparison has been trained by at least one session.

    A session is skipped, and the reason recorded, when its blocking rule yields no pairs
    (e.g. a source without e-mail addresses) or when EM drives a level's m to exactly 0
    (splink refuses such a model). The second happens when a field is conclusive within the
    session's pairs: among pairs sharing name and birth date, a different ID number was
    never seen in a true match. The other sessions still train that comparison. Returns (one
    row per session: blocking rule, status, comparisons trained, reason; the comparisons no
    session could train, which keep splink's starting values).
    """
    from splink import block_on
    from splink.internals.exceptions import EMTrainingException

    fields = list(MATCH_FIELDS)
    untrained = set(fields)
    sessions = []
    for block in TRAINING_BLOCKS:
        if not untrained:
            break
        rule = " and ".join(block)
        trains = [f for f in fields if f not in block]
        # splink sets the prior to the share of matches within the session's pairs before EM,
        # and leaves it there when the session fails: the prior is put back below
        prior = linker._settings_obj._probability_two_random_records_match
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*block))
        except EMTrainingException as exc:
            linker._settings_obj._probability_two_random_records_match = prior
            sessions.append({"blocked_on": rule, "status": "skipped", "trained": [], "reason": f"no pairs: {exc}"[:300]})
            continue
        except ValueError as exc:
            linker._settings_obj._probability_two_random_records_match = prior
            if "below the minimum allowed" not in str(exc):
                raise
            sessions.append({"blocked_on": rule, "status": "skipped", "trained": [],
                             "reason": f"a level's m fell to 0 (conclusive within these pairs): {exc}"[:300]})
            continue
        sessions.append({"blocked_on": rule, "status": "trained", "trained": trains, "reason": ""})
        untrained -= set(trains)
    return sessions, sorted(untrained)


def _level_parameters(linker) -> list[dict]:
    """m and u of every comparison level as the model uses them when it scores pairs, and
    whether EM estimated m (a level never seen in any session's pairs keeps splink's starting
    value, or 1e-6 when splink saw it nowhere). Read from splink's settings object (not in
    splink's public API): the saved JSON leaves untrained m out, which would hide them."""
    rows = []
    for comp in linker._settings_obj.comparisons:
        for level in comp.comparison_levels:
            if level.is_null_level:
                continue
            rows.append({"comparison": comp.output_column_name, "level": level.label_for_charts,
                         "m": level.m_probability, "u": level.u_probability, "m_estimated": bool(level._m_is_trained)})
    return rows


MIN_PAIR_PROBABILITY = 0.01  # pairs scored below it are clearly different people and not kept
U_PAIRS = 1_000_000  # random pairs u is estimated from: on the full sample the same pairs as 2,000,000 (precision 1.0, recall 0.997), 3 s sooner
MATCH_FIELDS = ("name", "id_number", "phone", "email", "birth_date", "gender", "address", "city")
IDENTIFIERS = ("name", "id_number", "phone", "email")  # a record without any of them cannot be matched
BLOCKS = (("id_number",), ("phone",), ("email",), ("name", "birth_date"), ("name", "city"))  # candidate pairs


# Two-character (compound) surnames: the rest of the name is the given name.
COMPOUND_SURNAMES = frozenset({"欧阳", "上官", "皇甫", "令狐", "诸葛", "司徒", "司马", "申屠", "夏侯", "慕容", "尉迟",
                               "长孙", "东方", "南宫", "端木", "公孙", "宇文", "万俟", "独孤", "呼延", "澹台", "轩辕"})


def _name_parts(name: str) -> tuple[str, str]:
    """(surname, given name): 周静 -> (周, 静), 欧阳娜娜 -> (欧阳, 娜娜); a Latin name's
    last word is the surname (Mary Ann Smith -> (Smith, Mary Ann))."""
    if st.CJK.search(name):
        cut = 2 if name[:2] in COMPOUND_SURNAMES else 1
        return name[:cut], name[cut:]
    words = name.split()
    return (words[-1], " ".join(words[:-1])) if len(words) > 1 else (name, "")


def name_frequencies(names: pd.Series) -> pd.DataFrame:
    """How common each name is, for the match model's term-frequency adjustment: the share of
    its surname times the share of its given name among the file's records (the two taken as
    independent). A small file holds each full name about once, so a name's own share says
    nothing (every name would look equally common, 1 in n); its parts do: 周 and 静 are common,
    so 周静 is, while 欧阳 and 娜娜 are rare. An exact match of a common name is then weaker
    evidence than one of a rare name; records of one person counted twice barely move the
    parts' shares. Returns columns name, tf_name (splink's lookup table)."""
    values = names.dropna()
    if values.empty:
        return pd.DataFrame({"name": pd.Series(dtype="str"), "tf_name": pd.Series(dtype="float64")})
    n = len(values)
    parts = pd.DataFrame([_name_parts(v) for v in values], columns=["surname", "given"], index=values.index)
    tf = parts.surname.map(parts.surname.value_counts() / n) * parts.given.map(parts.given.value_counts() / n)
    return pd.DataFrame({"name": values, "tf_name": tf}).drop_duplicates("name").reset_index(drop=True)


def why_no_matching(records: pd.DataFrame) -> Phrase | None:
    """Why the match model cannot run on these records (None when it can): fewer than two
    records with a name, ID number, phone or e-mail; no candidate pairs (no two records share
    an ID number, phone, e-mail, or a name with a birth date or city); or no two records
    sharing an ID number or phone, the pairs from which the model learns how often two
    records are one person. Counted with pandas, before splink is asked."""
    usable = records[records[list(IDENTIFIERS)].notna().any(axis=1)]
    if len(usable) < 2:
        return Phrase("needs.match_records", {"n": len(usable)})

    def shared(block) -> int:
        keys = usable[list(block)].dropna()
        return int(keys.duplicated(keep=False).sum())

    if not any(shared(block) for block in BLOCKS):
        return Phrase("needs.match_no_pairs")
    if not (shared(("id_number",)) or shared(("phone",))):
        return Phrase("needs.match_no_key_pairs")
    return None


def match_frame(records: pd.DataFrame) -> pd.DataFrame:
    """The columns the match model reads (customer_id and :data:`MATCH_FIELDS`), as splink
    wants them: plain Python values, missing ones None, birth dates as text; records without
    any of the :data:`IDENTIFIERS` left out (they cannot be matched)."""
    frame = records[["customer_id", *MATCH_FIELDS]].copy()
    frame["birth_date"] = frame.birth_date.astype(str).where(frame.birth_date.notna(), None)
    for col in frame.columns:
        frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    return frame[frame[list(IDENTIFIERS)].notna().any(axis=1)]


def train_model(frame: pd.DataFrame, seed: int = 42) -> dict:
    """Estimate the match model on the records of ``frame`` (see :func:`match_frame`), on a
    DuckDB of its own: the prior from pairs that share an ID number or a phone, u from random
    pairs, m by expectation-maximisation (:func:`_train_m`). Returns splink's settings as splink
    saves them, plus ``training_sessions``, ``untrained_comparisons`` and ``levels``. Trained
    once, the model can score any number of records on either engine (:func:`score_pairs`)."""
    from splink import Linker, block_on
    from splink.backends.duckdb import DuckDBAPI

    scratch = duckdb.connect()
    try:
        api = DuckDBAPI(connection=scratch)
        linker = Linker(api.register(frame, dataset_display_name="customer_records"), _splink_settings(), log_level=None)
        linker.table_management.register_term_frequency_lookup(api.register(name_frequencies(frame["name"])), "name")
        logging.getLogger("splink").setLevel(logging.ERROR)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("id_number"), block_on("phone")], recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed)
        sessions, untrained = _train_m(linker)
        model = linker.misc.save_model_to_json()
        model["training_sessions"], model["untrained_comparisons"] = sessions, untrained
        model["levels"] = _level_parameters(linker)
    finally:
        scratch.close()
    return model


def _scoring_settings(model: dict, dialect: str) -> dict:
    """splink's settings (:func:`_splink_settings`) written for the engine's SQL ``dialect``
    ("duckdb", "spark"), with the trained model's prior and the m and u of every level
    (``model["levels"]``: also the m no session trained, which the JSON splink saves leaves out;
    its SQL is DuckDB's, so only its numbers are taken). Only the model's comparisons: splink
    leaves out one whose field was empty in every record it was trained on."""
    settings = _splink_settings().create_settings_dict(dialect)
    settings["probability_two_random_records_match"] = model["probability_two_random_records_match"]
    trained = {comp["output_column_name"] for comp in model["comparisons"]}
    settings["comparisons"] = [comp for comp in settings["comparisons"] if comp["output_column_name"] in trained]
    levels = {(lv["comparison"], lv["level"]): lv for lv in model["levels"]}
    for comp in settings["comparisons"]:
        for level in comp["comparison_levels"]:
            if not level.get("is_null_level"):
                used = levels[(comp["output_column_name"], level["label_for_charts"])]
                level["m_probability"], level["u_probability"] = used["m"], used["u"]
    return settings


def _splink_api(con):
    """splink's database API on the engine of ``con``: a DuckDB connection, or a
    :class:`~dbmarketing.warehouse.spark.SparkConnection` (splink's SparkAPI on its session;
    without splink's Scala functions: the comparisons use Spark's own ``levenshtein``, so the
    session needs no jar. splink's jar for Spark 4, ``scala-udf-similarity-0.2.1_spark4.x``,
    does work with PySpark 4.3 when a session is started with it in ``spark.jars``: checked
    2026-12-06, ``jaro_winkler('MARTHA', 'MARHTA')`` = 0.961). On Spark
    splink's intermediate tables are persisted (memory, then disk), not written as Parquet to a
    checkpoint folder, which the session need not have."""
    if warehouse.dialect.engine_of(con) == "spark":
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=con.spark, register_udfs_automatically=False, break_lineage_method="persist")
    from splink.backends.duckdb import DuckDBAPI

    return DuckDBAPI(connection=con)


def score_pairs(con, records, model: dict, names, chunks: int = 1,
                min_probability: float = MIN_PAIR_PROBABILITY) -> pd.DataFrame:
    """Score the candidate pairs (:data:`BLOCKS`) of ``records`` with a trained ``model``
    (:func:`train_model`) on the engine of ``con`` (DuckDB or Spark).

    ``records``: a table or view name on ``con`` (or a frame) with the columns of
    :func:`match_frame`; ``names``: the name frequencies (:func:`name_frequencies` of all the
    records' names; a frame, or a table name on ``con``). ``chunks`` > 1 scores the pairs in
    chunks x chunks parts (splink's chunked predict: the records split by a hash of their id,
    each part the pairs of one left and one right slice), so memory holds one part's pairs at a
    time; the pairs and their probabilities are those of one pass. Returns pairs with
    probability >= ``min_probability``: customer_id_l < customer_id_r, match_weight,
    match_probability."""
    from splink import Linker

    api = _splink_api(con)
    linker = Linker(api.register(records), _scoring_settings(model, api.sql_dialect.sql_dialect_str), log_level=None)
    linker.table_management.register_term_frequency_lookup(api.register(names), "name")
    logging.getLogger("splink").setLevel(logging.ERROR)
    predicted = linker.inference.predict(threshold_match_probability=min_probability, num_chunks_left=chunks,
                                         num_chunks_right=chunks, warning_mode="never")
    pairs = predicted.as_pandas_dataframe()[["customer_id_l", "customer_id_r", "match_weight", "match_probability"]]
    linker.table_management.delete_tables_created_by_splink_from_db()
    return pairs


def find_duplicates(records: pd.DataFrame, keep_apart: set[str] | None = None, seed: int = 42,
                    min_probability: float = MIN_PAIR_PROBABILITY, con=None) -> tuple[pd.DataFrame, dict]:
    """Score candidate pairs of customer records with a Fellegi-Sunter model (splink; trained on
    DuckDB, the pairs scored in a DuckDB of its own, or on Spark when ``con``, the customer
    database's session, runs with engine "spark": :func:`dbmarketing.warehouse.compute_on`).

    Model, in plain sentences:

    1. Candidate pairs are the records that agree on at least one of: ID number, phone,
       e-mail, name and birth date, name and city (blocking: only these pairs are scored).
    2. Each pair is compared on name, ID number, phone, e-mail, birth date, address and city,
       each at a few levels (exact, one character off, different, missing).
    3. For each level, m = P(level | same person) and u = P(level | different people); the
       pair's match weight is the sum of log2(m/u) over the comparisons plus the prior.
    4. u is estimated from random pairs; the prior from pairs that share an ID number or a
       phone; m by expectation-maximisation in sessions blocked on one field at a time
       (:data:`TRAINING_BLOCKS`), so each comparison is learned from pairs not selected by
       it. No labels used. See :func:`_train_m` for what happens when a session cannot train.

    Returns (pairs with probability >= ``min_probability``, the model as a dict of m/u, with
    ``training_sessions``: what each session trained or why it was skipped). When the model
    cannot run (:func:`why_no_matching`), no pairs, and the model dict says why under ``skipped``.
    Records too many for one pass: :func:`train_model` on a sample, then :func:`score_pairs`
    in chunks.
    """
    frame = match_frame(records)
    reason = why_no_matching(frame)
    if reason is not None:
        empty = pd.DataFrame({"customer_id_l": pd.Series(dtype="str"), "customer_id_r": pd.Series(dtype="str"),
                              "match_weight": pd.Series(dtype="float64"), "match_probability": pd.Series(dtype="float64")})
        return empty, {"skipped": reason.record(), "probability_two_random_records_match": None, "comparisons": [],
                       "training_sessions": [], "untrained_comparisons": [], "levels": []}
    model = train_model(frame, seed)
    names = name_frequencies(frame["name"])
    on = warehouse.compute_on(con) if con is not None else None
    if on is not None and warehouse.dialect.engine_of(on) == "spark":
        pairs = score_pairs(on, frame, model, names, min_probability=min_probability)
    else:
        scratch = duckdb.connect()
        try:
            pairs = score_pairs(scratch, frame, model, names, min_probability=min_probability)
        finally:
            scratch.close()
    if keep_apart:
        pairs = pairs[~pairs.customer_id_l.isin(keep_apart) & ~pairs.customer_id_r.isin(keep_apart)]
    return pairs.sort_values("match_weight", ascending=False, ignore_index=True), model


def same_id_pairs(records: pd.DataFrame, keep_apart: set[str] | None = None) -> pd.DataFrame:
    """Records that carry the same valid resident ID number (after the 15 -> 18 digit upgrade):
    one person by law, so they are linked whatever the match model says (the rule
    "same ID number"). Records a reviewer kept apart are left out. Returns pairs
    (customer_id_l, customer_id_r), each record paired with the first of its ID group."""
    r = records.loc[records.id_number.notna(), ["customer_id", "id_number"]]
    if keep_apart:
        r = r[~r.customer_id.isin(keep_apart)]
    first = r.groupby("id_number").customer_id.transform("min")
    linked = r[r.customer_id != first]
    return pd.DataFrame({"customer_id_l": first[linked.index].to_numpy(), "customer_id_r": linked.customer_id.to_numpy()})


def clusters_at(records: pd.DataFrame, pairs: pd.DataFrame, threshold: float,
                rule_pairs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Connected components of the model's pairs at or above ``threshold`` together with the
    ``rule_pairs`` (linked whatever their probability, see :func:`same_id_pairs`):
    customer_id -> cluster_id, match_probability (the highest model probability linking the
    record), linked_by ("model", "same ID number" or empty for a record on its own)."""
    ids = records.customer_id.tolist()
    index = {cid: i for i, cid in enumerate(ids)}
    parent = list(range(len(ids)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(left, right):
        a, b = root(index[left]), root(index[right])
        if a != b:
            parent[max(a, b)] = min(a, b)

    strong = pairs[pairs.match_probability >= threshold]
    best, how = {}, {}
    for left, right, p in strong[["customer_id_l", "customer_id_r", "match_probability"]].itertuples(index=False):
        union(left, right)
        for c in (left, right):
            best[c] = max(best.get(c, 0.0), p)
            how[c] = "model"
    if rule_pairs is not None:
        for left, right in rule_pairs[["customer_id_l", "customer_id_r"]].itertuples(index=False):
            union(left, right)
            for c in (left, right):
                how.setdefault(c, "same ID number")
    return pd.DataFrame({"customer_id": ids, "cluster_id": [root(i) for i in range(len(ids))],
                         "match_probability": [best.get(c, np.nan) for c in ids],
                         "linked_by": [how.get(c) for c in ids]})


def evaluate_against_truth(con) -> dict | None:
    """Pairwise precision and recall of the merge against the sample's planted duplicate
    clusters (``truth.customer_records``); None when the database has no truth schema."""
    if not warehouse.table_exists(con, "truth", "customer_records"):
        return None
    predicted, true, both = warehouse.sql.one(con, "cleanse.merge_accuracy")
    return {"predicted_pairs": predicted, "true_pairs": true, "correct_pairs": both,
            "precision": both / predicted if predicted else 1.0, "recall": both / true if true else 1.0}


def id_upgrade_story(con) -> dict:
    """The 15- vs 18-digit ID story in four counts: current records holding a 15-digit number,
    how many were upgraded to a valid 18-digit one, how many of those equal another record's
    number (one person seen in both forms), and how many of those ended in the same customer."""
    return dict(zip(["legacy_15_digit", "upgraded_to_18", "same_number_as_another_record", "merged_into_one_customer"],
                    warehouse.sql.one(con, "cleanse.id_upgrade_story")))


def matching_skipped(con, run_id: int | None = None) -> Phrase | str | None:
    """Why the match model of a run did not run (:func:`why_no_matching`), or None if it ran."""
    return Phrase.from_record(_run_model(con, run_id).get("skipped"))


def _run_model(con, run_id: int | None) -> dict:
    """The match model of run ``run_id`` (None or 0: the newest run) as saved."""
    if run_id:
        row = warehouse.sql.one(con, "cleanse_review.run_model", {"run_id": run_id})
    else:
        row = warehouse.sql.one(con, "cleanse.newest_run_model")
    return json.loads(row[0])


def match_weights(con, run_id: int | None = None) -> pd.DataFrame:
    """The match model of a run as a table: comparison, level, m, u, match weight log2(m/u)
    and whether m was estimated from the data (``m_estimated``; False: splink's starting value)."""
    model = _run_model(con, run_id)
    prior = model["probability_two_random_records_match"]
    if prior is None:  # the model did not run (model["skipped"] says why)
        return pd.DataFrame(columns=["comparison", "level", "m", "u", "match_weight", "m_estimated"])
    rows = [("prior", "two random records match", None, None, float(np.log2(prior / (1 - prior))), True)]
    levels = model.get("levels") or [  # runs saved before levels were recorded: trained values only
        {"comparison": c["output_column_name"], "level": lv["label_for_charts"], "m": lv.get("m_probability"),
         "u": lv.get("u_probability"), "m_estimated": "m_probability" in lv}
        for c in model["comparisons"] for lv in c["comparison_levels"] if not lv.get("is_null_level")]
    for level in levels:
        m, u = level["m"], level["u"]
        weight = float(np.log2(m / u)) if m and u else None
        rows.append((level["comparison"], level["level"], m, u, weight, level["m_estimated"]))
    return pd.DataFrame(rows, columns=["comparison", "level", "m", "u", "match_weight", "m_estimated"])


def borderline_pairs(con, threshold: float = 0.9, n: int = 8) -> pd.DataFrame:
    """The scored pairs closest to the match threshold, for a human to judge: up to ``n // 2``
    just below it and the rest just at or above it, one row per record (the two records of a
    pair one above the other), with the decision the run took (merged, by the model or by
    the ID rule, or kept apart)."""
    below, above = int(n) // 2, int(n) - int(n) // 2
    params = {"threshold": float(threshold), "below": below, "above": above}
    return warehouse.sql.run(con, "cleanse.borderline_pairs", params).df()


def borderline_summary(con, threshold: float = 0.9, sure: float = 0.99) -> dict:
    """How sure the match model was about the pairs it kept (``main.match_pairs``: those with a
    match probability of at least :data:`MIN_PAIR_PROBABILITY`, the lower bound of
    :func:`find_duplicates`), for the reader of the borderline pairs: how many scored below
    ``threshold`` (not merged by the model), how many just above it (``threshold`` up to
    ``sure``) and how many at ``sure`` or more, with the highest probability below the
    threshold and the lowest at or above it (None when there is no such pair)."""
    t, s = float(threshold), float(sure)
    pairs, below, just_above, sure_pairs, highest_below, lowest_above = warehouse.sql.one(
        con, "cleanse.borderline_summary", {"threshold": t, "sure": s})
    return {"min_probability": MIN_PAIR_PROBABILITY,
            "threshold": t, "sure": s, "pairs": pairs, "below": below, "just_above": just_above, "sure_pairs": sure_pairs,
            "highest_below": highest_below, "lowest_above": lowest_above}
