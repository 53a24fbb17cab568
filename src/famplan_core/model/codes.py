"""National code tables (代码表) as enums whose values are the code strings.

Each table is an `enum.Enum` subclass of `CodeTable`: a member's ``value`` is the code exactly as
written in registers and exchange files (``"01"`` keeps its leading zero), and every member has a
Chinese and an English label. ``Table.parse(text, path=...)`` reads a code from outside input:
surrounding white space is trimmed, and anything else that is not one of the table's codes,
including full-width digits such as ``"１"``, raises `ValidationError` naming the table.

Tables and their standards:

* `Sex`: GB/T 2261.1-2003 (人的性别代码).
* `MaritalStatus`: GB/T 2261.2-2003 (婚姻状况代码).
* `Ethnicity`: GB 3304-1991 (中国各民族名称的罗马字母拼写法和代码), 56 codes.
* `RelationToHead`: GB/T 4761-2008 (家庭关系代码).
* `HukouType`, `LinkKind`, `UnionEndReason`, `DisabilityCategory`, `CertificateKind`: the
  register format's own word codes (``rural``, ``birth``, ``divorce``...).

Example:
    >>> Sex.parse(" 2 ", path="persons.csv:3:sex")
    <Sex.FEMALE: '2'>
    >>> Ethnicity.HAN.label_zh, Ethnicity.HAN.roman
    ('汉族', 'HA')
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Self, cast

import attrs

from famplan_core.errors import ValidationError

__all__ = [
    "CertificateKind",
    "CodeTable",
    "DisabilityCategory",
    "Ethnicity",
    "HukouType",
    "LinkKind",
    "MaritalStatus",
    "RelationToHead",
    "Sex",
    "UnionEndReason",
]


class CodeTable(enum.Enum):
    """Base of every national code table: members are code strings with two labels.

    Subclasses add members only; their labels and the table's description are registered in
    this module. A member's ``value`` is its code.
    """

    _value_: str

    @property
    def code(self) -> str:
        """The code as written in registers and files, e.g. ``"01"``."""
        return self.value

    @property
    def label_zh(self) -> str:
        """The member's name in Chinese, as the standard writes it."""
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        """The member's name in plain English."""
        return _LABELS[self][1]

    @classmethod
    def table_name(cls) -> str:
        """The table's name with its standard, e.g. ``"GB/T 2261.1 sex"``."""
        return _TABLES[cls].name

    @classmethod
    def expected(cls) -> str:
        """What a valid code looks like, in words.

        For example ``"a GB/T 2261.1 sex code: 0, 1, 2 or 9"``.
        """
        info = _TABLES[cls]
        return f"{info.article} {info.name} code: {info.listing}"

    @classmethod
    def parse(cls, text: str, *, path: str) -> Self:
        """Read one code of this table from outside input.

        Surrounding white space is trimmed. Only the table's own codes are accepted, written in
        ASCII exactly as the standard writes them (``"01"``, not ``"1"``; ``"1"``, not ``"１"``).

        Args:
            text: the code as text.
            path: where the text came from (file, line, column), for the error message.

        Raises:
            ValidationError: the text is not one of the table's codes; the message names the
                table and lists or describes its codes.
        """
        if not isinstance(text, str):
            raise ValidationError.single(
                path, text, f"expected {cls.expected()}, given as text, not {type(text).__name__}"
            )
        found = _TABLES[cls].by_code.get(text.strip())
        if found is not None:
            return cast(Self, found)
        message = f"expected {cls.expected()}"
        if any(ch.isdigit() and not ch.isascii() for ch in text):
            message += "; full-width or other non-ASCII digits are not accepted, type 0-9"
        raise ValidationError.single(path, text, message)


@attrs.frozen(kw_only=True)
class _TableInfo:
    name: str
    article: str
    listing: str
    by_code: Mapping[str, CodeTable]


_LABELS: dict[CodeTable, tuple[str, str]] = {}
_TABLES: dict[type[CodeTable], _TableInfo] = {}


