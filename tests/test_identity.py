"""Identity numbers: resident IDs, unified social credit codes and passports, with exact Chinese messages."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zongzhi.identity import (
    PROVINCE_CODES,
    USCC_ALPHABET,
    USCC_AUTHORITIES,
    make_resident_id,
    mask_phone,
    mask_resident_id,
    normalize_resident_id,
    normalize_uscc,
    passport_errors,
    resident_id_check_char,
    resident_id_errors,
    uscc_check_char,
    uscc_errors,
)

TODAY = datetime.date(2025, 6, 1)
# Zhang San of Xilinhot, born on New Year's Day 1990; his check character happens to be X.
ZHANG = "15250219900101008X"


def replace(value: str, position: int, char: str) -> str:
    return value[:position] + char + value[position + 1 :]


# Resident IDs


@given(
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    rest=st.text(alphabet="0123456789", min_size=4, max_size=4),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY),
    seq=st.integers(min_value=0, max_value=999),
)
def test_generated_ids_are_valid_and_one_changed_digit_is_caught(
    province: str, rest: str, birth: datetime.date, seq: int
) -> None:
    """Any ID from make_resident_id validates; changing its sequence digit breaks the checksum."""
    value = make_resident_id(province + rest, birth, seq)
    assert resident_id_errors(value, today=TODAY) == []
    changed = replace(value, 16, str((int(value[16]) + 1) % 10))
    errors = resident_id_errors(changed, today=TODAY)
    assert len(errors) == 1 and errors[0].startswith("身份证号校验位应为 ")


def test_the_published_example_checks() -> None:
    """The worked example of GB 11643-1999."""
    assert resident_id_check_char("11010519491231002") == "X"
    assert resident_id_errors("11010519491231002X") == []


def test_spaces_full_width_and_lowercase_x_are_accepted() -> None:
    messy = " １５２５０２ 19900101 008x "
    assert normalize_resident_id(messy) == ZHANG
    assert resident_id_errors(messy, today=TODAY) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("15250219900101008", "身份证号应为 18 位，收到 17 位。"),
        ("", "身份证号应为 18 位，收到 0 位。"),
        ("152502199001010085X", "身份证号应为 18 位，收到 19 位。"),
        ("1525021990010100A5", "身份证号前 17 位应全为数字。"),
        ("15250219900101008Y", "身份证号最后一位应为数字或 X，收到 Y。"),
        ("152502199001010085", "身份证号校验位应为 X，收到 5。"),
    ],
)
def test_each_error_says_what_is_wrong(value: str, message: str) -> None:
    assert resident_id_errors(value, today=TODAY) == [message]


def test_birth_date_must_exist() -> None:
    value = make_resident_id("152502", datetime.date(2031, 2, 3), 123)
    bad = value[:12] + "30" + value[14:]
    assert "身份证号中的出生日期 2031-02-30 无效。" in resident_id_errors(bad, today=TODAY)


def test_birth_date_must_not_be_in_the_future_nor_before_1900() -> None:
    tomorrow = make_resident_id("152502", TODAY + datetime.timedelta(days=1), 1)
    assert resident_id_errors(tomorrow, today=TODAY) == ["身份证号中的出生日期 2025-06-02 晚于今天。"]
    assert resident_id_errors(make_resident_id("152502", TODAY, 1), today=TODAY) == []
    old = make_resident_id("152502", datetime.date(1899, 12, 31), 1)
    assert resident_id_errors(old, today=TODAY) == ["身份证号中的出生日期 1899-12-31 早于 1900 年。"]


def test_region_must_be_a_province() -> None:
    value = make_resident_id("992502", datetime.date(1990, 1, 1), 8)
    assert resident_id_errors(value, today=TODAY) == ["身份证号前两位 99 不是有效的省级行政区划代码。"]
    for province in ("15", "71", "81", "82"):
        assert resident_id_errors(make_resident_id(province + "0000", datetime.date(1990, 1, 1), 8)) == []


def test_several_errors_are_reported_together() -> None:
    assert resident_id_errors("992502203102301235", today=TODAY) == [
        "身份证号前两位 99 不是有效的省级行政区划代码。",
        "身份证号中的出生日期 2031-02-30 无效。",
        "身份证号校验位应为 6，收到 5。",
    ]


def test_helpers_refuse_malformed_parts() -> None:
    with pytest.raises(ValueError):
        resident_id_check_char("1525021990010100")
    with pytest.raises(ValueError):
        resident_id_check_char("1525021990010100Ａ")
    with pytest.raises(ValueError):
        make_resident_id("15250", datetime.date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_resident_id("152502", datetime.date(1990, 1, 1), 1000)


# Unified social credit codes

uscc_bodies = st.tuples(
    st.sampled_from(sorted(USCC_AUTHORITIES)),
    st.sampled_from(USCC_ALPHABET),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
).map("".join)


@given(body=uscc_bodies, position=st.integers(min_value=0, max_value=16), shift=st.integers(min_value=1, max_value=30))
def test_generated_uscc_is_valid_and_any_single_change_is_caught(body: str, position: int, shift: int) -> None:
    """MOD 31 catches every single-character substitution."""
    code = body + uscc_check_char(body)
    assert uscc_errors(code) == []
    changed = replace(code, position, USCC_ALPHABET[(USCC_ALPHABET.index(code[position]) + shift) % 31])
    assert uscc_errors(changed) != []


@pytest.mark.parametrize("code", ["91350100M000100Y43", "914403001922038216", "91330100799655058B"])
def test_published_codes_validate(code: str) -> None:
    assert uscc_errors(code) == []


def test_uscc_is_normalized() -> None:
    assert normalize_uscc(" ９１３５０１００m０００１００y４３ ") == "91350100M000100Y43"
    assert uscc_errors("91350100m000100y43") == []


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350100M000100Y4", "统一社会信用代码应为 18 位，收到 17 位。"),
        (
            "91350100M000100I43",
            "统一社会信用代码第 16 位“I”不是允许的字符（数字或除 I、O、Z、S、V 以外的大写字母）。",
        ),
        ("91350100M000100Y44", "统一社会信用代码校验位应为 3，收到 4。"),
        (
            "B1350100M000100Y4" + uscc_check_char("B1350100M000100Y4"),
            "统一社会信用代码首位（登记管理部门代码）B 无效。",
        ),
        (
            "913501A0M000100Y4" + uscc_check_char("913501A0M000100Y4"),
            "统一社会信用代码第 3–8 位应为数字（行政区划码），收到 3501A0。",
        ),
    ],
)
def test_uscc_errors_say_what_is_wrong(code: str, message: str) -> None:
    assert uscc_errors(code) == [message]


def test_uscc_check_char_refuses_letters_outside_the_alphabet() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100O4")


# Passports


def test_passport_is_accepted_with_a_known_nationality() -> None:
    assert passport_errors("E12345678", "CHN") == []
    assert passport_errors("e1234567", "mng") == []
    assert passport_errors("753912486", "RUS") == []


@pytest.mark.parametrize(
    ("number", "nationality", "messages"),
    [
        ("E123", "MNG", ["护照号码应为 5–20 位，收到 4 位。"]),
        ("E" * 21, "MNG", ["护照号码应为 5–20 位，收到 21 位。"]),
        ("E1234-567", "MNG", ["护照号码只能包含字母和数字。"]),
        ("", "", ["请填写护照号码。", "请填写国籍。"]),
        ("E12345678", "XXX", ["国籍应为 ISO 3166-1 三位字母代码（如 MNG、RUS），收到 XXX。"]),
        ("E12345678", "MN", ["国籍应为 ISO 3166-1 三位字母代码（如 MNG、RUS），收到 MN。"]),
    ],
)
def test_passport_errors_name_the_field(number: str, nationality: str, messages: list[str]) -> None:
    assert passport_errors(number, nationality) == messages


# Masks


def test_resident_id_shows_region_and_last_four() -> None:
    assert mask_resident_id("152502199001011234") == "152502********1234"
    assert mask_resident_id(ZHANG) == "152502********008X"


def test_phone_shows_three_and_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("short", ["", "1", "1234567", "1525021234"])
def test_masks_hide_all_of_a_value_too_short_to_have_a_middle(short: str) -> None:
    assert mask_resident_id(short) == "*" * len(short)
    if len(short) <= 7:
        assert mask_phone(short) == "*" * len(short)
