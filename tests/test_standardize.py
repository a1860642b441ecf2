"""Standardization of single values, on hand-checked cases."""

import re
from datetime import date

import pytest

from dbmarketing import cleanse


def check_char(first17):
    """Independent ISO 7064 MOD 11-2: the check character is the one making sum(a_i * 2^(17-i)) = 1 mod 11."""
    for c in "0123456789X":
        v = 10 if c == "X" else int(c)
        if (sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17)) + v) % 11 == 1:
            return c


# the example number of GB 11643-1999 and numbers built from it
@pytest.mark.parametrize("first17", ["11010519491231002", "44030119800101001", "51010819920229005", "32010219670313123"])
def test_check_char_matches_the_definition(first17):
    assert cleanse.id_check_char(first17) == check_char(first17)


def test_published_example():
    # GB 11643-1999 appendix example: 11010519491231002X
    assert cleanse.id_check_char("11010519491231002") == "X"
    ok = cleanse.parse_id_number("11010519491231002x")
    assert ok.value == "11010519491231002X" and ok.birth_date == date(1949, 12, 31) and ok.gender == "F"
    assert ok.problem is None and not ok.upgraded


def test_upgrade_15_to_18():
    # 15 digits: region 110105, born 491231, sequence 002 (even: female)
    up = cleanse.parse_id_number("110105491231002")
    assert up.upgraded and up.value == "11010519491231002X" and up.gender == "F"
    assert up.birth_date == date(1949, 12, 31)
    # the same person in both forms is one number after upgrading
    assert cleanse.parse_id_number("110105491231002").value == cleanse.parse_id_number("11010519491231002X").value


# A problem text names a kind of problem: no run of three or more digits (a number, a prefix, a
# date), no '@', no domain name. The specifics go to `detail`.
VALUE_LIKE = re.compile(r"\d{3,}|@|[a-z0-9-]+\.[a-z]{2,}", re.IGNORECASE)


@pytest.mark.parametrize("raw, problem, detail", [
    # the check character of 11010519491231002 is X (the GB 11643 example)
    ("110105194912310021", "wrong check digit", "check digit 1 should be X"),
    ("11010519491331002X", "impossible birth date in the number", "birth date digits 19491331"),  # month 13
    ("11010519490230002X", "impossible birth date in the number", "birth date digits 19490230"),  # 30 February
    ("1101051949123100", "not 15 or 18 digits", "16 characters"),
    ("", "missing", None),
    (None, "missing", None),
])
def test_invalid_ids_are_flagged(raw, problem, detail):
    r = cleanse.parse_id_number(raw)
    assert (r.value, r.problem, r.detail) == (None, problem, detail)
    assert not VALUE_LIKE.search(r.problem)


def test_region_code_must_be_a_province():
    # 000000 and 990105 are no GB/T 2260 region; check characters computed with check_char above
    for first17 in ("00000019900307123", "99010519491231002"):
        r = cleanse.parse_id_number(first17 + check_char(first17))
        assert (r.value, r.problem) == (None, "region code is not a province code")
        assert r.detail == f"region code {first17[:6]} (GB/T 2260)"
    # 83 (residence permit of Taiwan residents) and 81 (Hong Kong) are valid province codes
    for first17 in ("83000019900307123", "81000019850101001"):
        assert cleanse.parse_id_number(first17 + check_char(first17)).problem is None
    # a 15-digit number is checked too: 000000 + 900307 + 123
    r = cleanse.parse_id_number("000000900307123")
    assert r.problem == "region code is not a province code" and "000000" in r.detail


def test_birth_date_must_be_between_1900_and_the_reference_date():
    too_early_or_late = "birth date in the number is too early or after the as-of date"
    assert check_char("11010520991231002") == "9"
    future = cleanse.parse_id_number("110105209912310029")  # born 2099-12-31, correct check digit
    assert future.value is None and future.problem == too_early_or_late and "2099-12-31" in future.detail
    old = "11010518991231002"  # born 1899
    r = cleanse.parse_id_number(old + check_char(old))
    assert r.value is None and r.problem == too_early_or_late and r.detail.startswith("birth date 1899-12-31")
    born_2020 = "11010520200101001"
    number = born_2020 + check_char(born_2020)
    assert cleanse.parse_id_number(number, as_of=date(2020, 1, 1)).birth_date == date(2020, 1, 1)
    late = cleanse.parse_id_number(number, as_of=date(2019, 12, 31))
    assert late.problem == too_early_or_late
    assert late.detail == "birth date 2020-01-01, allowed 1900-01-01 to 2019-12-31"


def test_full_width_id():
    assert cleanse.parse_id_number("１１０１０５１９４９１２３１００２Ｘ").value == "11010519491231002X"