def _or_list(codes: list[str]) -> str:
    return codes[0] if len(codes) == 1 else ", ".join(codes[:-1]) + " or " + codes[-1]


def _register(
    table: type[CodeTable],
    *,
    name: str,
    labels: Mapping[str, tuple[str, str]],
    listing: str | None = None,
) -> None:
    """Attach labels (keyed by code) and a description to a table; every member needs labels."""
    codes = [member.value for member in table]
    if set(labels) != set(codes):
        raise RuntimeError(f"labels of {table.__name__} do not match its codes")
    for member in table:
        _LABELS[member] = labels[member.value]
    article = "an" if name[0].lower() in "aeio" else "a"
    _TABLES[table] = _TableInfo(
        name=name,
        article=article,
        listing=listing if listing is not None else _or_list(codes),
        by_code={member.value: member for member in table},
    )


class Sex(CodeTable):
    """Sex, GB/T 2261.1-2003 (人的性别代码).

    A citizen ID carries only male or female (odd or even 17th digit).
    """

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    NOT_STATED = "9"


_register(
    Sex,
    name="GB/T 2261.1 sex",
    labels={
        "0": ("未知的性别", "unknown"),
        "1": ("男性", "male"),
        "2": ("女性", "female"),
        "9": ("未说明的性别", "not stated"),
    },
)


class MaritalStatus(CodeTable):
    """Marital status, GB/T 2261.2-2003 (婚姻状况代码).

    20 is "married" without saying which marriage; 21-23 say it. Code 80 ("separated"), seen in
    some systems, is not part of the standard and is not accepted.
    """

    NEVER_MARRIED = "10"
    MARRIED = "20"
    FIRST_MARRIAGE = "21"
    REMARRIED = "22"
    REMARRIED_FORMER_SPOUSE = "23"
    WIDOWED = "30"
    DIVORCED = "40"
    NOT_STATED = "90"


_register(
    MaritalStatus,
    name="GB/T 2261.2 marital status",
    labels={
        "10": ("未婚", "never married"),
        "20": ("已婚", "married"),
        "21": ("初婚", "married, first marriage"),
        "22": ("再婚", "remarried"),
        "23": ("复婚", "remarried to the former spouse"),
        "30": ("丧偶", "widowed"),
        "40": ("离婚", "divorced"),
        "90": ("未说明的婚姻状况", "not stated"),
    },
)


class Ethnicity(CodeTable):
    """Ethnicity (民族), GB 3304-1991: the 56 two-digit codes, 01 汉族 to 56 基诺族.

    Each member also has the standard's two-letter romanised code as `roman` (``HA`` for 汉族).
    Codes 57 ("other") and 58 ("foreign origin, Chinese nationality") used by some systems are
    extensions, not part of GB 3304, and are not accepted.
    """

    HAN = "01"
    MONGOL = "02"
    HUI = "03"
    ZANG = "04"
    UYGUR = "05"
    MIAO = "06"
    YI = "07"
    ZHUANG = "08"
    BUYEI = "09"
    CHOSEN = "10"
    MAN = "11"
    DONG = "12"
    YAO = "13"
    BAI = "14"
    TUJIA = "15"
    HANI = "16"
    KAZAK = "17"
    DAI = "18"
    LI = "19"
    LISU = "20"
    VA = "21"
    SHE = "22"
    GAOSHAN = "23"
    LAHU = "24"
    SUI = "25"
    DONGXIANG = "26"
    NAXI = "27"
    JINGPO = "28"
    KIRGIZ = "29"
    TU = "30"
    DAUR = "31"
    MULAO = "32"
    QIANG = "33"
    BLANG = "34"
    SALAR = "35"
    MAONAN = "36"
    GELAO = "37"
    XIBE = "38"
    ACHANG = "39"
    PUMI = "40"
    TAJIK = "41"
    NU = "42"
    UZBEK = "43"
    RUSS = "44"
    EWENKI = "45"
    DEANG = "46"
    BONAN = "47"
    YUGUR = "48"
    GIN = "49"
    TATAR = "50"
    DERUNG = "51"
    OROQEN = "52"
    HEZHEN = "53"
    MONBA = "54"
    LHOBA = "55"
    JINO = "56"

    @property
    def roman(self) -> str:
        """The two-letter romanised code of GB 3304, e.g. ``"HA"`` for 汉族."""
        return _ETHNICITY_ROMAN[self.value]

    @classmethod
    def from_roman(cls, text: str, *, path: str) -> Ethnicity:
        """Read a two-letter romanised GB 3304 code such as ``"HA"`` (upper or lower case).

        Args:
            text: the two letters.
            path: where the text came from, for the error message.

        Raises:
            ValidationError: the text is not one of the 56 romanised codes.
        """
        if isinstance(text, str):
            wanted = text.strip().upper()
            for code, roman in _ETHNICITY_ROMAN.items():
                if roman == wanted and wanted.isascii():
                    return cls(code)
        raise ValidationError.single(
            path,
            text,
            "expected a GB 3304 romanised ethnicity code: "
            "two letters from HA (汉族) to JN (基诺族)",
        )


