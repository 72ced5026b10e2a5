"""Identity numbers: resident ID (GB 11643-1999), unified social credit code (GB 32100-2015), passports.

The `*_errors` functions return Chinese messages saying exactly what is wrong (empty when the value is
valid); they normalize first, so callers store `normalize_*` of what they validated.
"""

import datetime
import re
import unicodedata

from django.utils.translation import gettext as _

# Province-level codes of GB/T 2260 (the first two digits of a resident ID).
PROVINCE_CODES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"}
    | {"41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"}
    | {"71", "81", "82"}
)
_ID_WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # ISO 7064 MOD 11-2: 7, 9, 10, 5, 8, 4, 2, 1, 6, 3 …
_ID_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1900

# GB 32100-2015: 31 characters, no I, O, Z, S, V (easily confused with 1, 0, 2, 5, U).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = tuple(3**i % 31 for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20 …
# Registration authorities (first character): 机构编制, 外交, 司法行政, 文化, 民政, 旅游, 宗教, 工会, 工商/市场监管,
# 中央军委改革和编制办公室, 农业, 其他.
USCC_AUTHORITIES = frozenset("123456789ANY")

# ISO 3166-1 alpha-3 codes accepted as a passport's nationality: neighbours, the Belt and Road, the usual
# visitors. Extend as cases need; the code is what is stored, the name is for display.
NATIONALITIES: dict[str, str] = {
    "CHN": "中国",
    "MNG": "蒙古国",
    "RUS": "俄罗斯",
    "KAZ": "哈萨克斯坦",
    "KGZ": "吉尔吉斯斯坦",
    "TJK": "塔吉克斯坦",
    "UZB": "乌兹别克斯坦",
    "TKM": "土库曼斯坦",
    "AFG": "阿富汗",
    "PAK": "巴基斯坦",
    "IND": "印度",
    "NPL": "尼泊尔",
    "BTN": "不丹",
    "BGD": "孟加拉国",
    "LKA": "斯里兰卡",
    "MMR": "缅甸",
    "LAO": "老挝",
    "VNM": "越南",
    "KHM": "柬埔寨",
    "THA": "泰国",
    "MYS": "马来西亚",
    "SGP": "新加坡",
    "IDN": "印度尼西亚",
    "PHL": "菲律宾",
    "PRK": "朝鲜",
    "KOR": "韩国",
    "JPN": "日本",
    "AZE": "阿塞拜疆",
    "GEO": "格鲁吉亚",
    "ARM": "亚美尼亚",
    "TUR": "土耳其",
    "IRN": "伊朗",
    "IRQ": "伊拉克",
    "SAU": "沙特阿拉伯",
    "ARE": "阿拉伯联合酋长国",
    "ISR": "以色列",
    "EGY": "埃及",
    "ZAF": "南非",
    "NGA": "尼日利亚",
    "KEN": "肯尼亚",
    "ETH": "埃塞俄比亚",
    "UKR": "乌克兰",
    "BLR": "白俄罗斯",
    "POL": "波兰",
    "CZE": "捷克",
    "HUN": "匈牙利",
    "ROU": "罗马尼亚",
    "BGR": "保加利亚",
    "GRC": "希腊",
    "DEU": "德国",
    "FRA": "法国",
    "GBR": "英国",
    "IRL": "爱尔兰",
    "ITA": "意大利",
    "ESP": "西班牙",
    "PRT": "葡萄牙",
    "NLD": "荷兰",
    "BEL": "比利时",
    "CHE": "瑞士",
    "AUT": "奥地利",
    "SWE": "瑞典",
    "NOR": "挪威",
    "DNK": "丹麦",
    "FIN": "芬兰",
    "USA": "美国",
    "CAN": "加拿大",
    "MEX": "墨西哥",
    "BRA": "巴西",
    "ARG": "阿根廷",
    "CHL": "智利",
    "PER": "秘鲁",
    "AUS": "澳大利亚",
    "NZL": "新西兰",
}

_WHITESPACE = re.compile(r"\s+")


def _compact(value: str) -> str:
    # NFKC turns full-width digits and letters (１５２５Ｘ, common from Chinese input methods) into ASCII.
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def _is_digits(value: str) -> bool:
    # str.isdigit() also accepts non-ASCII digits (٣, ③); these codes are ASCII only.
    return re.fullmatch(r"[0-9]+", value) is not None


# Resident identity card number


def normalize_resident_id(value: str) -> str:
    """The resident ID without spaces, in half-width characters, with an uppercase X."""
    return _compact(value)


