"""Name tables for the synthetic register: surnames, given names by era and sex, places."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "COMMUNITY_NAMES",
    "GIVEN_ERAS",
    "OUTSIDE_CITIES",
    "OUTSIDE_COUNTIES",
    "RARE_GIVEN",
    "SURNAMES",
    "SURNAME_WEIGHTS",
    "given_names",
    "village_names",
]

# Common surnames with weights close to Shandong's frequencies, then a few compound ones.
_SURNAME_TABLE: tuple[tuple[str, float], ...] = (
    ("王", 8.0), ("张", 7.0), ("李", 6.8), ("刘", 5.5), ("孙", 2.9), ("杨", 2.8),
    ("陈", 2.5), ("赵", 2.3), ("徐", 2.0), ("高", 1.8), ("马", 1.6), ("于", 1.5),
    ("宋", 1.3), ("周", 1.2), ("郭", 1.2), ("吴", 1.0), ("朱", 1.0), ("韩", 1.0),
    ("姜", 1.0), ("董", 0.9), ("崔", 0.9), ("梁", 0.8), ("胡", 0.8), ("曹", 0.8),
    ("魏", 0.7), ("田", 0.7), ("林", 0.6), ("冯", 0.6), ("许", 0.6), ("孟", 0.6),
    ("杜", 0.6), ("郑", 0.5), ("侯", 0.5), ("贾", 0.5), ("丁", 0.5), ("任", 0.5),
    ("谢", 0.4), ("邢", 0.4), ("袁", 0.4), ("薛", 0.4), ("范", 0.4), ("石", 0.4),
    ("程", 0.4), ("付", 0.4), ("孔", 0.4), ("庞", 0.3), ("尹", 0.3), ("耿", 0.3),
    ("邵", 0.3), ("牛", 0.3), ("岳", 0.3), ("潘", 0.3), ("鲁", 0.3), ("葛", 0.3),
    ("闫", 0.3), ("隋", 0.2), ("毕", 0.2), ("颜", 0.2), ("曾", 0.2), ("伊", 0.1),
    ("欧阳", 0.03), ("司马", 0.02), ("诸葛", 0.02), ("上官", 0.02), ("公孙", 0.01),
)  # fmt: skip

SURNAMES: npt.NDArray[np.str_] = np.array([s for s, _ in _SURNAME_TABLE])
_w = np.array([w for _, w in _SURNAME_TABLE])
SURNAME_WEIGHTS: npt.NDArray[np.float64] = _w / _w.sum()

# Given names by birth-year era (upper bound exclusive) and sex: (male names, female names).
GIVEN_ERAS: tuple[tuple[int, str, str], ...] = (
    (
        1955,
        "建国 国庆 保国 德明 振华 玉山 长发 福贵 树林 志刚 秀山 明 强 军 洪亮 连生 守义 "
        "金山 万林 广田 庆云 汝成 继昌 景春 兆祥 文德 殿臣 学礼 俊 福",
        "秀英 桂英 玉兰 桂兰 秀兰 凤英 淑珍 玉珍 翠花 秀珍 兰英 春梅 玉梅 淑芬 凤兰 "
        "桂芝 秀芳 玉英 素英 金花 桂香 秀云 凤芝 淑英 爱莲 荣 珍 兰 英 芝",
    ),
    (
        1980,
        "伟 强 磊 军 勇 涛 斌 超 明 杰 刚 鹏 海涛 建华 志强 晓东 立新 红军 永刚 东升 "
        "卫东 向阳 建军 国栋 春生 庆华 新民 学军 宝林 振宇",
        "丽 静 敏 燕 艳 娟 霞 红 芳 丽娟 海燕 晓燕 红梅 美玲 雪梅 春燕 玉洁 秀梅 "
        "丽华 桂芳 艳红 翠萍 爱华 淑红 红霞 晓红 玉霞 凤霞 金凤 秀荣",
    ),
    (
        2000,
        "浩 鑫 宇 帅 磊 超 鹏飞 佳豪 俊杰 家乐 浩然 子豪 志远 文博 天宇 晨阳 "
        "明辉 建伟 晓明 永健 亮 健 斌 昊 鹏 凯 龙 飞 旭 喆",
        "婷 雪 倩 悦 欣怡 佳琪 梦瑶 雨涵 诗琪 晓雪 思雨 嘉怡 丹丹 晓丽 倩倩 "
        "文静 亚楠 春晓 佳慧 雪莹 蕾 璐 颖 琳 洁 莉 萌 珊 瑶 珺",
    ),
    (
        2013,
        "浩宇 子豪 宇航 俊熙 梓豪 皓轩 博文 一鸣 子涵 天佑 家豪 俊宇 明轩 "
        "嘉懿 睿 宸 昊天 振轩 铭 泽 晨 轩 宇 赟 堃 昇 龙 航 博 凯",
        "梓涵 欣怡 诗涵 雨桐 可馨 佳怡 梦琪 思涵 一诺 子涵 欣妍 雨欣 语嫣 "
        "紫涵 若曦 晨曦 嘉欣 佳琪 诗雨 悦 萱 琪 涵 妍 彤 璇 菲 瑶 怡 珂",
    ),
    (
        9999,
        "子轩 浩宇 梓睿 宇轩 沐宸 奕辰 子墨 一诺 铭泽 睿泽 皓轩 俊熙 沐阳 "
        "承泽 宥辰 景行 煜祺 知远 安澜 星河 宸 睿 锦 煜 霖 辰 墨 昀 堃 喆",
        "梓萱 一诺 欣妍 梓涵 诗涵 雨桐 语汐 若汐 可欣 沐瑶 依诺 子涵 芷若 "
        "安然 梓晴 语桐 清欢 知意 星悦 沐晴 萱 妍 汐 玥 瑶 槿 悦 珂 彤 琪",
    ),
)

# Given names with characters outside GBK (GB18030 only): 𠮷 (U+20BB7) and 䶮 (U+4DAE).
RARE_GIVEN: tuple[str, ...] = ("𠮷", "䶮", "𠮷祥", "䶮", "子䶮", "𠮷")

_VILLAGE_HEADS = [
    "王",
    "李",
    "张",
    "刘",
    "赵",
    "孙",
    "马",
    "杨",
    "周",
    "徐",
    "高",
    "于",
    "姜",
    "郭",
    "韩",
    "宋",
    "前",
    "后",
    "东",
    "西",
    "南",
    "北",
    "大",
    "小",
    "新",
    "老",
    "河",
    "柳",
    "杏",
    "梨",
    "枣",
    "石",
    "沙",
    "黄",
    "白",
    "双庙",
    "三里",
    "五里",
    "十里",
    "侯",
    "董",
    "尚",
    "闫",
    "崔",
    "魏",
    "田",
    "堤",
    "林",
    "蒋",
    "朱",
]
_VILLAGE_TAILS = [
    "庄村",
    "集村",
    "楼村",
    "屯村",
    "营村",
    "店村",
    "官庄村",
    "洼村",
    "桥村",
    "寨村",
    "堤口村",
    "家村",
]

COMMUNITY_NAMES: tuple[str, ...] = (
    "城关社区", "东关社区", "西关社区", "南关社区", "北关社区", "新华社区", "建设社区",
    "文化社区", "人民社区", "光明社区", "胜利社区", "和平社区", "幸福社区", "振兴社区",
    "育才社区", "新城社区", "花园社区", "向阳社区", "康宁社区", "兴隆社区",
)  # fmt: skip

# County-level codes near the default county, for persons born or registered elsewhere.
OUTSIDE_COUNTIES: tuple[str, ...] = (
    "371521", "371522", "371524", "371525", "371526", "371581", "371503", "371428",
    "370124", "371502",
)  # fmt: skip

# District codes of cities young people move their hukou to (urban).
OUTSIDE_CITIES: tuple[str, ...] = ("370102", "370212", "370112", "110108", "310115", "371502")


def given_names(era: int, male: bool) -> tuple[str, ...]:
    """The given names of one era and sex.

    Args:
        era: index into `GIVEN_ERAS`.
        male: the male list when true, else the female list.

    Returns:
        The names, one or two characters each.
    """
    _, men, women = GIVEN_ERAS[era]
    return tuple((men if male else women).split())


def village_names(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct village names such as 王庄村, in a random order.

    Args:
        rng: the random generator.
        count: how many names; at most the number of head × tail combinations.

    Returns:
        ``count`` distinct names.
    """
    combos = [h + t for h in _VILLAGE_HEADS for t in _VILLAGE_TAILS]
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} villages per township; got {count}")
    pick = rng.permutation(len(combos))[:count]
    return [combos[int(i)] for i in pick]
