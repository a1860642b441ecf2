"""Standardization of single values, on hand-checked cases."""

from datetime import date

import pytest

from dbmarketing import standardize as st


def check_char(first17):
    """Independent ISO 7064 MOD 11-2: the check character is the one making sum(a_i * 2^(17-i)) = 1 mod 11."""
    for c in "0123456789X":
        v = 10 if c == "X" else int(c)
        if (sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17)) + v) % 11 == 1:
            return c


# the example number of GB 11643-1999 and numbers built from it
@pytest.mark.parametrize("first17", ["11010519491231002", "44030119800101001", "51010819920229005", "32010219670313123"])
def test_check_char_matches_the_definition(first17):
    assert st.id_check_char(first17) == check_char(first17)


def test_published_example():
    # GB 11643-1999 appendix example: 11010519491231002X
    assert st.id_check_char("11010519491231002") == "X"
    ok = st.parse_id_number("11010519491231002x")
    assert ok.value == "11010519491231002X" and ok.birth_date == date(1949, 12, 31) and ok.gender == "F"
    assert ok.problem is None and not ok.upgraded


def test_upgrade_15_to_18():
    # 15 digits: region 110105, born 491231, sequence 002 (even: female)
    up = st.parse_id_number("110105491231002")
    assert up.upgraded and up.value == "11010519491231002X" and up.gender == "F"
    assert up.birth_date == date(1949, 12, 31)
    # the same person in both forms is one number after upgrading
    assert st.parse_id_number("110105491231002").value == st.parse_id_number("11010519491231002X").value


@pytest.mark.parametrize("raw, problem", [
    ("110105194912310021", "check digit"),
    ("11010519491331002X", "impossible birth date"),
    ("1101051949123100", "not 15 or 18 digits"),
    ("", "missing"),
    (None, "missing"),
])
def test_invalid_ids_are_flagged(raw, problem):
    r = st.parse_id_number(raw)
    assert r.value is None and problem in r.problem


def test_full_width_id():
    assert st.parse_id_number("１１０１０５１９４９１２３１００２Ｘ").value == "11010519491231002X"


@pytest.mark.parametrize("raw, expected, kind", [
    ("13812345678", "13812345678", "mobile"),
    ("+86 138 1234 5678", "13812345678", "mobile"),
    ("0086-138-1234-5678", "13812345678", "mobile"),
    ("8613812345678", "13812345678", "mobile"),
    ("138-1234-5678", "13812345678", "mobile"),
    ("１３８１２３４５６７８", "13812345678", "mobile"),
    ("010-12345678", "010-12345678", "landline"),
    ("(0755) 8765 4321", "0755-87654321", "landline"),
    ("+86 10 1234 5678", "010-12345678", "landline"),
])
def test_phones(raw, expected, kind):
    p = st.parse_phone(raw)
    assert (p.value, p.kind, p.problem) == (expected, kind, None)


@pytest.mark.parametrize("raw, problem", [
    ("1381234567", "not a mobile or landline"),     # 10 digits
    ("12012345678", "prefix 120"),                   # no such mobile prefix
    ("62345678", "without area code"),
    ("138abc45678", "other than digits"),
])
def test_invalid_phones_are_flagged_not_guessed(raw, problem):
    p = st.parse_phone(raw)
    assert p.value is None and problem in p.problem


def test_emails():
    assert st.parse_email(" John.Smith@Example.COM ") == st.Email("john.smith@example.com", None)
    assert st.parse_email("ａｂｃ＠qq.com").value == "abc@qq.com"
    typo = st.parse_email("li@gmial.com")
    assert typo.value == "li@gmial.com" and "gmail.com" in typo.problem
    assert st.parse_email("li@qq.con").problem == "domain typo? qq.con -> qq.com"
    for typo, meant in [("126.co", "126.com"), ("outlok.com", "outlook.com"), ("foxmai.com", "foxmail.com"),
                        ("gmail.cmo", "gmail.com"), ("163.cm", "163.com")]:
        assert st.parse_email(f"x@{typo}").problem == f"domain typo? {typo} -> {meant}"
    for fine in ("x@qq.com", "x@company.com.cn", "x@pku.edu.cn", "x@vip.qq.com", "x@139.com"):
        assert st.parse_email(fine).problem is None, fine
    for bad in ("li.qq.com", "li@", "@qq.com", "li@qq", "li wang@qq.com"):
        assert st.parse_email(bad).value is None, bad


def test_edit_distance():
    assert st.edit_distance("qq.com", "qq.con") == 1
    assert st.edit_distance("gmail.com", "gmial.com") == 1  # a swap is one edit
    assert st.edit_distance("abc", "abc") == 0 and st.edit_distance("kitten", "sitting") == 3


def test_names():
    assert st.standard_name("  张  三 ") == "张三"
    assert st.standard_name("ＪＯＨＮ   smith") == "John Smith"
    assert st.standard_name("   ") is None


@pytest.mark.parametrize("raw", ["北京", "北京市", "Beijing", "BEIJING", "ｂｅｉｊｉｎｇ", " 北京市 "])
def test_province_variants(raw):
    assert st.standard_province(raw) == "北京"


def test_provinces_other():
    assert st.standard_province("广西壮族自治区") == "广西"
    assert st.standard_province("Inner Mongolia") == "内蒙古"
    assert st.standard_province("Atlantis") is None


def test_city_key():
    assert st.city_key("北京市") == st.city_key("北京") == "北京"
    assert st.city_key("Shenzhen City") == st.city_key("shenzhen") == "shenzhen"
