"""Company names in the shapes a Chinese CRM export holds them, and the forms reps write them in.

Used by the name-model tests and by benchmarks/bench_parse.py: thousands of names, reproducible
from a seed, none of them from a dev set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# (province, city, district or ""): places that really go together.
PLACES = [
    ("江苏", "无锡", "惠山"),
    ("江苏", "苏州", "吴中"),
    ("江苏", "常州", "武进"),
    ("江苏", "南京", "江宁"),
    ("江苏", "南通", ""),
    ("江苏", "昆山", ""),
    ("浙江", "宁波", "北仑"),
    ("浙江", "杭州", "余杭"),
    ("浙江", "温州", "瓯海"),
    ("浙江", "绍兴", "柯桥"),
    ("浙江", "台州", "黄岩"),
    ("浙江", "义乌", ""),
    ("广东", "东莞", ""),
    ("广东", "佛山", "顺德"),
    ("广东", "深圳", "南山"),
    ("广东", "广州", "番禺"),
    ("广东", "中山", ""),
    ("山东", "青岛", "黄岛"),
    ("山东", "潍坊", ""),
    ("山东", "临沂", "兰山"),
    ("福建", "厦门", "集美"),
    ("福建", "泉州", ""),
    ("四川", "成都", "武侯"),
    ("湖北", "武汉", "洪山"),
    ("湖南", "长沙", "岳麓"),
    ("河南", "郑州", "金水"),
    ("河北", "保定", ""),
    ("安徽", "合肥", "蜀山"),
    ("辽宁", "沈阳", "铁西"),
    ("陕西", "西安", "雁塔"),
]
# A trade as the name has it, and the shorter forms reps write.
TRADES = [
    ("纺织机械", ("纺机", "纺织机械")),
    ("医疗器械", ("医疗", "器械", "医疗器械")),
    ("国际货运代理", ("货运", "国际货运", "货代")),
    ("塑胶制品", ("塑胶",)),
    ("电子科技", ("电子", "科技")),
    ("电气设备", ("电气",)),
    ("汽车零部件", ("汽配", "零部件")),
    ("新能源科技", ("新能源",)),
    ("食品", ("食品",)),
    ("物流", ("物流",)),
    ("环境工程", ("环境", "环境工程")),
    ("电子商务", ("电商",)),
    ("精密机械", ("精密", "机械")),
    ("生物科技", ("生物",)),
    ("建材", ("建材",)),
    ("智能装备", ("智能", "装备")),
    ("供应链管理", ("供应链",)),
    ("家具", ("家具",)),
    ("陶瓷", ("陶瓷",)),
    ("包装材料", ("包装",)),
]
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司", "有限责任公司")
# Rare characters, so that brands are not everyday words.
_CHARS = (
    "瑞鑫泓澜峰骁曜晟铂翔楷岑沣珩栎屹澄芮淞畔骋峤岘沅隽畦楠琨瑾璞珑琰骐麒璟翎钰铖锟镕烨焱炜熠昶旻晞霖沛渤淼溢湃鸿鹏"
)
_LATIN = ("Nordvik", "Solano", "Keystar", "Brightpath", "Altamira", "Veridian", "Corvid", "Halden", "Mistral", "Quorra")
_LATIN_TRADES = ("Logistics", "Medical", "Optics", "Motion", "Materials")


@dataclass(frozen=True)
class GenName:
    canonical: str
    brand: str
    province: str
    city: str
    trade: str
    written: tuple[str, ...]  # the trade's short forms


def _brand(rng: random.Random, taken: set[str]) -> str:
    while True:
        brand = "".join(rng.sample(_CHARS, rng.choice((2, 3, 3))))
        if brand not in taken:
            taken.add(brand)
            return brand


def names(count: int, seed: int = 7) -> list[GenName]:
    """``count`` distinct legal names with distinct brands."""
    rng = random.Random(seed)
    taken: set[str] = set()
    out: list[GenName] = []
    for i in range(count):
        brand = _brand(rng, taken)
        province, city, district = rng.choice(PLACES)
        trade, written = rng.choice(TRADES)
        suffix = rng.choice(SUFFIXES)
        shape = i % 6
        if shape == 0:
            canonical = f"{province}省{city}市{district + '区' if district else ''}{brand}{trade}{suffix}"
        elif shape == 1:
            canonical = f"{city}市{brand}{trade}{suffix}"
        elif shape == 2:
            canonical = f"{brand}{trade}（{city}）有限公司"
        elif shape == 3:
            canonical = f"{province}{brand}{trade}{suffix}"
        elif shape == 4:
            canonical = f"{province}省{city}市{brand}{trade}{suffix}"
        else:
            canonical = f"{city}{brand}{trade}"
        out.append(GenName(canonical, brand, province, city, trade, written))
    return out


def latin_names(count: int, seed: int = 11) -> list[GenName]:
    rng = random.Random(seed)
    out = []
    for latin in _LATIN[:count]:
        province, city, _ = rng.choice(PLACES)
        trade = rng.choice(_LATIN_TRADES)
        out.append(GenName(f"{latin} {trade} ({city}) Co., Ltd.", latin, province, city, trade, (trade,)))
    return out


def other_city(name: GenName, rng: random.Random) -> str:
    """A city in another province than the name's: written before its brand, it is another company."""
    while True:
        province, candidate, _ = rng.choice(PLACES)
        if province != name.province:
            return candidate
