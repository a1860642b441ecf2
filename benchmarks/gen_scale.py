"""Generate a large customer database as Parquet files, chunk by chunk (issue 17).

Writes, seeded and deterministic, ``--transactions`` orders (one total per order, the
"order export without lines" shape ``load`` accepts) of ``transactions / 10`` customers:

    <out>/customers/customers_0000.parquet, ...   customer master, one file per chunk
    <out>/orders/orders_0000.parquet, ...          orders of those customers, one file per chunk
    <out>/sources.yaml                             one source per file, for ``load_sources``

Each chunk is ``--chunk-customers`` customers (default 500,000, so about 5,000,000 orders a
file) and is written in row groups of at most 1,000,000 rows with pyarrow, then dropped, so
the generator's memory depends on the chunk size, not on the total size. Customer k's orders
are in the file of its chunk, sorted by date. Customers buy and drop out as BG/NBD assumes
(:func:`orders_chunk`), each order worth a Gamma amount around the customer's own mean; ids
are ``C000000001`` and ``O0000000001``.

    .venv/bin/python benchmarks/gen_scale.py --transactions 1000000 --out data/scale/1m
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

AS_OF = dt.date(2026, 10, 31)
DAYS = 1095  # three years of history
ORDERS_PER_CUSTOMER = 10
ROW_GROUP = 1_000_000
R, ALPHA, A, B = 1.0, 45.0, 0.5, 6.0  # BG/NBD truth, days: a purchase every 45 days while alive
CHANNELS = np.array(["store", "online", "phone"])
CITIES = np.array(["Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Chengdu", "Hangzhou", "Wuhan", "Nanjing"])
PROVINCES = np.array(["Shanghai", "Beijing", "Guangdong", "Guangdong", "Sichuan", "Zhejiang", "Hubei", "Jiangsu"])


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'C000000001' ... from 1-based numbers, in Arrow (no Python strings)."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def customers_chunk(rng: np.random.Generator, first: int, n: int) -> pa.Table:
    """Customers first+1 .. first+n."""
    epoch = np.datetime64(AS_OF) - np.timedelta64(DAYS + 365, "D")
    city = rng.integers(0, len(CITIES), n)
    return pa.table({
        "customer_no": _ids("C", np.arange(first + 1, first + n + 1), 9),
        "type": pa.array(np.where(rng.random(n) < 0.02, "distributor", "consumer")),
        "gender": pa.array(np.where(rng.random(n) < 0.5, "F", "M")),
        "province": pa.array(PROVINCES[city]),
        "city": pa.array(CITIES[city]),
        "signup": pa.array(epoch + rng.integers(0, 365, n).astype("timedelta64[D]")),
        "signup_channel": pa.array(CHANNELS[rng.integers(0, len(CHANNELS), n)]),
    })


def orders_chunk(rng: np.random.Generator, first_customer: int, n: int, first_order: int) -> pa.Table:
    """The orders of customers first_customer+1 .. +n, numbered from first_order+1, sorted
    by customer and date.

    A BG/NBD purchase process (what the CLV model assumes, so its fit is a real fit): the
    first purchase on a day in the first two of the three years; then purchases at the
    customer's own rate lambda ~ Gamma(R, 1/ALPHA) a day until the customer drops out, with
    probability p ~ Beta(A, B) after each repeat purchase. About 10 orders a customer."""
    first = rng.integers(0, DAYS - 365, n)
    horizon = (DAYS - 1 - first).astype("float64")
    lam = rng.gamma(R, 1.0 / ALPHA, n)
    p_drop = np.clip(rng.beta(A, B, n), 1e-12, 1.0)
    possible = rng.poisson(lam * horizon)
    repeats = np.minimum(rng.geometric(p_drop) - 1, possible)  # purchases before dropping out
    # the repeat purchases are the first `repeats` of the customer's Poisson purchase times
    who = np.repeat(np.arange(n), possible)
    times = rng.random(who.size) * horizon[who]
    order = np.lexsort((times, who))
    who, times = who[order], times[order]
    rank = np.arange(who.size) - np.repeat(np.cumsum(possible) - possible, possible)
    kept = rank < repeats[who]
    owner = np.concatenate([np.arange(n), who[kept]])
    day = np.concatenate([first, first[who[kept]] + 1 + np.floor(times[kept]).astype(np.int64)])
    day = np.minimum(day, DAYS - 1)
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    mean = rng.gamma(4.0, 25.0, n)  # each customer's own mean order value
    amount = np.round(rng.gamma(3.0, 1.0, owner.size) * mean[owner] / 3.0 + 1.0, 2)
    start = np.datetime64(AS_OF) - np.timedelta64(DAYS - 1, "D")
    return pa.table({
        "order_no": _ids("O", np.arange(first_order + 1, first_order + owner.size + 1), 10),
        "customer_no": _ids("C", first_customer + 1 + owner, 9),
        "order_date": pa.array(start + day.astype("timedelta64[D]")),
        "channel": pa.array(CHANNELS[rng.integers(0, len(CHANNELS), owner.size)]),
        "amount": pa.array(amount),
    })


SOURCES_HEAD = """\
# Written by benchmarks/gen_scale.py: {customers:,} customers, {orders:,} orders (seed {seed}).
base_dir: {base}
sources:
"""
CUSTOMER_SOURCE = """\
  - name: customers_{i:04d}
    path: customers/customers_{i:04d}.parquet
    table: customers
    extracted: {as_of}
    columns: {{customer_id: customer_no, customer_type: type, gender: gender, province: province, city: city,
              signup_date: signup, signup_channel: signup_channel}}
