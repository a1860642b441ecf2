"""The scale generator (benchmarks/gen_scale.py) writes files ``load`` accepts as they are."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]


def _gen_scale():
    spec = importlib.util.spec_from_file_location("gen_scale", ROOT / "benchmarks" / "gen_scale.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chunked_files_load_whole_and_agree_with_what_was_written(tmp_path):
    from dbmarketing import ingest, warehouse

    counts = _gen_scale().generate(tmp_path / "scale", 2_000, seed=3, chunk_customers=70)
    orders = pq.ParquetDataset(sorted((tmp_path / "scale" / "orders").glob("*.parquet"))).read()
    people = pq.ParquetDataset(sorted((tmp_path / "scale" / "customers").glob("*.parquet"))).read()
    assert counts["customers"] == people.num_rows == 200 and counts["orders"] == orders.num_rows
    assert len(list((tmp_path / "scale" / "orders").glob("*.parquet"))) == 3  # 70 + 70 + 60 customers
    ids = people.column("customer_no").to_pylist()
    assert len(set(ids)) == 200 and set(orders.column("customer_no").to_pylist()) == set(ids)  # everyone buys
    assert len(set(orders.column("order_no").to_pylist())) == orders.num_rows  # order numbers unique across files

    con = warehouse.connect(tmp_path / "db.duckdb")
    result = ingest.load_sources(con, tmp_path / "scale" / "sources.yaml")
    assert result["rows_rejected"].sum() == 0
    assert result.groupby("table")["rows_loaded"].sum().to_dict() == {"customers": 200, "orders": orders.num_rows}
    total = con.execute("SELECT round(sum(amount), 2), min(order_date), max(order_date) FROM raw.orders").fetchone()
    assert total[0] == round(sum(orders.column("amount").to_pylist()), 2)
    assert (total[1], total[2]) == (min(orders.column("order_date").to_pylist()), max(orders.column("order_date").to_pylist()))