@pytest.mark.parametrize("raw, expected, kind", [
    ("13812345678", "13812345678", "mobile"),
    ("+86 138 1234 5678", "13812345678", "mobile"),
    ("0086-138-1234-5678", "13812345678", "mobile"),
    ("8613812345678", "13812345678", "mobile"),
    ("138-1234-5678", "13812345678", "mobile"),
    ("１３８１２３４５６７８", "13812345678", "mobile"),
    # newer segments: 5G (190, 192, 196, 197), virtual operators (162, 165, 167, 170, 171),
    # satellite (174), data cards (145-149)
    ("19212345678", "19212345678", "mobile"),
    ("19712345678", "19712345678", "mobile"),
    ("16212345678", "16212345678", "mobile"),
    ("17012345678", "17012345678", "mobile"),
    ("17412345678", "17412345678", "mobile"),
    ("14512345678", "14512345678", "mobile"),
    ("010-65123456", "010-65123456", "landline"),
    ("(0755) 8765 4321", "0755-87654321", "landline"),
    ("0571-8888888", "0571-8888888", "landline"),           # 4-digit area codes: 7 digits still exist
    ("+86 10 6512 3456", "010-65123456", "landline"),       # trunk 0 dropped abroad, put back
    ("+86-(0)10-65123456", "010-65123456", "landline"),     # trunk 0 written in brackets: not doubled
    ("0086 21 6321 5678", "021-63215678", "landline"),
])
def test_phones(raw, expected, kind):
    p = cleanse.parse_phone(raw)
    assert (p.value, p.kind, p.problem) == (expected, kind, None)


FOREIGN = "foreign number (country code other than +86): not checked"
LOCAL_LENGTH = "local number too long or too short for its area code"


@pytest.mark.parametrize("raw, problem, detail", [
    ("1381234567", "not a mobile or landline number (wrong number of digits)", "10 digits"),
    ("12012345678", "mobile prefix does not exist", "mobile prefix 120"),   # no such mobile prefix
    ("14012345678", "mobile prefix does not exist", "mobile prefix 140"),   # 140: 13-digit IoT numbers only
    ("15412345678", "mobile prefix does not exist", "mobile prefix 154"),   # never assigned
    ("19412345678", "mobile prefix does not exist", "mobile prefix 194"),   # never assigned
    ("+1 415 555 1234", FOREIGN, None),           # a US number is not a Chinese mobile
    ("001 415 555 1234", FOREIGN, None),
    ("+852 2123 4567", FOREIGN, None),            # Hong Kong numbers are outside the mainland plan
    ("010-6512345", LOCAL_LENGTH, "8 digits, not 7"),   # Beijing local numbers have 8 digits
    ("021-636123456", LOCAL_LENGTH, "8 digits, not 9"),
    ("0755-876543", LOCAL_LENGTH, "7 or 8 digits, not 6"),
    ("026-12345678", "area code does not exist", "area code 026"),  # 026 is not an area code
    ("010-12345678", "local number starts with 0 or 1", "cannot start with 1"),  # local numbers start with 2-9
    ("62345678", "landline without area code", "8 digits"),
    ("138abc45678", "contains characters other than digits", None),
])
def test_invalid_phones_are_flagged_not_guessed(raw, problem, detail):
    p = cleanse.parse_phone(raw)
    assert (p.value, p.kind, p.problem) == (None, None, problem)
    assert p.detail == detail if detail is None else detail in p.detail
    assert not VALUE_LIKE.search(p.problem)


def test_emails():
    assert cleanse.parse_email(" John.Smith@Example.COM ") == cleanse.Email("john.smith@example.com", None)
    assert cleanse.parse_email("ａｂｃ＠qq.com").value == "abc@qq.com"
    typo = cleanse.parse_email("li@gmial.com")
    assert typo == cleanse.Email("li@gmial.com", "domain looks like a typo of a common domain", "gmial.com -> gmail.com")
    assert cleanse.parse_email("li@qq.con").detail == "qq.con -> qq.com"
    for typo, meant in [("126.co", "126.com"), ("outlok.com", "outlook.com"), ("foxmai.com", "foxmail.com"),
                        ("gmail.cmo", "gmail.com"), ("163.cm", "163.com")]:
        found = cleanse.parse_email(f"x@{typo}")
        assert (found.problem, found.detail) == ("domain looks like a typo of a common domain", f"{typo} -> {meant}")
        assert not VALUE_LIKE.search(found.problem)
    for fine in ("x@qq.com", "x@company.com.cn", "x@pku.edu.cn", "x@vip.qq.com", "x@139.com"):
        assert cleanse.parse_email(fine).problem is None, fine
    for bad in ("li.qq.com", "li@", "@qq.com", "li@qq", "li wang@qq.com"):
        assert cleanse.parse_email(bad).value is None, bad