# code: (label_zh, label_en, roman). English names are the standard's romanisations, with the
# usual English name in brackets where it differs.
_ETHNICITIES: dict[str, tuple[str, str, str]] = {
    "01": ("汉族", "Han", "HA"),
    "02": ("蒙古族", "Mongol", "MG"),
    "03": ("回族", "Hui", "HU"),
    "04": ("藏族", "Zang (Tibetan)", "ZA"),
    "05": ("维吾尔族", "Uygur", "UG"),
    "06": ("苗族", "Miao", "MH"),
    "07": ("彝族", "Yi", "YI"),
    "08": ("壮族", "Zhuang", "ZH"),
    "09": ("布依族", "Buyei", "BY"),
    "10": ("朝鲜族", "Chosen (Korean)", "CS"),
    "11": ("满族", "Man (Manchu)", "MA"),
    "12": ("侗族", "Dong", "DO"),
    "13": ("瑶族", "Yao", "YA"),
    "14": ("白族", "Bai", "BA"),
    "15": ("土家族", "Tujia", "TJ"),
    "16": ("哈尼族", "Hani", "HN"),
    "17": ("哈萨克族", "Kazak", "KZ"),
    "18": ("傣族", "Dai", "DA"),
    "19": ("黎族", "Li", "LI"),
    "20": ("傈僳族", "Lisu", "LS"),
    "21": ("佤族", "Va", "VA"),
    "22": ("畲族", "She", "SH"),
    "23": ("高山族", "Gaoshan", "GS"),
    "24": ("拉祜族", "Lahu", "LH"),
    "25": ("水族", "Sui", "SU"),
    "26": ("东乡族", "Dongxiang", "DX"),
    "27": ("纳西族", "Naxi", "NX"),
    "28": ("景颇族", "Jingpo", "JP"),
    "29": ("柯尔克孜族", "Kirgiz", "KG"),
    "30": ("土族", "Tu", "TU"),
    "31": ("达斡尔族", "Daur", "DU"),
    "32": ("仫佬族", "Mulao", "ML"),
    "33": ("羌族", "Qiang", "QI"),
    "34": ("布朗族", "Blang", "BL"),
    "35": ("撒拉族", "Salar", "SL"),
    "36": ("毛南族", "Maonan", "MN"),
    "37": ("仡佬族", "Gelao", "GL"),
    "38": ("锡伯族", "Xibe", "XB"),
    "39": ("阿昌族", "Achang", "AC"),
    "40": ("普米族", "Pumi", "PM"),
    "41": ("塔吉克族", "Tajik", "TA"),
    "42": ("怒族", "Nu", "NU"),
    "43": ("乌孜别克族", "Uzbek", "UZ"),
    "44": ("俄罗斯族", "Russ (Russian)", "RS"),
    "45": ("鄂温克族", "Ewenki", "EW"),
    "46": ("德昂族", "Deang", "DE"),
    "47": ("保安族", "Bonan", "BN"),
    "48": ("裕固族", "Yugur", "YG"),
    "49": ("京族", "Gin", "GI"),
    "50": ("塔塔尔族", "Tatar", "TT"),
    "51": ("独龙族", "Derung", "DR"),
    "52": ("鄂伦春族", "Oroqen", "OR"),
    "53": ("赫哲族", "Hezhen", "HZ"),
    "54": ("门巴族", "Monba", "MB"),
    "55": ("珞巴族", "Lhoba", "LB"),
    "56": ("基诺族", "Jino", "JN"),
}
_ETHNICITY_ROMAN: dict[str, str] = {code: row[2] for code, row in _ETHNICITIES.items()}

