"""Amounts in Chinese capitals (《会计基础工作规范》第五十二条) and in figures."""

from decimal import Decimal

import pytest

from documents.amounts import amount_figures, amount_in_words

WORDS = [
    ("0.05", "人民币伍分"),
    ("0.50", "人民币伍角"),
    ("0.55", "人民币伍角伍分"),
    ("0", "人民币零元整"),
    ("0.00", "人民币零元整"),
    ("1.000", "人民币壹元整"),
    ("10.00", "人民币壹拾元整"),
    ("1009.00", "人民币壹仟零玖元整"),
    ("1090.00", "人民币壹仟零玖拾元整"),
    ("1409.50", "人民币壹仟肆佰零玖元伍角"),
    ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
    ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
    ("107000.53", "人民币壹拾万柒仟元伍角叁分"),
    ("300000.00", "人民币叁拾万元整"),
    ("700000.00", "人民币柒拾万元整"),
    ("1000000.00", "人民币壹佰万元整"),
    ("1000010.00", "人民币壹佰万零壹拾元整"),
    ("6400000.00", "人民币陆佰肆拾万元整"),
    ("100000000.00", "人民币壹亿元整"),
    ("100010000.00", "人民币壹亿零壹万元整"),
    ("110000000.00", "人民币壹亿壹仟万元整"),
    ("10001000000.00", "人民币壹佰亿零壹佰万元整"),
    ("999999999999.99", "人民币玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("amount", "words"), WORDS)
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


FIGURES = [
    ("0", "¥0.00"),
    ("0.05", "¥0.05"),
    ("1409.5", "¥1,409.50"),
    ("300000.00", "¥300,000.00"),
    ("1000000.00", "¥1,000,000.00"),
    ("100000000.00", "¥100,000,000.00"),
]


@pytest.mark.parametrize(("amount", "figures"), FIGURES)
def test_amount_figures(amount, figures):
    assert amount_figures(Decimal(amount)) == figures


def test_amount_figures_without_currency_sign_for_table_columns():
    assert amount_figures(Decimal("1000000.00"), currency_sign=False) == "1,000,000.00"


@pytest.mark.parametrize("convert", [amount_in_words, amount_figures])
@pytest.mark.parametrize("amount", ["-0.01", "-300000.00", "1.005", "0.001", "NaN", "Infinity"])
def test_refuses_amounts_that_cannot_be_printed(convert, amount):
    with pytest.raises(ValueError):
        convert(Decimal(amount))


@pytest.mark.parametrize("convert", [amount_in_words, amount_figures])
def test_refuses_amounts_from_one_million_million_yuan(convert):
    with pytest.raises(ValueError):
        convert(Decimal("1000000000000.00"))


@pytest.mark.parametrize("convert", [amount_in_words, amount_figures])
@pytest.mark.parametrize("amount", [1000000.0, 1000000, "1000000.00", None])
def test_accepts_only_decimal(convert, amount):
    with pytest.raises(TypeError):
        convert(amount)