@pytest.mark.parametrize("real", ["mail.com", "email.com", "ymail.com", "live.cn", "outlook.cn", "sohu.cn",
                                  "139.cn", "yahoo.cn"])
def test_real_domains_near_common_ones_are_not_typos(real):
    # each is one or two edits from a common domain (gmail.com, live.com, outlook.com, sohu.com, 189.cn, yahoo.com)
    assert cleanse.parse_email(f"x@{real}") == cleanse.Email(f"x@{real}", None)


@pytest.mark.parametrize("bad", ["a..b@qq.com", ".a@qq.com", "a.@qq.com", "a@-qq.com", "a@qq-.com",
                                 "a@qq..com", "a@.qq.com", "a@qq.c0m", "a@qq.123", "a" * 65 + "@qq.com"])
def test_email_syntax(bad):
    assert cleanse.parse_email(bad) == cleanse.Email(None, "invalid e-mail syntax")


def test_email_syntax_accepts_ordinary_forms():
    for fine in ("a.b@qq.com", "a_b-c+tag@my-site.com.cn", "a@mail.sub.example.org", "1234567@qq.com"):
        assert cleanse.parse_email(fine) == cleanse.Email(fine, None), fine


def test_edit_distance():
    assert cleanse.edit_distance("qq.com", "qq.con") == 1
    assert cleanse.edit_distance("gmail.com", "gmial.com") == 1  # a swap is one edit
    assert cleanse.edit_distance("abc", "abc") == 0 and cleanse.edit_distance("kitten", "sitting") == 3


@pytest.mark.parametrize("raw, expected", [
    ("  张  三 ", "张三"),
    ("ＪＯＨＮ   ＳＭＩＴＨ", "John Smith"),             # full-width, all upper case
    ("john smith", "John Smith"),                     # all lower case
    ("ZHANG SAN", "Zhang San"),
    ("LI DA", "Li Da"),                               # a pinyin syllable is no particle
    ("LUDWIG VAN BEETHOVEN", "Ludwig van Beethoven"),  # particles stay lower case ...
    ("van der berg", "Van der Berg"),                 # ... except as the first word
    ("McDonald", "McDonald"),                         # mixed case is kept as written
    ("van der Berg", "van der Berg"),
    ("JOHN smith", "JOHN smith"),
    ("Smith LLC", "Smith LLC"),
    ("o'brien", "O'Brien"),
    ("张三 John", "张三 John"),                        # a space between Chinese and Latin words stays
    ("张三 JOHN", "张三 John"),
    ("阿沛 · 阿旺晋美", "阿沛·阿旺晋美"),
])
def test_names(raw, expected):
    assert cleanse.standard_name(raw) == expected


def test_empty_name():
    assert cleanse.standard_name("   ") is None and cleanse.standard_name(None) is None


@pytest.mark.parametrize("raw", ["北京", "北京市", "Beijing", "BEIJING", "ｂｅｉｊｉｎｇ", " 北京市 ", "北京 市",
                                 "Beijing City", "Beijing Municipality", "Beijing Shi"])
def test_province_variants(raw):
    assert cleanse.standard_province(raw) == "北京"


@pytest.mark.parametrize("raw, expected", [
    ("广西壮族自治区", "广西"),
    ("Guangxi Zhuang Autonomous Region", "广西"),
    ("广西自治区", "广西"),
    ("Inner Mongolia", "内蒙古"),
    ("Inner Mongolia Autonomous Region", "内蒙古"),
    ("內蒙古", "内蒙古"),                       # traditional characters
    ("內蒙古自治區", "内蒙古"),
    ("黑龍江省", "黑龙江"),
    ("廣東省", "广东"),
    ("臺灣", "台湾"),
    ("香港特別行政區", "香港"),
    ("Hong Kong SAR", "香港"),
    ("Macao Special Administrative Region", "澳门"),
    ("Xinjiang Uyghur Autonomous Region", "新疆"),
    ("Ningxia Hui Autonomous Region", "宁夏"),
    ("Shaanxi Province", "陕西"),
    ("Shanxi", "山西"),
    ("Atlantis", None),
    ("苏州市", None),                            # a city is not a province
])
def test_provinces_other(raw, expected):
    assert cleanse.standard_province(raw) == expected


def test_city_key():
    assert cleanse.city_key("北京市") == cleanse.city_key("北京") == "北京"
    assert cleanse.city_key("Shenzhen City") == cleanse.city_key("shenzhen") == "shenzhen"
    assert cleanse.city_key("Xi'an") == cleanse.city_key("XIAN") == cleanse.city_key("Xi’an") == "xian"
    assert cleanse.city_key("Ürümqi") == cleanse.city_key("Urumqi") == "urumqi"