_register(
    Ethnicity,
    name="GB 3304 ethnicity",
    labels={code: (row[0], row[1]) for code, row in _ETHNICITIES.items()},
    listing="two digits from 01 (汉族) to 56 (基诺族)",
)


class RelationToHead(CodeTable):
    """Family relationship to the head of household (与户主关系), GB/T 4761-2008 (家庭关系代码).

    Codes ending in 0 name a group (20 son, 30 daughter, 50 parents...) and may be used when the
    finer code is not known. The 外 forms are through a daughter: 孙子 is a son's son,
    外孙子 a daughter's son.
    """

    SELF = "01"
    HEAD = "02"
    SPOUSE = "10"
    HUSBAND = "11"
    WIFE = "12"
    SON = "20"
    ONLY_SON = "21"
    ELDEST_SON = "22"
    SECOND_SON = "23"
    THIRD_SON = "24"
    FOURTH_SON = "25"
    FIFTH_SON = "26"
    ADOPTED_OR_STEP_SON = "27"
    SON_IN_LAW = "28"
    OTHER_SON = "29"
    DAUGHTER = "30"
    ONLY_DAUGHTER = "31"
    ELDEST_DAUGHTER = "32"
    SECOND_DAUGHTER = "33"
    THIRD_DAUGHTER = "34"
    FOURTH_DAUGHTER = "35"
    FIFTH_DAUGHTER = "36"
    ADOPTED_OR_STEP_DAUGHTER = "37"
    DAUGHTER_IN_LAW = "38"
    OTHER_DAUGHTER = "39"
    GRANDCHILD = "40"
    SONS_SON = "41"
    SONS_DAUGHTER = "42"
    DAUGHTERS_SON = "43"
    DAUGHTERS_DAUGHTER = "44"
    GRANDSONS_WIFE = "45"
    GRANDDAUGHTERS_HUSBAND = "46"
    GREAT_GRANDSON = "47"
    GREAT_GRANDDAUGHTER = "48"
    OTHER_GRANDCHILD = "49"
    PARENT = "50"
    FATHER = "51"
    MOTHER = "52"
    HUSBANDS_FATHER = "53"
    HUSBANDS_MOTHER = "54"
    WIFES_FATHER = "55"
    WIFES_MOTHER = "56"
    STEP_OR_ADOPTIVE_FATHER = "57"
    STEP_OR_ADOPTIVE_MOTHER = "58"
    OTHER_PARENT = "59"
    GRANDPARENT = "60"
    FATHERS_FATHER = "61"
    FATHERS_MOTHER = "62"
    MOTHERS_FATHER = "63"
    MOTHERS_MOTHER = "64"
    SPOUSES_GRANDPARENT = "65"
    GREAT_GRANDFATHER = "66"
    GREAT_GRANDMOTHER = "67"
    SPOUSES_GREAT_GRANDPARENT = "68"
    OTHER_GRANDPARENT = "69"
    SIBLING = "70"
    ELDER_BROTHER = "71"
    ELDER_BROTHERS_WIFE = "72"
    YOUNGER_BROTHER = "73"
    YOUNGER_BROTHERS_WIFE = "74"
    ELDER_SISTER = "75"
    ELDER_SISTERS_HUSBAND = "76"
    YOUNGER_SISTER = "77"
    YOUNGER_SISTERS_HUSBAND = "78"
    OTHER_SIBLING = "79"
    OTHER = "80"
    FATHERS_ELDER_BROTHER = "81"
    FATHERS_ELDER_BROTHERS_WIFE = "82"
    FATHERS_YOUNGER_BROTHER = "83"
    FATHERS_YOUNGER_BROTHERS_WIFE = "84"
    MOTHERS_BROTHER = "85"
    MOTHERS_BROTHERS_WIFE = "86"
    MOTHERS_SISTERS_HUSBAND = "87"
    MOTHERS_SISTER = "88"
    FATHERS_SISTERS_HUSBAND = "89"
    FATHERS_SISTER = "90"
    PATERNAL_COUSIN = "91"
    COUSIN = "92"
    BROTHERS_SON = "93"
    BROTHERS_DAUGHTER = "94"
    SISTERS_SON = "95"
    SISTERS_DAUGHTER = "96"
    OTHER_RELATIVE = "97"
    NOT_RELATED = "99"


