"""Which panel language a browser's Accept-Language header asks for."""

import pytest

from smmpanel.pagekit.i18n import language_of_accept_header

pytestmark = pytest.mark.fast  # starts no process: runs in `make test-fast`


@pytest.mark.parametrize(
    "header",
    ["zh-TW", "zh-HK", "zh-MO", "zh", "ZH-tw", "zh-Hant", "zh-Hant-CN", "zh-Hant-US"],
)
def test_traditional_chinese_is_zh_tw(header):
    assert language_of_accept_header(header) == "zh_TW"


@pytest.mark.parametrize("header", ["en", "en-US", "en-GB", "EN-au"])
def test_english_of_any_region_is_english(header):
    assert language_of_accept_header(header) == "en"


@pytest.mark.parametrize("header", ["zh-CN", "zh-Hans", "zh-Hans-TW", "zh-SG", "fr", "ja-JP"])
def test_simplified_chinese_and_other_languages_are_not_spoken(header):
    assert language_of_accept_header(header) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en;q=0.5, zh-TW;q=0.9", "zh_TW"),
        ("zh-TW;q=0.4, en-US;q=0.8, fr", "en"),
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", "zh_TW"),
        ("en;q=0.8, zh-TW;q=0.8", "en"),
        ("zh-CN, zh;q=0.9, en;q=0.8", "zh_TW"),
        ("zh-CN, fr;q=0.9, en;q=0.1", "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "en"),
    ],
)
def test_the_heaviest_spoken_range_wins(header, expected):
    assert language_of_accept_header(header) == expected


@pytest.mark.parametrize("header", ["zh-TW;q=0, en;q=0", "en;q=0.0", "zh-TW;q=0.000"])
def test_a_weight_of_zero_is_not_acceptable(header):
    assert language_of_accept_header(header) is None


def test_a_weight_of_zero_sends_the_browser_to_its_next_choice():
    assert language_of_accept_header("zh-TW;q=0, en;q=0.2") == "en"


def test_any_language_leaves_the_choice_to_the_panel():
    assert language_of_accept_header("*, zh-TW;q=0.5") is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        ",,,",
        ";q=1",
        "zh-TW;q=2",
        "zh-TW;q=abc",
        "zh-TW;q=0.9999",
        "zh-TW;q=-1",
        "zh-TW;level=1",
        "zh--TW",
        "toolonglanguage",
        "zh TW",
        "zh_TW",
        "繁體中文",
        "zh-TW;q=0.9;q=0.8",
    ],
)
def test_a_header_that_cannot_be_read_leaves_the_choice_to_the_panel(header):
    assert language_of_accept_header(header) is None


def test_a_range_that_cannot_be_read_is_skipped_and_the_rest_still_count():
    assert language_of_accept_header("en;q=high, zh-TW;q=0.3") == "zh_TW"
