"""Writing the sample: the source files in each system's layout, encoding and line ends (CSV,
GBK CSV, Excel, Parquet, the sources map) and the truth tables into the database."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from .layouts import (
    CAMPAIGN_COLUMNS,
    ACQUISITION_COLUMNS,
    CITY_COLUMNS,
    CONTACT_COLUMNS,
    CRM_COLUMNS,
    CRM_EXTRA,
    DIST_COLUMNS,
    DIST_EXTRA,
    DIST_SHEET,
    FILES,
    LINE_COLUMNS,
    ORDER_CHANNEL_CODES,
    ORDER_COLUMNS,
    ORDER_STATUS_CODES,
    ORDER_TYPE_CODES,
    POS_COLUMNS,
    POS_EXTRA,
    PRODUCT_COLUMNS,
    PROSPECT_COLUMNS,
    PROSPECT_DATE_FORMAT,
    SUPPRESSION_COLUMNS,
    SUPPRESSION_REASONS,
    TICKET_COLUMNS,
    TICKET_TYPES,
    sources_config,
)
from .parameters import CHANNEL_LABELS
from .prospects import ACQ_WINDOW, AGE_LABELS, GENDER_LABELS, INCOME_LABELS, VENDORS, YES_NO
from .state import Run
from .truth import TRUTH_TABLES, truth_tables


def _fmt_dates(run: Run, days, fmt: str = "%Y-%m-%d") -> np.ndarray:
    """Day numbers (NaN/negative sentinel -> empty) formatted as strings."""
    days = np.asarray(days, dtype=float)
    ok = np.isfinite(days)
    iso = np.datetime_as_string(run.day_to_date(np.where(ok, days, 0).astype(int)), unit="D")
    return _format_iso(iso, ok, fmt)


def write_files(run: Run, out: Path) -> None:
    run.files: dict[str, int] = {}
    run.customer_lines: dict[int, tuple[str, int]] = {}  # record row -> (first file, line)
    run.update_lines: dict[int, int] = {}  # record row -> line in the CRM delta
    run.record_rejects: list[dict] = []
    _write_customers(run, out)
    _write_products(run, out)
    _write_orders(run, out)
    _write_campaigns(run, out)
    _write_trigger_campaigns(run, out)
    _write_tickets(run, out)
    _write_cities(run, out)
    _write_suppressions(run, out)
    run.email_test.to_csv(out / FILES["email_test"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["email_test"]] = len(run.email_test)
    _write_prospects(run, out)
    _write_yaml(out / "sources.yaml", sources_config(run.locale, run.end_date, base_dir=str(out)))
    _write_yaml(out / "email_test.yaml", dict(EMAIL_TEST_MAP, path=str(out / FILES["email_test"])),
                "The e-mail test export's column map (params/campaigns/email_test.yaml's, for these files)")


def _customer_frame(run: Run, rows: np.ndarray, layout: str) -> pd.DataFrame:
    """Customer records in a system's own layout and formats (all values as text)."""
    R = run.R.iloc[rows]
    zh = run.zh
    if layout == "crm":
        f = pd.DataFrame({
            "customer_id": R.customer_id.to_numpy(), "name": R.name.to_numpy(),
            "gender": R.gender.map({"M": "male", "F": "female"}).to_numpy(),
            "birth_date": _fmt_dt(R.birth.to_numpy(), "%Y-%m-%d"), "id_number": R.id_number.to_numpy(),
            "phone": R.phone.to_numpy(), "email": R.email.to_numpy(), "province": R.province.to_numpy(),
            "city": R.city.to_numpy(), "address": R.address.to_numpy(),
            "signup_date": _fmt_dates(run, R.signup_day.to_numpy()),
            "signup_channel": R.signup_channel.to_numpy(),
        })
        for k in ("mail", "sms", "email", "phone"):
            f[f"consent_{k}"] = _yes_no(R[f"consent_{k}"].to_numpy(), "Y", "N")
        f = f.rename(columns=CRM_COLUMNS)
        f[CRM_EXTRA] = R.member_level.to_numpy()
        return f
    if layout == "pos":
        yes, no = ("是", "否") if zh else ("Y", "N")
        bfmt, sfmt = ("%Y%m%d", "%Y/%m/%d") if zh else ("%m/%d/%Y", "%m/%d/%Y")
        f = pd.DataFrame({
            "customer_id": R.customer_id.to_numpy(), "name": R.name.to_numpy(),
            "gender": R.gender.map({"M": "男", "F": "女"} if zh else {"M": "M", "F": "F"}).to_numpy(),
            "birth_date": _fmt_dt(R.birth.to_numpy(), bfmt), "id_number": R.id_number.to_numpy(),
            "phone": R.phone.to_numpy(), "email": R.email.to_numpy(), "province": R.province.to_numpy(),
            "city": R.city.to_numpy(), "address": R.address.to_numpy(),
            "signup_date": _fmt_dates(run, R.signup_day.to_numpy(), sfmt),
            "consent_sms": _yes_no(R.consent_sms.to_numpy(), yes, no),
            "consent_phone": _yes_no(R.consent_phone.to_numpy(), yes, no),
        })
        f = f.rename(columns=POS_COLUMNS[run.locale])
        f.insert(11, POS_EXTRA[run.locale], R.home_store.to_numpy())
        return f
    raise ValueError(layout)


