"""Personal data kept off public pages (PIPL): the masking rule for ID numbers, and free text
typed by staff (a void or reissue reason, a notice period's change) shown to the public with
any ID number, phone number or personal name in it masked.

Names: a reason naming a person the system knows (a user, a contact, an objector, an expert) is
refused when it is typed (workflows.personal_data.personal_names_in). What is shown is masked
once more by form, for a name the system never held: a common surname with one or two more
characters after a word that introduces a person (联系人, 经办人, 异议人…), or before a form of
address (先生, 女士, 同志…). `王晓梅` becomes `王**`. A name written any other way cannot be
told from other words, which is why the refusal at entry comes first."""

import re

# Not part of a longer code (a unified social credit code has 18 characters too, but is never
# in these texts; any 15 or 18-digit run is masked all the same). Digits may be grouped with
# spaces (110105 19491231 002X, 139 1234 5678) or hyphens, and a phone may carry +86: each
# such way of writing one is masked as the plain one is (not the tail of a longer grouped
# number, such as a bank account).
_GAP = r"[ \u3000-]?"
ID_NUMBER_RE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][ \u3000-])"
    rf"(?:\d(?:{_GAP}\d){{16}}{_GAP}[0-9Xx]|\d(?:{_GAP}\d){{14}})(?![0-9A-Za-z])"
)
PHONE_RE = re.compile(
    r"(?<![0-9A-Za-z-])(?<![0-9][ \u3000])(?:(?:\+|＋)?86[ \u3000-]?)?"
    rf"(?:1[3-9](?:{_GAP}\d){{9}}|0\d{{2,3}}{_GAP}\d(?:{_GAP}\d){{6,7}})(?![0-9A-Za-z])"
)
# Full-width digits (１３９…) read as the digits they are.
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９ＸＸｘ", "0123456789XXx")


# The commonest surnames (about nine in ten people), the compound ones first so that they win.
COMPOUND_SURNAMES = (
    "欧阳|司马|诸葛|上官|皇甫|令狐|慕容|尉迟|长孙|东方|夏侯|公孙|轩辕|独孤|南宫|宇文"
)
SURNAMES = COMPOUND_SURNAMES + (
    "|[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲"
    "房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟"
    "应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝]"
)
_HAN = "[\u4e00-\u9fff]"
# 联系人王晓梅, 经办人：李明; 王晓梅同志, 李先生.
PERSON_LABELS = "联系人|经办人|负责人|法定代表人|法人代表|异议人|举报人|投诉人|当事人|姓名"
ADDRESS_FORMS = "先生|女士|同志|老师|小姐"
# A name may be spaced out (王 小 明) to slip past the eye; it is a name all the same.
LABELLED_NAME_RE = re.compile(
    f"((?:{PERSON_LABELS})[：:\\s]*)((?:{SURNAMES})(?:\\s?{_HAN}){{1,2}})"
)
ADDRESSED_NAME_RE = re.compile(f"((?:{SURNAMES}){_HAN}{{0,2}}?)(?=(?:{ADDRESS_FORMS}))")


FULL_NAME_RE = re.compile(f"(?:{SURNAMES}){_HAN}{{1,2}}")


def reads_as_a_name(value: str) -> bool:
    """Whether `value` reads as a person's name: a common surname and one or two characters
    (王晓梅, 欧阳娜娜), not an office's (财务处) or a role's."""
    return FULL_NAME_RE.fullmatch(value) is not None


def name_mask(value: str) -> str:
    """`王晓梅` → `王**`, `欧阳娜娜` → `欧阳**`: the surname kept, every other character `*`
    (spaces inside a name dropped: `王 小 明` → `王**`)."""
    value = re.sub(r"\s", "", value)
    kept = 2 if re.match(COMPOUND_SURNAMES, value) else 1
    return value[:kept] + "*" * (len(value) - kept)


def id_number_mask(value: str) -> str:
    """`520102199001011234` → `5201**********1234`: the first 4 and last 4 characters kept,
    every other one `*`; 8 characters or fewer are all masked."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def phone_mask(value: str) -> str:
    """`13912345678` → `139****5678`, `0851-85550000` → `085******0000`."""
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def personal_data_redact(text: str) -> str:
    """`text` with every ID number, phone number and name written as one (above) masked."""
    text = (text or "").translate(FULL_WIDTH_DIGITS)
    text = ID_NUMBER_RE.sub(lambda match: id_number_mask(match.group()), text)
    text = PHONE_RE.sub(lambda match: phone_mask(match.group()), text)
    text = LABELLED_NAME_RE.sub(lambda match: match.group(1) + name_mask(match.group(2)), text)
    return ADDRESSED_NAME_RE.sub(lambda match: name_mask(match.group(1)), text)
