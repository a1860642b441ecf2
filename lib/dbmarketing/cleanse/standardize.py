"""Standardize one value at a time: names, phones, e-mails, provinces and resident ID numbers.

Pure functions, no database: :mod:`dbmarketing.cleanse` applies them to whole columns (once
per distinct value) and records what changed. A value that cannot be made valid is
*flagged*, never guessed: the standard form is then empty and the finding says why.

Every parse result says what is wrong in two parts: ``problem``, the *kind* of problem in
words that carry no part of the value ("wrong check digit", "mobile prefix does not
exist"), so findings can be counted by kind and shown to any reader; and ``detail``, the
specifics, which do quote the value ("check digit 1 should be X", "prefix 126"), so they
are personal data and are stored where the privacy tiers protect them.

Resident identity numbers (GB 11643-1999):

1. An 18-digit number is a 6-digit region code, the birth date YYYYMMDD, a 3-digit
   sequence (odd for men, even for women) and a check character.
2. The check character is ISO 7064 MOD 11-2: sum of digit_i x weight_i with weights
   7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, and "10X98765432"[sum mod 11].
3. A 15-digit legacy number (issued before 1999) is the same without the century "19" and
   without the check character; upgrading inserts "19" and computes the check character.
4. The region code starts with a province-level code of GB/T 2260 (11 Beijing ... 65
   Xinjiang, 71 Taiwan, 81 Hong Kong, 82 Macao, 83 residence permits of Taiwan residents),
   and the birth date lies between 1900 and the reference date: a number failing either is
   invalid even with a right check character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

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


# Province-level codes, the first two digits of a resident ID number's region code
# (GB/T 2260 administrative division codes). 83 is not in GB/T 2260: it is the code of the
# residence permits for residents of Taiwan (81 Hong Kong, 82 Macao), which have the format
# and check digit of GB 11643.
ID_PROVINCE_CODES = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
    "71": "台湾", "81": "香港", "82": "澳门", "83": "台湾",
}
EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass(frozen=True)
class IdNumber:
    value: str | None        # the 18-digit standard form, or None when invalid
    birth_date: date | None
    gender: str | None       # "M" or "F"
    upgraded: bool           # True when it came as a 15-digit legacy number
    problem: str | None      # why it is invalid: the kind of problem, no part of the value
    detail: str | None = None  # the specifics, quoting parts of the value (personal data)


# The kinds of problem of an ID number (``IdNumber.problem``).
ID_MISSING = "missing"
ID_LENGTH = "not 15 or 18 digits"
ID_REGION = "region code is not a province code"
ID_IMPOSSIBLE_BIRTH = "impossible birth date in the number"
ID_BIRTH_RANGE = "birth date in the number is too early or after the as-of date"  # earliest: EARLIEST_BIRTH
ID_CHECK_DIGIT = "wrong check digit"


def parse_id_number(raw, as_of: date | None = None) -> IdNumber:
    """Validate (and upgrade from 15 digits) a resident ID number.

    Invalid: not 15 or 18 characters, a region code outside the province codes, an
    impossible birth date or one before 1900 or after ``as_of`` (default today), a wrong
    check character.
    """
    if raw is None or str(raw).strip() == "":
        return IdNumber(None, None, None, False, ID_MISSING)
    s = halfwidth(str(raw)).strip().upper().replace(" ", "")
    upgraded = False
    if re.fullmatch(r"\d{15}", s):
        s17 = s[:6] + "19" + s[6:]
        s = s17 + id_check_char(s17)
        upgraded = True
    elif not re.fullmatch(r"\d{17}[\dX]", s):
        return IdNumber(None, None, None, False, ID_LENGTH, f"{len(s)} characters")
    if s[:2] not in ID_PROVINCE_CODES:
        return IdNumber(None, None, None, upgraded, ID_REGION, f"region code {s[:6]} (GB/T 2260)")
    try:
        born = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return IdNumber(None, None, None, upgraded, ID_IMPOSSIBLE_BIRTH, f"birth date digits {s[6:14]}")
    latest = as_of or date.today()
    if not EARLIEST_BIRTH <= born <= latest:
        return IdNumber(None, None, None, upgraded, ID_BIRTH_RANGE,
                        f"birth date {born}, allowed {EARLIEST_BIRTH} to {latest}")
    if not upgraded and s[17] != id_check_char(s[:17]):
        return IdNumber(None, None, None, False, ID_CHECK_DIGIT,
                        f"check digit {s[17]} should be {id_check_char(s[:17])}")
    gender = "M" if int(s[16]) % 2 == 1 else "F"
    return IdNumber(s, born, gender, upgraded, None)


# ---------------------------------------------------------------- phones
# Mobile number prefixes (the first three of 11 digits) assigned by MIIT, per the
# Telecommunication Network Numbering Plan (电信网编号计划, 2017 edition) and the later
# allocations (190, 192, 196, 197 in December 2019):
#   130-139 (1349 satellite included), 145-149 (data-card and IoT numbers of 11 digits),
#   150-153, 155-159, 162, 165-167 (162/165/167 virtual operators), 170-178 (170/171 virtual
#   operators, 174 satellite), 180-189, 190-193, 195-199.
# Not assigned to 11-digit numbers: 140, 141, 144 (13-digit IoT numbers), 142, 143, 154,
# 160, 161, 163, 164, 168, 169, 179, 194, and 10-12 (service numbers).
MOBILE_PREFIXES = frozenset(
    [str(p) for p in range(130, 140)] + ["145", "146", "147", "148", "149"]
    + ["150", "151", "152", "153", "155", "156", "157", "158", "159"] + ["162", "165", "166", "167"]
    + [str(p) for p in range(170, 179)] + [str(p) for p in range(180, 190)]
    + ["190", "191", "192", "193", "195", "196", "197", "198", "199"])
# Landlines: area code and local number. The two-digit area codes 10 (Beijing) and 20-25,
# 27-29 (Guangzhou, Shanghai, Tianjin, Chongqing, Shenyang, Nanjing, Wuhan, Chengdu, Xi'an;
# 26 is unassigned) take 8-digit local numbers; the three-digit ones (3xx-9xx) 7 or 8
# digits. A local number starts with 2-9 (0 is the trunk prefix, 1 the service numbers).
LANDLINE = re.compile(r"0(10|2[0-57-9])([2-9]\d{7})|0([3-9]\d{2})([2-9]\d{6,7})")


@dataclass(frozen=True)
class Phone:
    value: str | None   # 13812345678 for mobiles, 010-12345678 for landlines; None if invalid
    kind: str | None    # mobile, landline
    problem: str | None  # the kind of problem, no part of the number
    detail: str | None = None  # the specifics, quoting parts of the number (personal data)


# The kinds of problem of a phone number (``Phone.problem``).
PHONE_MISSING = "missing"
PHONE_CHARACTERS = "contains characters other than digits"
PHONE_FOREIGN = "foreign number (country code other than +86): not checked"
PHONE_PREFIX = "mobile prefix does not exist"
PHONE_AREA_CODE = "area code does not exist"
PHONE_LOCAL_START = "local number starts with 0 or 1"
PHONE_LOCAL_LENGTH = "local number too long or too short for its area code"
PHONE_NO_AREA_CODE = "landline without area code"
PHONE_LENGTH = "not a mobile or landline number (wrong number of digits)"


def _landline_problem(digits: str) -> tuple[str, str]:
    """Why a number starting with the trunk 0 is not a landline number: (kind, detail)."""
    if digits[1] in "12":
        area, local, lengths = digits[:3], digits[3:], "8"
        if area not in ("010", "020", "021", "022", "023", "024", "025", "027", "028", "029"):
            return PHONE_AREA_CODE, f"area code {area} does not exist"
    else:
        area, local, lengths = digits[:4], digits[4:], "7 or 8"
    if local[:1] in ("0", "1"):
        return PHONE_LOCAL_START, f"local number after area code {area} cannot start with {local[:1]}"
    return PHONE_LOCAL_LENGTH, f"area code {area} takes local numbers of {lengths} digits, not {len(local)}"


def parse_phone(raw) -> Phone:
    """Chinese mobiles to 11 digits (dropping +86 / 0086 and spacing), landlines to area-number.

    Numbers with another country code (+1 ..., 00852 ...) are flagged as foreign, not checked.
    """
    if raw is None or str(raw).strip() == "":
        return Phone(None, None, PHONE_MISSING)
    digits = re.sub(r"[\s\-().]", "", halfwidth(str(raw)))
    international = digits.startswith("+")
    if international:
        digits = digits[1:]
    if not (digits.isascii() and digits.isdigit()):
        return Phone(None, None, PHONE_CHARACTERS)
    if digits.startswith("00"):  # the international prefix dialled from China
        digits, international = digits[2:], True
    country_code = international
    if international:
        if not digits.startswith("86"):
            return Phone(None, None, PHONE_FOREIGN)
        digits = digits[2:]
    elif digits.startswith("86") and len(digits) >= 12:  # domestic numbers start with 0 or 1
        digits, country_code = digits[2:], True
    if country_code and not digits.startswith("0") and not (len(digits) == 11 and digits.startswith("1")):
        digits = "0" + digits  # +86 10 12345678: the trunk 0 of the area code is dropped abroad
    if len(digits) == 11 and digits.startswith("1"):
        if digits[:3] in MOBILE_PREFIXES:
            return Phone(digits, "mobile", None)
        return Phone(None, None, PHONE_PREFIX, f"mobile prefix {digits[:3]}")
    m = LANDLINE.fullmatch(digits)
    if m:
        area, local = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        return Phone(f"0{area}-{local}", "landline", None)
    if digits.startswith("0") and len(digits) >= 4:
        return Phone(None, None, *_landline_problem(digits))
    if not digits.startswith("0") and not digits.startswith("1") and len(digits) in (7, 8):
        return Phone(None, None, PHONE_NO_AREA_CODE, f"{len(digits)} digits")
    return Phone(None, None, PHONE_LENGTH, f"{len(digits)} digits is not a mobile or landline number")


# ---------------------------------------------------------------- e-mail
# Local part: letters, digits and . _ % + - , no leading, trailing or doubled dot. Domain:
# labels of letters, digits and inner hyphens, separated by dots, ending in a letters-only
# top-level domain.
EMAIL = re.compile(r"[a-z0-9_%+\-]+(\.[a-z0-9_%+\-]+)*@([a-z0-9]([a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,}")
# Common mailbox domains in China and abroad. A domain that is not one of them but is one or
# two edits away from one (qq.con, 126.co, outlok.com) is a likely typo.
COMMON_DOMAINS = (
    "qq.com", "163.com", "126.com", "sina.com", "sina.cn", "sohu.com", "foxmail.com", "139.com", "189.cn",
    "aliyun.com", "yeah.net", "21cn.com", "tom.com", "gmail.com", "hotmail.com", "outlook.com", "live.com",
    "yahoo.com", "icloud.com", "msn.com", "aol.com",
)
# Real mailbox domains close to a common one, so never taken for its typo: mail.com and
# email.com (mail.com), ymail.com and yahoo.cn (Yahoo), live.cn and outlook.cn (Microsoft,
# outlook.cn its China-hosted service), sohu.cn, 139.cn (offered in Chinese sign-up forms).
KNOWN_DOMAINS = frozenset(COMMON_DOMAINS) | {
    "mail.com", "email.com", "ymail.com", "rocketmail.com", "yahoo.cn", "yahoo.com.cn", "live.cn", "msn.cn",
    "outlook.cn", "sohu.cn", "139.cn", "188.com", "wo.cn", "vip.qq.com", "vip.163.com", "vip.126.com",
    "vip.sina.com", "sina.com.cn", "163.net", "263.net", "googlemail.com", "me.com", "mac.com",
}


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


@lru_cache(maxsize=100_000)  # a million addresses share a few thousand domains
def likely_domain(domain: str) -> str | None:
    """The common domain that ``domain`` is probably a typo of, or None (also for any known domain)."""
    if domain in KNOWN_DOMAINS:
        return None
    best = min(COMMON_DOMAINS, key=lambda d: edit_distance(domain, d))
    allowed = 1 if len(best) <= 7 else 2
    return best if edit_distance(domain, best) <= allowed else None


@dataclass(frozen=True)
class Email:
    value: str | None      # lower-case, syntax-checked; None when invalid
    problem: str | None    # invalid syntax, or a likely domain typo (the value is then kept, flagged)
    detail: str | None = None  # for a typo: the domain and the common domain it is likely a typo of


# The kinds of problem of an e-mail address (``Email.problem``).
EMAIL_MISSING = "missing"
EMAIL_SYNTAX = "invalid e-mail syntax"
EMAIL_TYPO = "domain looks like a typo of a common domain"


def parse_email(raw) -> Email:
    """Lower case, half-width, syntax-checked. A domain one or two edits from a common one
    (qq.con) is kept and flagged: ``problem`` :data:`EMAIL_TYPO`, ``detail`` "qq.con -> qq.com"."""
    if raw is None or str(raw).strip() == "":
        return Email(None, EMAIL_MISSING)
    s = halfwidth(str(raw)).strip().lower()
    if len(s) > 254 or s.find("@") > 64 or not EMAIL.fullmatch(s):  # RFC 5321 length limits
        return Email(None, EMAIL_SYNTAX)
    domain = s.rsplit("@", 1)[1]
    suggestion = likely_domain(domain)
    if suggestion:
        return Email(s, EMAIL_TYPO, f"{domain} -> {suggestion}")
    return Email(s, None)


# ---------------------------------------------------------------- names
CJK = re.compile(r"[\u3400-\u9fff]")
SPACE_IN_CJK = re.compile(r"(?<=[\u3400-\u9fff·]) (?=[\u3400-\u9fff·])")
# Lower-case particles of Western surnames (van der Berg). Pinyin syllables (de, da, di, le,
# la, du) are left out: in a Chinese CRM "LI DA" is Li Da, not Li da.
NAME_PARTICLES = frozenset({"van", "von", "der", "den", "ter", "ten", "del", "della", "dos", "das"})


def _title_case(name: str) -> str:
    words = name.split(" ")
    return " ".join(w if i and w in NAME_PARTICLES else w.title() for i, w in enumerate(words))


def standard_name(raw) -> str | None:
    """Trim, collapse spaces, full-width to half-width; no spaces between Chinese characters.

    A name written all in upper or all in lower case gets capitalized words (JOHN SMITH ->
    John Smith, ludwig van beethoven -> Ludwig van Beethoven); a name in mixed case is kept
    as written (McDonald, van der Berg), for the case carries information we cannot guess.
    """
    if raw is None:
        return None
    s = " ".join(halfwidth(str(raw)).split())
    if not s:
        return None
    if CJK.search(s):
        s = SPACE_IN_CJK.sub("", s)
    if s == s.lower():
        return _title_case(s)
    if s == s.upper():
        return _title_case(s.lower())
    return s


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


# traditional characters of the province names that differ from the simplified ones
TRADITIONAL = str.maketrans("內龍蘇廣東貴陝寧雲灣臺門慶遼肅壯維爾區別", "内龙苏广东贵陕宁云湾台门庆辽肃壮维尔区别")
CJK_SUFFIX = re.compile(r"((壮族|回族|维吾尔)?自治区|特别行政区|特区|省|市)$")
LATIN_SUFFIX = re.compile(r" (province|city|municipality|shi|sheng|autonomous region|zizhiqu"
                          r"|special administrative region|sar|zhuang|hui|uyghur|uygur|uighur)$")

PROVINCE_VARIANTS: dict[str, str] = {}
for _short, (_full, _pinyin) in PROVINCES.items():
    PROVINCE_VARIANTS.update({_short: _short, _full: _short, _pinyin.lower().replace(" ", ""): _short})
PROVINCE_VARIANTS.update({"neimongol": "内蒙古", "xizang": "西藏", "macao": "澳门"})


def standard_province(raw) -> str | None:
    """北京 / 北京市 / 北京 市 / Beijing / Beijing Municipality -> 北京. Unknown names: None (flagged by the caller).

    Chinese names: spaces removed, traditional characters simplified (內蒙古), the suffix
    (省, 市, 自治区, 特别行政区) optional. Latin names: any case, the suffix (Province, City,
    Municipality, Autonomous Region, SAR, Shi, Sheng) and ethnic name (Zhuang, Hui, Uyghur) optional.
    """
    if raw is None:
        return None
    s = " ".join(halfwidth(str(raw)).split()).lower()
    if CJK.search(s):
        s = s.replace(" ", "").translate(TRADITIONAL)
        return PROVINCE_VARIANTS.get(s) or PROVINCE_VARIANTS.get(CJK_SUFFIX.sub("", s))
    s = " ".join(s.replace("-", " ").replace(".", " ").replace("'", " ").split())
    while (stripped := LATIN_SUFFIX.sub("", s)) != s:
        s = stripped
    return PROVINCE_VARIANTS.get(s.replace(" ", ""))


def city_key(raw) -> str | None:
    """A matching key for city names: half-width, lower-case, without the 市 suffix, and for Latin
    names without spaces, apostrophes, hyphens, dots and accents (Xi'an = XIAN, Ürümqi = Urumqi)."""
    if raw is None:
        return None
    s = unicodedata.normalize("NFKD", halfwidth(str(raw)).lower())
    s = "".join(c for c in s if not unicodedata.combining(c) and c not in " '’-.·")
    s = unicodedata.normalize("NFC", s)
    for suffix in ("市", "city", "shi"):
        if s.endswith(suffix) and len(s) > len(suffix) + 1:
            s = s[: -len(suffix)]
    return s or None