def _write_customers(run: Run, out: Path) -> None:
    rng, R = run.rng, run.R
    src = R.source.to_numpy()
    sid = R.signup_day.to_numpy()
    # CRM master as exported two months before the end, with rows missing their number.
    crm_rows = np.flatnonzero((src == "crm") & (sid <= run.export_day))
    crm_rows = crm_rows[np.argsort(R.customer_id.to_numpy()[crm_rows], kind="stable")]
    crm = _customer_frame(run, crm_rows, "crm")
    crm["_row"] = crm_rows
    n_missing = max(2, run.n // 10_000)
    junk = crm.iloc[rng.choice(len(crm), n_missing, replace=False)].copy()
    junk[CRM_COLUMNS["customer_id"]] = None
    junk["_row"] = -1
    crm = _insert_rows(crm, junk, rng)
    _write_csv(run, crm, out, "crm_customers", "utf-8-sig", "\n", reject_kind="missing_customer_id")
    # The CRM delta: changed rows in full (unchanged fields exactly as before), then new sign-ups.
    ch = run.crm_changed_rows
    upd = _customer_frame(run, ch, "crm")
    changes = []
    for j, i in enumerate(ch):
        for col, value in run.crm_updated[int(i)].items():
            old = upd.at[j, CRM_COLUMNS[col]]
            old = old if isinstance(old, str) else None
            if value != old:
                upd.at[j, CRM_COLUMNS[col]] = value
                changes.append((R.customer_id.iat[i], col, old, value))
    run.crm_changes = pd.DataFrame(changes, columns=["customer_id", "column_name", "old_value", "new_value"])
    new_rows = np.flatnonzero((src == "crm") & (sid > run.export_day))
    new_rows = new_rows[np.argsort(R.customer_id.to_numpy()[new_rows], kind="stable")]
    newf = _customer_frame(run, new_rows, "crm")
    upd["_row"] = ch
    newf["_row"] = new_rows
    _write_csv(run, pd.concat([upd, newf], ignore_index=True), out, "crm_customers_update", "utf-8-sig", "\n")
    # The legacy POS member list: GBK, Windows line ends.
    pos_rows = np.flatnonzero(src == "pos")
    pos_rows = pos_rows[np.argsort(R.customer_id.to_numpy()[pos_rows], kind="stable")]
    pos = _customer_frame(run, pos_rows, "pos")
    pos["_row"] = pos_rows
    junk = pos.iloc[rng.choice(len(pos), 1)].copy()
    junk[POS_COLUMNS[run.locale]["customer_id"]] = None
    junk["_row"] = -1
    pos = _insert_rows(pos, junk, rng)
    _write_csv(run, pos, out, "pos_members", "gbk" if run.zh else "utf-8", "\r\n",
                    reject_kind="missing_customer_id")
    # Distributors: an Excel workbook kept by the sales team.
    d_rows = np.flatnonzero(src == "distributor")
    d_rows = d_rows[np.argsort(R.customer_id.to_numpy()[d_rows], kind="stable")]
    D_ = R.iloc[d_rows]
    cols = DIST_COLUMNS[run.locale]
    header = [cols["customer_id"], cols["name"], DIST_EXTRA[run.locale], cols["phone"], cols["email"],
              cols["province"], cols["city"], cols["address"], cols["signup_date"]]
    data = [[v if isinstance(v, str) else None for v in
             (r.customer_id, r.name, r.contact_name, r.phone, r.email, r.province, r.city, r.address)]
            + [pd.Timestamp(run.day_to_date(int(r.signup_day))).to_pydatetime()]
            for r in D_.itertuples()]
    _write_xlsx(out / FILES["distributors"], DIST_SHEET[run.locale], header, data, run.end_date)
    run.files[FILES["distributors"]] = len(data)
    for k, i in enumerate(d_rows):
        run.customer_lines[i] = (FILES["distributors"], k + 2)


def _write_csv(run: Run, f: pd.DataFrame, out: Path, name: str, encoding: str, eol: str,
               reject_kind: str | None = None) -> None:
    """Write one customer file and remember the line of every record (header = line 1)."""
    fname = FILES[name]
    rows = f.pop("_row").to_numpy()
    for line, r in enumerate(rows, start=2):
        if r >= 0:
            run.customer_lines.setdefault(int(r), (fname, line))
            if name == "crm_customers_update":
                run.update_lines[int(r)] = line
        else:
            run.record_rejects.append({"file": fname, "line": line, "defect": f"reject:{reject_kind}"})
    f.to_csv(out / fname, index=False, encoding=encoding, lineterminator=eol)
    run.files[fname] = len(f)


def _write_products(run: Run, out: Path) -> None:
    f = run.products.rename(columns=PRODUCT_COLUMNS)
    f.to_csv(out / FILES["products"], index=False, encoding="utf-8", lineterminator="\n", float_format="%.2f")
    run.files[FILES["products"]] = len(f)


def _write_orders(run: Run, out: Path) -> None:
    O, L = run.O, run.L
    date = np.where(O.written_date.isna().to_numpy(), _fmt_dates(run, O.day.to_numpy()), O.written_date.to_numpy())
    city = run.cities.city.to_numpy()[O.city_idx.to_numpy()]
    f = pd.DataFrame({
        "order_id": O.order_id.to_numpy(), "customer_id": O.customer_id.to_numpy(), "order_date": date,
        "channel": O.channel.map(ORDER_CHANNEL_CODES).to_numpy(),
        "order_type": O.order_type.map(ORDER_TYPE_CODES).to_numpy(),
        "status": O.status.map(ORDER_STATUS_CODES).to_numpy(),
        "original_order_id": O.original_order_id.to_numpy(), "city": city,
    }).rename(columns=ORDER_COLUMNS)
    f.to_csv(out / FILES["orders"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["orders"]] = len(f)
    amount = np.round(L.qty.to_numpy() * L.unit_price.to_numpy(), 2)
    amount_s = np.char.mod("%.2f", amount).astype(object)
    amt_txt = L.amount_text.to_numpy()
    amount_s = np.where(pd.isna(amt_txt), amount_s, amt_txt)
    lf = pd.DataFrame({
        "order_id": L.order_id.to_numpy(), "line_no": L.line_no.to_numpy(), "product_id": L.product_id.to_numpy(),
        "quantity": L.qty.to_numpy(), "unit_price": np.char.mod("%.2f", L.unit_price.to_numpy()).astype(object),
        "amount": amount_s,
    }).rename(columns=LINE_COLUMNS)
    lf.to_csv(out / FILES["order_lines"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["order_lines"]] = len(lf)
    run.L["amount"] = amount


def _write_campaigns(run: Run, out: Path) -> None:
    C = run.campaigns
    labels = CHANNEL_LABELS[run.locale]
    f = pd.DataFrame({
        "campaign_id": C.campaign_id, "campaign_name": C.campaign_name,
        "channel": C.channel.map(labels), "start_date": _fmt_dates(run, C.start_day.to_numpy()),
        "end_date": _fmt_dates(run, C.end_day.to_numpy()), "response_window_days": C.window,
        "cost_per_contact": C.cost_per_contact.map("{:.2f}".format), "offer": C.offer,
    }).rename(columns=CAMPAIGN_COLUMNS)
    f.to_csv(out / FILES["campaigns"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["campaigns"]] = len(f)
    X = run.responses
    cf = pd.DataFrame({
        "campaign_id": X.campaign_id.to_numpy(),
        "customer_id": run.R.customer_id.to_numpy()[X.record.to_numpy()],
        "cell": np.where(X.cell.to_numpy() == "test", "T", "C"),
        "contact_date": _fmt_dates(run, X.contact_day.to_numpy()),
    }).rename(columns=CONTACT_COLUMNS)
    cf.to_csv(out / FILES["contacts"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["contacts"]] = len(cf)


def _write_trigger_campaigns(run: Run, out: Path) -> None:
    """The past trigger campaigns (:mod:`.events`), in the layout of campaigns.csv and contacts.csv."""
    from dbmarketing.events import load_triggers

    C, X = run.trigger_campaigns, run.trigger_contacts
    triggers = load_triggers()
    names = {t.name: (t.label_zh if run.zh else t.label_en) for t in triggers.triggers}
    offers = {t.name: (t.action_zh if run.zh else t.action) for t in triggers.triggers}
    f = pd.DataFrame({
        "campaign_id": C.campaign_id, "campaign_name": C.trigger.map(names),
        "channel": C.channel.map(CHANNEL_LABELS[run.locale]), "start_date": _fmt_dates(run, C.start_day.to_numpy()),
        "end_date": _fmt_dates(run, C.end_day.to_numpy()), "response_window_days": C.window,
        "cost_per_contact": C.cost_per_contact.map("{:.2f}".format), "offer": C.trigger.map(offers),
    }, columns=list(CAMPAIGN_COLUMNS)).rename(columns=CAMPAIGN_COLUMNS)
    f.to_csv(out / FILES["trigger_campaigns"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["trigger_campaigns"]] = len(f)
    cf = pd.DataFrame({
        "campaign_id": X.campaign_id.to_numpy() if len(X) else [],
        "customer_id": run.R.customer_id.to_numpy()[X.record.to_numpy()] if len(X) else [],
        "cell": np.where(X.cell.to_numpy() == "test", "T", "C") if len(X) else [],
        "contact_date": _fmt_dates(run, X.contact_day.to_numpy()) if len(X) else [],
    }, columns=list(CONTACT_COLUMNS)).rename(columns=CONTACT_COLUMNS)
    cf.to_csv(out / FILES["trigger_contacts"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["trigger_contacts"]] = len(cf)


def _write_tickets(run: Run, out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    T = run.T
    types = TICKET_TYPES[run.locale]
    table = pa.table({
        TICKET_COLUMNS["ticket_id"]: pa.array(T.ticket_id.to_list(), pa.string()),
        TICKET_COLUMNS["customer_id"]: pa.array(T.customer_id.to_list(), pa.string(), from_pandas=True),
        TICKET_COLUMNS["opened_date"]: pa.array(run.day_to_date(T.day.to_numpy()), pa.date32()),
        TICKET_COLUMNS["closed_date"]: pa.array(run.day_to_date(T.closed_day.fillna(0).to_numpy()), pa.date32(),
                                                mask=T.closed_day.isna().to_numpy()),
        TICKET_COLUMNS["ticket_type"]: pa.array([types[t] for t in T.ticket_type], pa.string()),
        TICKET_COLUMNS["satisfaction"]: pa.Array.from_pandas(T.satisfaction).cast(pa.int32()),
        TICKET_COLUMNS["resolved"]: pa.array(T.resolved.to_list(), pa.bool_()),
    })
    pq.write_table(table, out / FILES["service_tickets"])
    run.files[FILES["service_tickets"]] = table.num_rows


def _write_suppressions(run: Run, out: Path) -> None:
    S = run.S
    labels = CHANNEL_LABELS[run.locale]
    f = pd.DataFrame({
        "customer_id": S.customer_id, "phone": S.phone, "email": S.email,
        "channel": S.channel.map(labels, na_action="ignore"),
        "reason": [SUPPRESSION_REASONS[k][run.locale] for k in S.kind],
        "added_date": _fmt_dates(run, S.day.to_numpy())}).rename(columns=SUPPRESSION_COLUMNS)
    f.to_csv(out / FILES["do_not_contact"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["do_not_contact"]] = len(f)


def _write_prospects(run: Run, out: Path) -> None:
    """The rented prospect list as its vendor delivers it (zh_CN: GBK, Chinese headers, Windows
    line ends; en_US: UTF-8, English headers), with the rows the loader must reject
    (``run.prospect_rejects``: line, list id, kind), and the ACQ01 export of the campaign tool."""
    rng = np.random.default_rng([run.seed, 16])
    f, loc, zh = run.prospects, run.locale, run.zh
    c = run.cities
    yes, no = YES_NO[loc]
    cust = f.already_customer.to_numpy()

    def phone_text(ph, k):
        if not isinstance(ph, str):
            return None
        if zh:
            return [ph, f"{ph[:3]}-{ph[3:7]}-{ph[7:]}", f"+86 {ph}"][k]
        return [ph, f"({ph[:3]}) {ph[3:6]}-{ph[6:]}", f"{ph[:3]}.{ph[3:6]}.{ph[6:]}"][k]

    style = rng.integers(0, 3, len(f))
    style[~cust] = np.where(rng.random((~cust).sum()) < 0.8, 0, style[~cust])  # strangers mostly plain
    phones = [phone_text(ph, k) for ph, k in zip(f.phone, style)]
    emails = [e.upper() if cu and k == 1 else (e[0].upper() + e[1:] if cu and k == 2 else e)
              for e, cu, k in zip(f.email, cust, style)]
    ci = f.city_idx.to_numpy()
    full = rng.random(len(f)) < 0.4
    city = np.where(full, c.city_full.to_numpy()[ci], c.city.to_numpy()[ci])
    province = np.where(full & zh, c.province_full.to_numpy()[ci], c.province.to_numpy()[ci])
    label = {k: v[0] if zh else v[1] for k, v in VENDORS.items()}
    acquired = pd.to_datetime(f.acquired_date).dt.strftime(PROSPECT_DATE_FORMAT[loc]).to_numpy().astype(object)
    frame = pd.DataFrame({
        "list_id": f.list_id, "list_name": f.vendor.map(label), "name": f.name, "phone": phones, "email": emails,
        "province": province, "city": city, "age_band": f.age_band.map(AGE_LABELS[loc]),
        "gender": f.gender.map(GENDER_LABELS[loc]), "income_band": f.income_band.map(INCOME_LABELS[loc]),
        "channel": f.channel.map(CHANNEL_LABELS[loc]),
        **{f"consent_{k}": _yes_no(f[f"consent_{k}"], yes, no) for k in ("mail", "sms", "email", "phone")},
        "acquired_date": acquired,
    })
    # What cannot be loaded: an impossible date on a row outside ACQ01, two rows without a row id,
    # and a row the vendor delivered twice.
    rejects = []
    outside = np.setdiff1d(np.flatnonzero(~cust), run.acquisition.row.to_numpy())
    bad = int(rng.choice(outside))
    frame.at[bad, "acquired_date"] = "2026/02/30" if zh else "02/30/2026"
    others = np.setdiff1d(np.arange(len(frame)), [bad])
    no_id = frame.iloc[rng.choice(others, 2, replace=False)].copy()
    no_id["list_id"] = None
    twice = frame.iloc[rng.choice(others, 1)].copy()
    frame["_kind"] = None
    frame.at[bad, "_kind"] = "bad_date"
    no_id["_kind"], twice["_kind"] = "missing_list_id", "repeated_row"
    frame = _insert_rows(frame, pd.concat([no_id, twice]), rng)
    kinds = frame.pop("_kind")
    repeated = frame.list_id == twice.list_id.iat[0]  # the later of the two lines is the reject
    kinds[repeated] = None
    kinds[repeated[repeated].index[-1]] = "repeated_row"
    for line, (lid, kind) in enumerate(zip(frame.list_id, kinds), start=2):
        if kind is not None:
            rejects.append((line, lid, kind))
    run.prospect_rejects = pd.DataFrame(rejects, columns=["source_line", "list_id", "kind"])
    frame = frame.rename(columns=PROSPECT_COLUMNS[loc])
    frame.to_csv(out / FILES["prospect_list"], index=False, encoding="gbk" if zh else "utf-8",
                 lineterminator="\r\n" if zh else "\n")
    run.files[FILES["prospect_list"]] = len(frame)
    A = run.acquisition
    a = pd.DataFrame({
        "campaign_id": "ACQ01", "list_id": A.list_id, "cell": np.where(A.cell == "test", "T", "C"),
        "contact_date": _fmt_dates(run, A.contact_day.to_numpy()), "channel": A.channel.map(CHANNEL_LABELS[loc]),
        "cost_per_contact": A.cost_per_contact.map("{:.2f}".format), "response_window_days": ACQ_WINDOW,
        "responded": A.responded.astype(int), "first_order_amount": A.first_order_amount.map("{:.2f}".format).where(
            A.responded, ""),
    }).rename(columns=ACQUISITION_COLUMNS)
    a.to_csv(out / FILES["acquisition_contacts"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["acquisition_contacts"]] = len(a)


def _write_cities(run: Run, out: Path) -> None:
    c = run.cities
    f = pd.DataFrame({"city": c.city, "city_en": c.city_en, "province": c.province, "city_tier": c.tier,
                      "population_m": c.population_m, "income_index": c.income_index})
    f = f.rename(columns=CITY_COLUMNS[run.locale])
    f.to_csv(out / FILES["cities"], index=False, encoding="utf-8", lineterminator="\n")
    run.files[FILES["cities"]] = len(f)


def write_truth(run: Run, db_path) -> None:
    """Replace the schema ``truth`` of ``db_path`` with the truth tables, each described in the catalog."""
    from dbmarketing import warehouse
    from dbmarketing.warehouse import sql

    truth = truth_tables(run)
    con = warehouse.connect(db_path)
    try:
        con.execute("BEGIN")
        sql.run(con, "sample.drop_schema", schema=sql.ident("truth"))
        sql.run(con, "sample.forget_schema_columns", {"schema": "truth"})
        sql.run(con, "sample.forget_schema_tables", {"schema": "truth"})
        sql.run(con, "sample.create_schema", schema=sql.ident("truth"))
        for name, df in truth.items():
            frame = sql.temp_name("truth")
            con.register(frame, df)
            types = sql.run(con, "sample.frame_types", frame=sql.ident(frame)).fetchall()
            con.unregister(frame)
            desc, col_desc = TRUTH_TABLES.get(name, ("", {}))
            missing = [c for c, _ in types if c not in col_desc]
            if not desc or missing:
                raise ValueError(f"truth.{name}: describe the table and its column(s) "
                                 f"{', '.join(missing) or '(none)'} in sample.TRUTH_TABLES (the catalog needs them)")
            table = warehouse.Table(name, desc, tuple(warehouse.Column(c, t, *col_desc[c]) for c, t in types))
            warehouse.write_mart(con, table, df, schema="truth", layer="truth", replace="table", atomic=False)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def _format_iso(iso: np.ndarray, ok: np.ndarray, fmt: str) -> np.ndarray:
    """ISO date strings re-formatted (%Y-%m-%d, %Y%m%d, %Y/%m/%d or %m/%d/%Y); None where not ok."""
    iso = iso.astype(str)
    y = np.array([s[:4] for s in iso], dtype=object)
    m = np.array([s[5:7] for s in iso], dtype=object)
    d = np.array([s[8:10] for s in iso], dtype=object)
    if fmt == "%Y-%m-%d":
        out = iso.astype(object)
    elif fmt == "%Y%m%d":
        out = y + m + d
    elif fmt == "%Y/%m/%d":
        out = y + "/" + m + "/" + d
    elif fmt == "%m/%d/%Y":
        out = m + "/" + d + "/" + y
    else:
        raise ValueError(fmt)
    return np.where(ok, out, None)


def _fmt_dt(values: np.ndarray, fmt: str) -> np.ndarray:
    values = np.asarray(values, dtype="datetime64[D]")
    ok = ~np.isnat(values)
    iso = np.datetime_as_string(np.where(ok, values, np.datetime64("2000-01-01")), unit="D")
    return _format_iso(iso, ok, fmt)


def _yes_no(values, yes: str, no: str) -> np.ndarray:
    return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else (yes if v else no)
                     for v in values], dtype=object)


def _insert_rows(f: pd.DataFrame, extra: pd.DataFrame, rng) -> pd.DataFrame:
    """Insert rows at random places (after a random existing row)."""
    pos = np.concatenate([np.arange(len(f), dtype=float), rng.integers(0, len(f), len(extra)) + 0.5])
    both = pd.concat([f, extra], ignore_index=True)
    return both.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)


def _write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list], stamp: date) -> None:
    """Write a one-sheet workbook reproducibly (fixed document times and zip entry times)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    for cell in ws[1]:
        cell.number_format = "@"
    for row in ws.iter_rows(min_row=2, min_col=len(header), max_col=len(header)):
        row[0].number_format = "yyyy-mm-dd"
    fixed = datetime(stamp.year, stamp.month, stamp.day)
    wb.properties.creator = "dbmarketing sample"
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: replace both.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>",
                              b"<dcterms:modified\\1>" + fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                              + b"</dcterms:modified>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, data)


# The e-mail test export's column map: params/campaigns/email_test.yaml says what each entry means
EMAIL_TEST_MAP = {"encoding": "auto", "group": "segment", "control": "No E-Mail", "responded": "conversion",
                  "also": ["visit"], "spend": "spend", "cost_per_contact": 0.10,
                  "attributes": ["recency", "history_segment", "mens", "womens", "zip_code", "newbie", "channel"]}


def _write_yaml(path: Path, config: dict,
                what: str = "Column map of the sample files (written by dbmarketing.sample.generate)") -> None:
    import yaml

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    text = yaml.dump(config, Dumper=NoAliases, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path.write_text(f"# {what}\n" + text,
                    encoding="utf-8")
