"""Plausible, obviously fictional people for the demo data set (deterministic)."""

import datetime
import random

from .validators import id_number_check_char

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢"
    "宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰"
    "霞平刚桂华玉萍红娥建国志海燕春梅文博子涵雨欣浩然思远晓东庆"
)
#: The region code of the fictional city's districts in demo ID numbers.
DEMO_REGION_CODES = ("420102", "420103", "420104", "420106", "420111")


def demo_id_number(rng: random.Random, *, female: bool) -> str:
    region = rng.choice(DEMO_REGION_CODES)
    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(0, 365 * 52))
    sequence = rng.randrange(0, 100) * 10 + (
        rng.choice([0, 2, 4, 6, 8]) if female else rng.choice([1, 3, 5, 7, 9])
    )
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_number_check_char(first17)


def demo_name(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    return rng.choice(SURNAMES) + given


def demo_phone(index: int) -> str:
    # 139-0-0xx-xxxx: a block that reads as demo data at a glance.
    return f"1390{index:07d}"
