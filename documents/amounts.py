"""Money amounts as official documents print them: Chinese capitals and figures.

The capitals follow 《会计基础工作规范》第五十二条: digits 零壹贰叁肆伍陆柒捌玖, units
拾佰仟万亿, 元角分, "人民币" directly before the first digit, "整" after 元, nothing after 分,
and one 零 for a run of zeros inside the amount (¥1,000,010.00 → 人民币壹佰万零壹拾元整).

Two choices the rule leaves open are made here once:
- After 角 no "整" is written (¥1,409.50 → 人民币壹仟肆佰零玖元伍角), as in the rule's own example
  and 《支付结算办法》 ("在'角'之后可以不写'整'").
- When the 元 digit is 0 and 角 is not, no 零 is written (¥1,680.32 → 人民币壹仟陆佰捌拾元叁角贰分);
  the rule allows both forms. When 角 is 0 and 分 is not, 零 is required and written
  (¥16,409.02 → 人民币壹万陆仟肆佰零玖元零贰分).
"""

from decimal import Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
# Units inside a four-digit section, from the thousands down.
SECTION_UNITS = ("仟", "佰", "拾", "")
# Largest amount in words: below 一万亿 (the model stores at most 12 integer digits).
LIMIT = Decimal("1000000000000")


def amount_in_words(amount: Decimal) -> str:
    """Chinese capitals of a non-negative amount in yuan with at most two decimals (分)."""
    fen_total = _whole_fen(amount)
    yuan, fen_part = divmod(fen_total, 100)
    jiao, fen = divmod(fen_part, 10)

    if fen_total == 0:
        return "人民币零元整"
    words = _integer_in_words(yuan) + "元" if yuan else ""
    if jiao:
        words += DIGITS[jiao] + "角"
    elif fen and yuan:
        words += "零"
    if fen:
        words += DIGITS[fen] + "分"
    elif not jiao:
        words += "整"
    return "人民币" + words


def amount_figures(amount: Decimal, *, currency_sign: bool = True) -> str:
    """Figures with thousands separators and two decimals: "¥1,000,000.00" (sign optional)."""
    fen_total = _whole_fen(amount)
    yuan, fen = divmod(fen_total, 100)
    figures = f"{yuan:,}.{fen:02d}"
    return "¥" + figures if currency_sign else figures


def _whole_fen(amount: Decimal) -> int:
    """The amount in 分, refusing anything that is not an exact, non-negative, printable amount."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"Amounts must be Decimal, not {type(amount).__name__}.")
    if not amount.is_finite():
        raise ValueError(f"Amount {amount} is not a finite number.")
    if amount < 0:
        raise ValueError(f"Amount {amount} is negative.")
    if amount >= LIMIT:
        raise ValueError(f"Amount {amount} is too large to write in words.")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"Amount {amount} has more than two decimal places.")
    return int(fen)


def _integer_in_words(number: int) -> str:
    """Words for a positive whole number of yuan, with 亿 and 万 sections."""
    if number >= 100_000_000:
        unit, size = "亿", 100_000_000
    elif number >= 10_000:
        unit, size = "万", 10_000
    else:
        return _section_in_words(number)
    high, low = divmod(number, size)
    words = _integer_in_words(high) + unit
    if low:
        # A gap at the front of the lower part (¥1,000,010 → 壹佰万零壹拾) is read as one 零.
        if low < size // 10:
            words += "零"
        words += _integer_in_words(low)
    return words


def _section_in_words(number: int) -> str:
    """Words for 1..9999: 壹仟零玖, 壹仟零玖拾, 壹拾 (accounting style keeps 壹 before 拾)."""
    words = ""
    zero_pending = False
    for digit, unit in zip(f"{number:04d}", SECTION_UNITS, strict=True):
        if digit == "0":
            zero_pending = bool(words)
            continue
        if zero_pending:
            words += "零"
            zero_pending = False
        words += DIGITS[int(digit)] + unit
    return words
