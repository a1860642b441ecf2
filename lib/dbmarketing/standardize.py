"""Standardize one value at a time: names, phones, e-mails, provinces and resident ID numbers.

Pure functions, no database: :mod:`dbmarketing.clean` applies them to whole columns (once
per distinct value) and records what changed. A value that cannot be made valid is
*flagged*, never guessed: the standard form is then empty and the finding says why.

Resident identity numbers (GB 11643-1999):

1. An 18-digit number is a 6-digit region code, the birth date YYYYMMDD, a 3-digit
   sequence (odd for men, even for women) and a check character.
2. The check character is ISO 7064 MOD 11-2: sum of digit_i x weight_i with weights
   7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, and "10X98765432"[sum mod 11].
3. A 15-digit legacy number (issued before 1999) is the same without the century "19" and
   without the check character; upgrading inserts "19" and computes the check character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to their ordinary (half-width) forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


# ---------------------------------------------------------------- resident ID numbers
def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


@dataclass(frozen=True)
class IdNumber:
    value: str | None        # the 18-digit standard form, or None when invalid
    birth_date: date | None
    gender: str | None       # "M" or "F"
    upgraded: bool           # True when it came as a 15-digit legacy number
    problem: str | None      # why it is invalid


def parse_id_number(raw) -> IdNumber:
    """Validate (and upgrade from 15 digits) a resident ID number."""
    if raw is None or str(raw).strip() == "":
        return IdNumber(None, None, None, False, "missing")
    s = halfwidth(str(raw)).strip().upper().replace(" ", "")
    upgraded = False
    if re.fullmatch(r"\d{15}", s):
        s17 = s[:6] + "19" + s[6:]
        s = s17 + id_check_char(s17)
        upgraded = True
    elif not re.fullmatch(r"\d{17}[\dX]", s):
        return IdNumber(None, None, None, False, f"not 15 or 18 digits ({len(s)} characters)")
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return IdNumber(None, None, None, upgraded, f"impossible birth date {s[6:14]}")
    if not upgraded and s[17] != id_check_char(s[:17]):
        return IdNumber(None, None, None, False, f"check digit {s[17]} should be {id_check_char(s[:17])}")
    gender = "M" if int(s[16]) % 2 == 1 else "F"
    return IdNumber(s, born, gender, upgraded, None)


# ---------------------------------------------------------------- phones
MOBILE = re.compile(r"1[3-9]\d{9}")
LANDLINE = re.compile(r"0(10|2\d|[3-9]\d{2})(\d{7,8})")


@dataclass(frozen=True)
class Phone:
    value: str | None   # 13812345678 for mobiles, 010-12345678 for landlines; None if invalid
    kind: str | None    # mobile, landline
    problem: str | None


def parse_phone(raw) -> Phone:
    """Chinese mobiles to 11 digits (dropping +86 / 0086 and spacing), landlines to area-number."""
    if raw is None or str(raw).strip() == "":
        return Phone(None, None, "missing")
    s = halfwidth(str(raw)).strip()
    digits = re.sub(r"[\s\-().]", "", s)
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isdigit():
        return Phone(None, None, "contains characters other than digits")
    country_code = False
    if digits.startswith("0086"):
        digits, country_code = digits[4:], True
    elif digits.startswith("86") and len(digits) >= 12:  # domestic numbers start with 0 or 1
        digits, country_code = digits[2:], True
    if country_code and not (len(digits) == 11 and digits.startswith("1")):
        digits = "0" + digits  # +86 10 12345678: the trunk 0 of the area code is dropped abroad
    if len(digits) == 11 and digits.startswith("1"):
        if MOBILE.fullmatch(digits):
            return Phone(digits, "mobile", None)
        return Phone(None, None, f"mobile prefix {digits[:3]} does not exist")
    m = LANDLINE.fullmatch(digits)
    if m:
        return Phone(f"0{m.group(1)}-{m.group(2)}", "landline", None)
    if not digits.startswith("0") and not digits.startswith("1") and len(digits) in (7, 8):
        return Phone(None, None, "landline without area code")
    return Phone(None, None, f"{len(digits)} digits is not a mobile or landline number")


# ---------------------------------------------------------------- e-mail
EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}")
# Common mailbox domains in China and abroad. A domain that is not one of them but is one or
# two edits away from one (qq.con, 126.co, outlok.com) is a likely typo.
COMMON_DOMAINS = (
    "qq.com", "163.com", "126.com", "sina.com", "sina.cn", "sohu.com", "foxmail.com", "139.com", "189.cn",
    "aliyun.com", "yeah.net", "21cn.com", "tom.com", "gmail.com", "hotmail.com", "outlook.com", "live.com",
    "yahoo.com", "icloud.com", "msn.com",
)


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), capped at ``limit``."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2, prev = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[-1], limit)


def likely_domain(domain: str) -> str | None:
    """The common domain that ``domain`` is probably a typo of, or None."""
    if domain in COMMON_DOMAINS:
        return None
    best = min(COMMON_DOMAINS, key=lambda d: edit_distance(domain, d))
    allowed = 1 if len(best) <= 7 else 2
    return best if edit_distance(domain, best) <= allowed else None


@dataclass(frozen=True)
class Email:
    value: str | None      # lower-case, syntax-checked; None when invalid
    problem: str | None    # invalid syntax, or a likely domain typo (the value is then kept, flagged)


def parse_email(raw) -> Email:
    if raw is None or str(raw).strip() == "":
        return Email(None, "missing")
    s = halfwidth(str(raw)).strip().lower()
    if not EMAIL.fullmatch(s):
        return Email(None, "invalid e-mail syntax")
    domain = s.rsplit("@", 1)[1]
    suggestion = likely_domain(domain)
    if suggestion:
        return Email(s, f"domain typo? {domain} -> {suggestion}")
    return Email(s, None)


# ---------------------------------------------------------------- names
CJK = re.compile(r"[\u3400-\u9fff]")


def standard_name(raw) -> str | None:
    """Trim, collapse spaces, full-width to half-width; Latin names in title case; no spaces inside Chinese names."""
    if raw is None:
        return None
    s = " ".join(halfwidth(str(raw)).split())
    if not s:
        return None
    if CJK.search(s):
        return s.replace(" ", "")
    return s.title()


# ---------------------------------------------------------------- provinces
# canonical short name: (full official name, pinyin)
PROVINCES = {
    "北京": ("北京市", "Beijing"), "天津": ("天津市", "Tianjin"), "上海": ("上海市", "Shanghai"),
    "重庆": ("重庆市", "Chongqing"), "河北": ("河北省", "Hebei"), "山西": ("山西省", "Shanxi"),
    "辽宁": ("辽宁省", "Liaoning"), "吉林": ("吉林省", "Jilin"), "黑龙江": ("黑龙江省", "Heilongjiang"),
    "江苏": ("江苏省", "Jiangsu"), "浙江": ("浙江省", "Zhejiang"), "安徽": ("安徽省", "Anhui"),
    "福建": ("福建省", "Fujian"), "江西": ("江西省", "Jiangxi"), "山东": ("山东省", "Shandong"),
    "河南": ("河南省", "Henan"), "湖北": ("湖北省", "Hubei"), "湖南": ("湖南省", "Hunan"),
    "广东": ("广东省", "Guangdong"), "海南": ("海南省", "Hainan"), "四川": ("四川省", "Sichuan"),
    "贵州": ("贵州省", "Guizhou"), "云南": ("云南省", "Yunnan"), "陕西": ("陕西省", "Shaanxi"),
    "甘肃": ("甘肃省", "Gansu"), "青海": ("青海省", "Qinghai"), "台湾": ("台湾省", "Taiwan"),
    "内蒙古": ("内蒙古自治区", "Inner Mongolia"), "广西": ("广西壮族自治区", "Guangxi"),
    "西藏": ("西藏自治区", "Tibet"), "宁夏": ("宁夏回族自治区", "Ningxia"),
    "新疆": ("新疆维吾尔自治区", "Xinjiang"), "香港": ("香港特别行政区", "Hong Kong"),
    "澳门": ("澳门特别行政区", "Macau"),
}


def _variants(short: str, full: str, pinyin: str) -> dict[str, str]:
    keys = {short, full, pinyin.lower(), pinyin.lower().replace(" ", ""), pinyin.lower() + " province",
            pinyin.lower() + " shi", pinyin.lower() + " sheng"}
    return {k: short for k in keys}


PROVINCE_VARIANTS: dict[str, str] = {}
for _short, (_full, _pinyin) in PROVINCES.items():
    PROVINCE_VARIANTS.update(_variants(_short, _full, _pinyin))
PROVINCE_VARIANTS.update({"shaanxi province": "陕西", "nei mongol": "内蒙古", "xizang": "西藏", "macao": "澳门"})


def standard_province(raw) -> str | None:
    """北京 / 北京市 / Beijing / BEIJING -> 北京. Unknown names: None (flagged by the caller)."""
    if raw is None:
        return None
    s = " ".join(halfwidth(str(raw)).split())
    return PROVINCE_VARIANTS.get(s) or PROVINCE_VARIANTS.get(s.lower())


def city_key(raw) -> str | None:
    """A matching key for city names: half-width, no spaces, lower-case, without the 市 suffix."""
    if raw is None:
        return None
    s = halfwidth(str(raw)).replace(" ", "").lower()
    for suffix in ("市", "city", "shi"):
        if s.endswith(suffix) and len(s) > len(suffix) + 1:
            s = s[: -len(suffix)]
    return s or None