"""
ORDER_SOURCE = """\
  - name: orders_{i:04d}
    path: orders/orders_{i:04d}.parquet
    table: orders
    extracted: {as_of}
    columns: {{order_id: order_no, customer_id: customer_no, order_date: order_date, channel: channel, amount: amount}}
"""


def generate(out: Path, transactions: int, seed: int = 42, chunk_customers: int = 500_000) -> dict:
    """Write the files and sources.yaml; returns counts. Memory is that of one chunk."""
    customers = max(1, transactions // ORDERS_PER_CUSTOMER)
    (out / "customers").mkdir(parents=True, exist_ok=True)
    (out / "orders").mkdir(parents=True, exist_ok=True)
    orders = 0
    yaml = []
    for i, first in enumerate(range(0, customers, chunk_customers)):
        n = min(chunk_customers, customers - first)
        rng = np.random.default_rng([seed, i])  # each chunk its own stream: the same data for any chunking order
        pq.write_table(customers_chunk(rng, first, n), out / "customers" / f"customers_{i:04d}.parquet",
                       row_group_size=ROW_GROUP)
        table = orders_chunk(rng, first, n, orders)
        pq.write_table(table, out / "orders" / f"orders_{i:04d}.parquet", row_group_size=ROW_GROUP)
        orders += table.num_rows
        del table
        yaml += [CUSTOMER_SOURCE.format(i=i, as_of=AS_OF), ORDER_SOURCE.format(i=i, as_of=AS_OF)]
    # customers first, then orders (each table's files in chunk order)
    text = SOURCES_HEAD.format(customers=customers, orders=orders, seed=seed, base=out.resolve())
    text += "".join(y for y in yaml if "table: customers" in y) + "".join(y for y in yaml if "table: orders" in y)
    (out / "sources.yaml").write_text(text)
    return {"customers": customers, "orders": orders, "files": len(yaml)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transactions", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--chunk-customers", type=int, default=500_000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    counts = generate(args.out, args.transactions, args.seed, args.chunk_customers)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wrote {counts['customers']:,} customers and {counts['orders']:,} orders to {args.out} in "
          f"{time.perf_counter() - t0:.1f} s, peak memory {peak:,.0f} MB")


if __name__ == "__main__":
    main()