def resident_id_check_char(first17: str) -> str:
    """The check character (0-9 or X) of the 17 digits that open a resident ID."""
    if len(first17) != 17 or not _is_digits(first17):
        raise ValueError(f"expected 17 digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def make_resident_id(region6: str, birth: datetime.date, seq3: int) -> str:
    """A valid resident ID from its parts (for demo data and tests; seq3 odd for men, even for women)."""
    if len(region6) != 6 or not _is_digits(region6):
        raise ValueError(f"region6 must be 6 digits, got {region6!r}")
    if not 0 <= seq3 <= 999:
        raise ValueError(f"seq3 must be in 0..999, got {seq3}")
    first17 = f"{region6}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq3:03d}"
    return first17 + resident_id_check_char(first17)


def resident_id_errors(value: str, *, today: datetime.date | None = None) -> list[str]:
    """Why `value` is not a valid resident ID number; empty when it is."""
    value = normalize_resident_id(value)
    if len(value) != 18:
        return [_("身份证号应为 18 位，收到 %(count)d 位。") % {"count": len(value)}]
    first17, check = value[:17], value[17]
    if not _is_digits(first17):
        return [_("身份证号前 17 位应全为数字。")]
    if check not in "0123456789X":
        return [_("身份证号最后一位应为数字或 X，收到 %(char)s。") % {"char": check}]

    errors = []
    if first17[:2] not in PROVINCE_CODES:
        errors.append(_("身份证号前两位 %(code)s 不是有效的省级行政区划代码。") % {"code": first17[:2]})
    shown = f"{first17[6:10]}-{first17[10:12]}-{first17[12:14]}"
    try:
        birth = datetime.date(int(first17[6:10]), int(first17[10:12]), int(first17[12:14]))
    except ValueError:
        errors.append(_("身份证号中的出生日期 %(date)s 无效。") % {"date": shown})
    else:
        if birth > (today or datetime.date.today()):
            errors.append(_("身份证号中的出生日期 %(date)s 晚于今天。") % {"date": shown})
        elif birth.year < _EARLIEST_BIRTH_YEAR:
            errors.append(_("身份证号中的出生日期 %(date)s 早于 1900 年。") % {"date": shown})
    expected = resident_id_check_char(first17)
    if check != expected:
        errors.append(_("身份证号校验位应为 %(expected)s，收到 %(got)s。") % {"expected": expected, "got": check})
    return errors


# Unified social credit code


def normalize_uscc(value: str) -> str:
    """The unified social credit code without spaces, in half-width uppercase characters."""
    return _compact(value)


def uscc_check_char(first17: str) -> str:
    """The check character of the 17 characters that open a unified social credit code."""
    if len(first17) != 17 or any(char not in USCC_ALPHABET for char in first17):
        raise ValueError(f"expected 17 characters of {USCC_ALPHABET}, got {first17!r}")
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_errors(value: str) -> list[str]:
    """Why `value` is not a valid unified social credit code; empty when it is."""
    value = normalize_uscc(value)
    if len(value) != 18:
        return [_("统一社会信用代码应为 18 位，收到 %(count)d 位。") % {"count": len(value)}]
    for position, char in enumerate(value, start=1):
        if char not in USCC_ALPHABET:
            return [
                _(
                    "统一社会信用代码第 %(position)d 位“%(char)s”不是允许的字符"
                    "（数字或除 I、O、Z、S、V 以外的大写字母）。"
                )
                % {"position": position, "char": char}
            ]

    errors = []
    if value[0] not in USCC_AUTHORITIES:
        errors.append(_("统一社会信用代码首位（登记管理部门代码）%(char)s 无效。") % {"char": value[0]})
    if not _is_digits(value[2:8]):
        errors.append(_("统一社会信用代码第 3–8 位应为数字（行政区划码），收到 %(code)s。") % {"code": value[2:8]})
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        errors.append(
            _("统一社会信用代码校验位应为 %(expected)s，收到 %(got)s。") % {"expected": expected, "got": value[17]}
        )
    return errors


# Passports


def passport_errors(number: str, nationality: str) -> list[str]:
    """Why a passport number and its nationality (ISO 3166-1 alpha-3) are not acceptable; empty when they are."""
    errors = []
    number = _compact(number)
    if not number:
        errors.append(_("请填写护照号码。"))
    elif not re.fullmatch(r"[0-9A-Z]+", number):
        errors.append(_("护照号码只能包含字母和数字。"))
    elif not 5 <= len(number) <= 20:
        errors.append(_("护照号码应为 5–20 位，收到 %(count)d 位。") % {"count": len(number)})
    nationality = _compact(nationality)
    if not nationality:
        errors.append(_("请填写国籍。"))
    elif nationality not in NATIONALITIES:
        errors.append(_("国籍应为 ISO 3166-1 三位字母代码（如 MNG、RUS），收到 %(code)s。") % {"code": nationality})
    return errors


# Masking for display: enough to recognise a person, not enough to reuse the number.


def _mask(value: str, head: int, tail: int) -> str:
    value = (value or "").strip()
    if len(value) <= head + tail:
        # Too short to hide a middle: showing the ends would show everything.
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[-tail:]


def mask_resident_id(value: str) -> str:
    """The resident ID with only the region (first 6) and the last 4 characters visible."""
    return _mask(value, 6, 4)


def mask_phone(value: str) -> str:
    """The phone number with only the first 3 and the last 4 digits visible."""
    return _mask(value, 3, 4)


# A resident ID (17 digits and a check character) or a mobile number, not inside a longer run of
# digits (region and grid codes are 12 and 15 digits and stay as they are).
_ID_OR_MOBILE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1[3-9]\d{9})(?![\dXx])")


def mask_numbers_in_text(value: str) -> str:
    """Free text with every valid resident ID and every mobile number in it masked as on screen.

    An 18-digit run is masked only when its check character is right: case numbers have 18 digits too.
    """

    def masked(found: re.Match[str]) -> str:
        run = found.group()
        if len(run) == 11:
            return mask_phone(run)
        return mask_resident_id(run) if resident_id_check_char(run[:17]) == run[17].upper() else run

    return _ID_OR_MOBILE.sub(masked, value)
