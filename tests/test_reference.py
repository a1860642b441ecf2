"""The shipped city reference, checked against facts published independently of the files."""

import pandas as pd
import pytest

from dbmarketing import cleanse
from dbmarketing.warehouse import MODEL
from dbmarketing.cleanse import PROVINCES


@pytest.fixture(scope="module")
def divisions():
    return cleanse.reference._divisions()


@pytest.fixture(scope="module")
def cities():
    return cleanse.china_cities()


def test_prefecture_level_counts_match_the_published_statistics(divisions):
    # Ministry of Civil Affairs, 中华人民共和国行政区划统计表 (as of 2023-12-31) and the NBS
    # 2023 division codes that china-division 2.7.0 carries: 333 prefecture-level divisions,
    # of which 293 地级市, 7 地区, 30 自治州, 3 盟. Counted here from the official names.
    prefecture = divisions[divisions.adcode.str.match(r"^\d{4}00$") & ~divisions.adcode.str.endswith("0000")]
    assert len(prefecture) == 333
    kinds = prefecture.city_full.str.extract(r"(自治州|地区|盟|市)$")[0].value_counts().to_dict()
    assert kinds == {"市": 293, "地区": 7, "自治州": 30, "盟": 3}
    municipalities = divisions[divisions.adcode.str.endswith("0000")]
    assert sorted(municipalities.city) == sorted(["北京", "天津", "上海", "重庆"])


def test_county_level_cities_under_provinces(divisions):
    # NBS codes 4690xx: Hainan's directly administered county-level cities
    hainan = divisions[divisions.adcode.str.startswith("4690")]
    assert set(hainan.city) == {"五指山", "琼海", "文昌", "万宁", "东方"}
    assert set(divisions[divisions.adcode.str.startswith("4290")].city) == {"仙桃", "潜江", "天门"}
    assert divisions.set_index("city").loc["济源", "province"] == "河南"


def test_columns_are_the_model_cities_table(cities):
    assert list(cities.columns) == [c.name for c in MODEL["cities"].columns]
    assert cities.city_tier.dtype == "Int64"
    assert cities.population_m.dtype == float and cities.income_index.dtype == float
    assert cities.population_m.isna().all()


def test_names_unique_and_provinces_known(cities, divisions):
    assert not cities.duplicated(["city", "province"]).any()
    assert not cities.city.duplicated().any()
    assert set(cities.province) <= set(PROVINCES)
    assert set(PROVINCES) <= set(cities.province)  # all 31 mainland provinces, plus HK, Macau, Taiwan
    assert divisions.set_index("city").loc["延边", "city_full"] == "延边朝鲜族自治州"
    assert divisions.set_index("city").loc["锡林郭勒", "city_full"] == "锡林郭勒盟"


def test_suzhou_and_suzhou(cities):
    by_city = cities.set_index("city")
    assert by_city.loc["苏州", "province"] == "江苏"
    assert by_city.loc["宿州", "province"] == "安徽"
    assert by_city.loc["苏州", "city_en"] == by_city.loc["宿州", "city_en"] == "Suzhou"
    assert by_city.loc["西安", "city_en"] == "Xi'an"


def test_tiers_of_the_ranking(cities):
    by_city = cities.set_index("city").city_tier
    assert all(by_city[c] == 1 for c in ["北京", "上海", "广州", "深圳"])
    assert by_city["成都"] == 2 and by_city["苏州"] == 2
    # the 2025 ranking places the 337 prefecture-level-and-above cities of the mainland:
    # 4 一线, 15 新一线, 30 二线, 70 三线, 90 四线, 128 五线
    assert cities.city_tier.value_counts().sort_index().tolist() == [4, 15, 30, 70, 90, 128]
    assert pd.isna(by_city["济源"]) and pd.isna(by_city["香港"])


def test_user_file_overrides_a_tier(tmp_path):
    f = tmp_path / "tiers.csv"
    f.write_text("city,city_tier\n宿州,2\n昆山,三线\n", encoding="utf-8")
    tiers = cleanse.city_tiers(f).set_index("city").city_tier
    assert tiers["宿州"] == 2 and tiers["昆山"] == 4 and tiers["南京"] == 2
    by_city = cleanse.china_cities(tiers=f).set_index("city").city_tier
    assert by_city["宿州"] == 2 and by_city["苏州"] == 2 and by_city["北京"] == 1


def test_gbk_user_file(tmp_path):
    f = tmp_path / "tiers_gbk.csv"
    f.write_bytes("city,city_tier\n宿州市,新一线城市\n延边朝鲜族自治州,4\n".encode("gbk"))
    tiers = cleanse.city_tiers(f).set_index("city").city_tier
    assert tiers["宿州"] == 2 and tiers["延边"] == 4


def test_utf8_bom_user_file(tmp_path):
    f = tmp_path / "tiers_bom.csv"
    f.write_text("city,city_tier\n宿州,1\n", encoding="utf-8-sig")
    assert cleanse.city_tiers(f).set_index("city").city_tier["宿州"] == 1


@pytest.mark.parametrize("bad", ["7", "二点五线", "2.5"])
def test_bad_tier_names_file_line_and_column(tmp_path, bad):
    f = tmp_path / "bad.csv"
    f.write_text(f"city,city_tier\n苏州,1\n宿州,{bad}\n", encoding="utf-8")
    with pytest.raises(ValueError) as e:
        cleanse.city_tiers(f)
    msg = str(e.value)
    assert "\n" not in msg
    assert str(f) in msg and "line 3" in msg and "column 2 (city_tier)" in msg


def test_bad_header(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("城市,等级\n苏州,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        cleanse.city_tiers(f)
