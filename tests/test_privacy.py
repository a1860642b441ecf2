import pandas as pd
import pytest

from dbmarketing import warehouse, privacy


def test_masks_of_each_kind():
    assert privacy.mask_phone("13812345678") == "138****5678"
    assert privacy.mask_phone("+86 138-1234-5678") == "138****5678"  # the national number, not 861...
    assert privacy.mask_phone("0086 13812345678") == "138****5678"
    assert privacy.mask_phone("0755-87654321") == "0755-****4321"  # landline: area code visible
    assert privacy.mask_phone("+86 10 6512 3456") == "010-****3456"
    assert privacy.mask_phone("+1 415 555 1234") == "***"          # not a Chinese number: nothing shown
    assert privacy.mask_id_number("110101199003071234") == "******1990********"
    assert privacy.mask_id_number("110101900307123") == "******1990*******"
    assert privacy.mask_email("john.smith@example.com") == "j***@example.com"
    assert privacy.mask_name("张三丰") == "张**"
    assert privacy.mask_name("John Smith") == "J*** S****"
    assert privacy.mask_birth_date("1990-03-07") == "1990"


@pytest.fixture
def con():
    c = warehouse.connect(":memory:")
    yield c
    c.close()


def frame():
    return pd.DataFrame({
        "customer_id": ["C1", "C2"],
        "name": ["张三", None],
        "phone": ["13812345678", "13900001111"],
        "id_number": ["110101199003071234", None],
        "email": ["a@b.cn", "bob@qq.com"],
        "city": ["北京", "上海"],
        "address": ["朝阳区建国路1号", "浦东新区世纪大道2号"],
        "gender": ["M", "F"],
        "orders": [3, 5],
    })


@pytest.mark.parametrize("clearance, clear_cols", [
    (1, {"customer_id", "city", "orders"}),
    (2, {"customer_id", "city", "orders", "gender"}),
    (3, {"customer_id", "city", "orders", "gender", "name", "phone", "email", "address"}),
    (4, {"customer_id", "city", "orders", "gender", "name", "phone", "email", "address", "id_number"}),
])
def test_mask_frame_follows_catalog_tiers(con, clearance, clear_cols):
    df = frame()
    out = privacy.mask_frame(df, clearance, con=con)
    for col in df.columns:
        same = out[col].astype(object).where(out[col].notna(), None).tolist() == df[col].astype(object).where(df[col].notna(), None).tolist()
        assert same == (col in clear_cols), (clearance, col)
    if clearance < 3:
        assert out.address.tolist() == ["北京", "上海"]  # address to city level
        assert out.phone.tolist() == ["138****5678", "139****1111"]
        assert pd.isna(out.name.tolist()[1])  # missing stays missing
    if clearance < 4:
        assert out.id_number.tolist()[0] == "******1990********"


def test_bad_clearance(con):
    with pytest.raises(ValueError, match="clearance"):
        privacy.mask_frame(frame(), 5, con=con)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_is_masked_by_clearance(con, tmp_path, suffix):
    path = privacy.export_frame(frame(), tmp_path / f"list{suffix}", 2, con=con)
    back = pd.read_csv(path, dtype=str, encoding="utf-8-sig") if suffix == ".csv" else pd.read_excel(path, dtype=str)
    assert back.phone.tolist() == ["138****5678", "139****1111"]
    assert back.address.tolist() == ["北京", "上海"] and back.id_number[0] == "******1990********"
    assert back.orders.tolist() == ["3", "5"]
    clear = privacy.export_frame(frame(), tmp_path / f"clear{suffix}", 4, con=con)
    back = pd.read_csv(clear, dtype=str, encoding="utf-8-sig") if suffix == ".csv" else pd.read_excel(clear, dtype=str)
    assert back.phone.tolist() == ["13812345678", "13900001111"]
    assert not list(tmp_path.glob(".*partial"))


def test_an_xlsx_list_longer_than_a_sheet_goes_on_as_many_sheets(con, tmp_path, monkeypatch):
    """Excel opens no sheet of more than 1,048,576 rows: a longer list is cut into sheets, each
    with the header, and read back sheet after sheet it is the whole list (here a sheet of 4 rows)."""
    from openpyxl import load_workbook
    from dbmarketing.privacy import masks

    assert masks.SHEET_ROWS == 2**20  # Excel's limit
    monkeypatch.setattr(masks, "SHEET_ROWS", 4)
    df = pd.DataFrame({"customer_id": [f"C{i}" for i in range(7)], "orders": range(7)})
    path = privacy.export_frame(df, tmp_path / "long.xlsx", 2, con=con)
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == ["list", "list 2", "list 3"]
    sheets = [list(book[name].iter_rows(values_only=True)) for name in book.sheetnames]
    assert [len(rows) for rows in sheets] == [4, 4, 2]
    assert all(rows[0] == ("customer_id", "orders") for rows in sheets)
    assert [row for rows in sheets for row in rows[1:]] == list(df.itertuples(index=False, name=None))
    one = privacy.export_frame(df.head(3), tmp_path / "short.xlsx", 2, con=con)  # fits: one sheet, as before
    assert load_workbook(one, read_only=True).sheetnames == ["list"]


def test_masking_twice_changes_nothing(con):
    """A frame masked once (e.g. an export as written) shows the same when masked again:
    a masked phone is not parsed again into '***'."""
    assert privacy.mask_phone("156****9302") == "156****9302"
    assert privacy.mask_phone("0755-****4321") == "0755-****4321"
    assert privacy.mask_phone("0571-***8888") == "0571-***8888"
    assert privacy.mask_phone(privacy.mask_phone("0571-8888888")) == "0571-***8888"  # 7-digit local number
    assert privacy.mask_phone("138****567") == "***"  # not the form mask_phone writes, not a number either
    df = frame().assign(birth_date=["1990-03-07", None], phone=["13812345678", "010-65123456"])
    for clearance in (1, 2, 3):
        once = privacy.mask_frame(df, clearance, con=con)
        twice = privacy.mask_frame(once, clearance, con=con)
        pd.testing.assert_frame_equal(twice, once)
    assert privacy.mask_frame(df, 2, con=con).phone.tolist() == ["138****5678", "010-****3456"]


def test_defuse_follows_owasp_and_leaves_numbers_alone():
    assert privacy.defuse('=HYPERLINK("http://evil.example","x")') == '\'=HYPERLINK("http://evil.example","x")'
    assert [privacy.defuse(v) for v in ("+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1")] == [
        "'+1+1", "'-1+1", "'@SUM(A1)", "'\t=1", "'\r=1"]
    assert [privacy.defuse(v) for v in ("-12.5", "+8613812345678", "1e5", "张三", "a=b", 3, None)] == [
        "-12.5", "+8613812345678", "1e5", "张三", "a=b", 3, None]


def test_birth_date_mask_reads_every_form_alike():
    """The fast path for ISO text gives what pandas' parser gives, and masking twice changes nothing."""
    from datetime import date, datetime

    for value in ("1990-03-07", " 1990-03-07 ", "19900307", "1990-03-07 08:30:00", "07.03.1990", date(1990, 3, 7),
                  datetime(1990, 3, 7, 8, 30), pd.Timestamp("1990-03-07"), "1990"):
        assert privacy.mask_birth_date(value) == "1990", value
    for value in (pd.NaT, "garbage", "1990-02-30"):
        assert privacy.mask_birth_date(value) == "***", value
