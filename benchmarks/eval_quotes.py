"""How well the quote-request reader (``nlu/quotes.py``) does on labelled requests it was not written from.

Run: python benchmarks/eval_quotes.py [tests/data/quote_requests.jsonl]

The set was written by a separate session from ``docs/nlu-quotes.md`` alone, against the price list below. Printed:
request or not (accuracy), and for the requests: the lines exactly right (products, quantities, order), the
ambiguous and unknown items found, the discount, the validity and whether payment terms were seen.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.quotes import Catalog, Item, asks_for_quote, read_request  # noqa: E402

CATALOG = Catalog([
    Item("A100", "A型设备", "台", ("A型",)), Item("A200", "A型配件包", "套"), Item("B300", "B型控制柜", "台", ("B型",)),
    Item("S01", "实施服务", "年", ("实施",)), Item("T01", "现场培训", "人天", ("培训",)),
    Item("M12", "年度维保", "年", ("维保",)), Item("L01", "软件许可", "用户"), Item("X5", "X5服务器", "台"),
])  # fmt: skip
CUSTOMERS = {"杭州瑞达科技有限公司": "瑞达", "华东物流集团": "华东物流", "宁波海天精工": "海天"}
# the second set (quote_requests_2.jsonl), written later by another session against another price list
CATALOG_2 = Catalog([
    Item("P10", "智能仓储机器人", "台", ("机器人", "AGV")), Item("P20", "充电桩", "个"),
    Item("P30", "调度系统软件", "套", ("调度系统",)), Item("P31", "调度系统升级包", "套"),
    Item("SV1", "安装调试", "次", ("安装",)), Item("SV2", "驻场运维", "月", ("驻场",)),
    Item("TR1", "操作培训", "课时", ("培训",)), Item("WX3", "三年延保", "年", ("延保",)),
])  # fmt: skip
CUSTOMERS_2 = {"苏州恒信包装有限公司": "恒信", "成都天府冷链物流有限公司": "天府冷链", "青岛海润食品集团": "海润"}


def mention(text: str) -> str | None:
    for full, short in (CUSTOMERS | CUSTOMERS_2).items():
        for form in (full, short):
            if form in text:
                return form
    return None


def score(path: Path) -> dict[str, float]:
    catalog = CATALOG_2 if path.name.endswith("_2.jsonl") else CATALOG
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    hits: dict[str, list[bool]] = {k: [] for k in ("request", "lines", "ambiguous", "unknown", "discount", "valid",
                                                   "payment")}  # fmt: skip
    misses: list[str] = []
    for item in items:
        asked = asks_for_quote(item["text"])
        hits["request"].append(asked == item["request"])
        if asked != item["request"]:
            misses.append(f"request {asked}: {item['text']}")
        if not item["request"] or not asked:
            continue
        got = read_request(item["text"], catalog, customer=mention(item["text"]))
        lines = [(x.code, float(x.quantity)) for x in got.lines if x.code]
        want = [(x["code"], float(x["quantity"])) for x in item.get("lines", [])]
        checks = {
            "lines": lines == want,
            "ambiguous": len([x for x in got.lines if x.options]) == len(item.get("ambiguous", [])),
            "unknown": len(got.unknown) == len(item.get("unknown", [])),
            "discount": (float(got.rate) if got.rate is not None else None, float(got.off) if got.off else None)
            == (item.get("rate"), float(item["off"]) if item.get("off") else None),
            "valid": (got.valid_days == item.get("valid_days")) if not item.get("valid_until") else
            got.valid_until is not None,
            "payment": (got.payment_terms is not None) == bool(item.get("payment_terms_present")),
        }  # fmt: skip
        for key, ok in checks.items():
            hits[key].append(ok)
            if not ok:
                misses.append(f"{key}: {item['text']} -> {got}")
    if "-v" in sys.argv:
        print("\n".join(misses))
    return {k: sum(v) / len(v) for k, v in hits.items() if v}


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    target = Path(args[0]) if args else ROOT / "tests" / "data" / "quote_requests.jsonl"
    for key, value in score(target).items():
        print(f"{key:10s} {value:.3f}")
