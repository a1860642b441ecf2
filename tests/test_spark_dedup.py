"""De-duplication with one trained model, in chunks and on Spark (issue 17).

The match model is trained once on the cleaned small sample's standardized records
(``main.customer_records``) and its parameters are given to every scoring below. Scoring is
deterministic once the model is fixed (no sampling happens at prediction: sampling is only
in training, for u), so:

- scoring in chunks (splink's chunked predict, the records split by a hash of their id) gives
  exactly the pairs and probabilities of one pass, hence the same clusters;
- scoring on Spark (splink's SparkAPI, ``local[2]``, the session shared by the test session)
  gives the same candidate pairs and the same clusters at the match threshold; match weights
  agree within 1e-9 (relative) and probabilities within 1e-9, the tolerance for floating-point sums and powers computed by another
  engine's maths library (DuckDB and the JVM need not round log2 and powers alike).
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from dbmarketing import warehouse
from dbmarketing.cleanse import matching
from dbmarketing.warehouse import spark as engine

THRESHOLD = 0.9  # cleanse.run's default match threshold


@pytest.fixture(scope="module")
def trained(cleaned_sample):
    """(records as the model reads them, their name frequencies, the model trained once)."""
    con = warehouse.connect(cleaned_sample, read_only=True)
    records = con.execute("SELECT * FROM main.customer_records").df()
    con.close()
    frame = matching.match_frame(records)
    return frame, matching.name_frequencies(frame["name"]), matching.train_model(frame)


def _sorted(pairs: pd.DataFrame) -> pd.DataFrame:
    return pairs.sort_values(["customer_id_l", "customer_id_r"], ignore_index=True)


def _clusters(frame: pd.DataFrame, pairs: pd.DataFrame) -> set[frozenset]:
    """The clusters at the match threshold as sets of customer ids (independent of cluster numbering)."""
    c = matching.clusters_at(frame, pairs, THRESHOLD)
    return {frozenset(ids) for _, ids in c.groupby("cluster_id").customer_id}


@pytest.fixture(scope="module")
def one_pass(trained):
    frame, names, model = trained
    con = duckdb.connect()
    pairs = _sorted(matching.score_pairs(con, frame, model, names))
    con.close()
    return pairs


def test_the_sample_has_pairs_to_agree_on(trained, one_pass):
    frame, _, _ = trained
    assert len(frame) > 1500
    # the sample plants duplicates; their pairs' weights spread widely, so equal weights mean something
    assert (one_pass.match_probability >= THRESHOLD).sum() > 20
    assert one_pass.match_weight.max() - one_pass.match_weight.min() > 20
    assert one_pass.customer_id_l.lt(one_pass.customer_id_r).all()


def test_scoring_in_chunks_gives_the_pairs_of_one_pass(trained, one_pass):
    frame, names, model = trained
    con = duckdb.connect()
    chunked = _sorted(matching.score_pairs(con, frame, model, names, chunks=3))
    con.close()
    pd.testing.assert_frame_equal(chunked, one_pass, check_exact=True)
    assert _clusters(frame, chunked) == _clusters(frame, one_pass)


def test_spark_scores_the_same_pairs_and_clusters_with_the_shared_model(trained, one_pass, spark_session):
    frame, names, model = trained
    con = engine.SparkConnection(spark_session)
    con.register("dedup_test_records", frame).register("dedup_test_names", names)
    try:
        on_spark = _sorted(matching.score_pairs(con, "dedup_test_records", model, "dedup_test_names"))
    finally:
        con.unregister("dedup_test_records").unregister("dedup_test_names")
    pd.testing.assert_frame_equal(on_spark[["customer_id_l", "customer_id_r"]],
                                  one_pass[["customer_id_l", "customer_id_r"]])
    pd.testing.assert_series_equal(on_spark.match_weight, one_pass.match_weight, rtol=1e-9, atol=0)
    pd.testing.assert_series_equal(on_spark.match_probability, one_pass.match_probability, rtol=0, atol=1e-9)
    assert _clusters(frame, on_spark) == _clusters(frame, one_pass)