_register(
    RelationToHead,
    name="GB/T 4761 family relationship",
    listing="two digits such as 01 (本人), 02 (户主), 10 (配偶), 20 (子), 30 (女) or 99 (非亲属)",
    labels={
        "01": ("本人", "self"),
        "02": ("户主", "head of household"),
        "10": ("配偶", "spouse"),
        "11": ("夫", "husband"),
        "12": ("妻", "wife"),
        "20": ("子", "son"),
        "21": ("独生子", "only son"),
        "22": ("长子", "eldest son"),
        "23": ("次子", "second son"),
        "24": ("三子", "third son"),
        "25": ("四子", "fourth son"),
        "26": ("五子", "fifth son"),
        "27": ("养子或继子", "adopted son or stepson"),
        "28": ("女婿", "son-in-law"),
        "29": ("其他儿子", "other son"),
        "30": ("女", "daughter"),
        "31": ("独生女", "only daughter"),
        "32": ("长女", "eldest daughter"),
        "33": ("次女", "second daughter"),
        "34": ("三女", "third daughter"),
        "35": ("四女", "fourth daughter"),
        "36": ("五女", "fifth daughter"),
        "37": ("养女或继女", "adopted daughter or stepdaughter"),
        "38": ("儿媳", "daughter-in-law"),
        "39": ("其他女儿", "other daughter"),
        "40": ("孙子、孙女或外孙子、外孙女", "grandchild"),
        "41": ("孙子", "son's son"),
        "42": ("孙女", "son's daughter"),
        "43": ("外孙子", "daughter's son"),
        "44": ("外孙女", "daughter's daughter"),
        "45": ("孙媳妇或外孙媳妇", "grandson's wife"),
        "46": ("孙女婿或外孙女婿", "granddaughter's husband"),
        "47": ("曾孙子或外曾孙子", "great-grandson"),
        "48": ("曾孙女或外曾孙女", "great-granddaughter"),
        "49": ("其他孙子、孙女或外孙子、外孙女", "other grandchild"),
        "50": ("父母", "parent"),
        "51": ("父亲", "father"),
        "52": ("母亲", "mother"),
        "53": ("公公", "husband's father"),
        "54": ("婆婆", "husband's mother"),
        "55": ("岳父", "wife's father"),
        "56": ("岳母", "wife's mother"),
        "57": ("继父或养父", "stepfather or adoptive father"),
        "58": ("继母或养母", "stepmother or adoptive mother"),
        "59": ("其他父母关系", "other parent relationship"),
        "60": ("祖父母或外祖父母", "grandparent"),
        "61": ("祖父", "father's father"),
        "62": ("祖母", "father's mother"),
        "63": ("外祖父", "mother's father"),
        "64": ("外祖母", "mother's mother"),
        "65": ("配偶的祖父母或外祖父母", "spouse's grandparent"),
        "66": ("曾祖父", "great-grandfather"),
        "67": ("曾祖母", "great-grandmother"),
        "68": ("配偶的曾祖父母或外曾祖父母", "spouse's great-grandparent"),
        "69": ("其他祖父母或外祖父母关系", "other grandparent relationship"),
        "70": ("兄弟姐妹", "sibling"),
        "71": ("兄", "elder brother"),
        "72": ("嫂", "elder brother's wife"),
        "73": ("弟", "younger brother"),
        "74": ("弟媳", "younger brother's wife"),
        "75": ("姐姐", "elder sister"),
        "76": ("姐夫", "elder sister's husband"),
        "77": ("妹妹", "younger sister"),
        "78": ("妹夫", "younger sister's husband"),
        "79": ("其他兄弟姐妹", "other sibling"),
        "80": ("其他", "other relatives"),
        "81": ("伯父", "father's elder brother"),
        "82": ("伯母", "father's elder brother's wife"),
        "83": ("叔父", "father's younger brother"),
        "84": ("婶母", "father's younger brother's wife"),
        "85": ("舅父", "mother's brother"),
        "86": ("舅母", "mother's brother's wife"),
        "87": ("姨父", "mother's sister's husband"),
        "88": ("姨母", "mother's sister"),
        "89": ("姑父", "father's sister's husband"),
        "90": ("姑母", "father's sister"),
        "91": ("堂兄弟、堂姐妹", "cousin through the father's brother"),
        "92": ("表兄弟、表姐妹", "cousin through a sister or the mother"),
        "93": ("侄子", "brother's son"),
        "94": ("侄女", "brother's daughter"),
        "95": ("外甥", "sister's son"),
        "96": ("外甥女", "sister's daughter"),
        "97": ("其他亲属", "other relative"),
        "99": ("非亲属", "not related"),
    },
)


class HukouType(CodeTable):
    """Hukou type (户口性质): rural (agricultural) or urban (non-agricultural).

    Most provinces abolished the distinction after 2014, but family-planning rewards still
    depend on it, as recorded on a date.
    """

    RURAL = "rural"
    URBAN = "urban"


_register(
    HukouType,
    name="hukou type",
    labels={"rural": ("农业/农村", "rural"), "urban": ("城镇/非农业", "urban")},
)


class LinkKind(CodeTable):
    """How a child is linked to a parent: by birth, by adoption, or as a stepchild."""

    BIRTH = "birth"
    ADOPTIVE = "adoptive"
    STEP = "step"


_register(
    LinkKind,
    name="parent-child link kind",
    labels={
        "birth": ("亲生", "birth"),
        "adoptive": ("收养", "adoptive"),
        "step": ("继", "step"),
    },
)


class UnionEndReason(CodeTable):
    """Why a marriage ended: divorce, or the death of a spouse."""

    DIVORCE = "divorce"
    DEATH = "death"


_register(
    UnionEndReason,
    name="union end reason",
    labels={"divorce": ("离婚", "divorce"), "death": ("配偶死亡", "death of a spouse")},
)


class DisabilityCategory(CodeTable):
    """Disability category (残疾类别) of a disability certificate, GB/T 26341-2010.

    `certificate_digit` is the category digit (1-7) that the disability certificate (残疾人证)
    number carries after the citizen ID.
    """

    VISION = "vision"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"
    MULTIPLE = "multiple"

    @property
    def certificate_digit(self) -> str:
        """The category digit used in disability certificate numbers: 1 vision ... 7 multiple."""
        return str(list(DisabilityCategory).index(self) + 1)


_register(
    DisabilityCategory,
    name="disability category",
    labels={
        "vision": ("视力残疾", "vision"),
        "hearing": ("听力残疾", "hearing"),
        "speech": ("言语残疾", "speech"),
        "physical": ("肢体残疾", "physical"),
        "intellectual": ("智力残疾", "intellectual"),
        "mental": ("精神残疾", "mental"),
        "multiple": ("多重残疾", "multiple"),
    },
)


class CertificateKind(CodeTable):
    """Kind of certificate held by a person; more kinds may be added later."""

    HONOUR = "honour"


_register(
    CertificateKind,
    name="certificate kind",
    labels={"honour": ("独生子女父母光荣证", "only-child parents' honour certificate")},
)
