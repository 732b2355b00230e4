"""Would a learned intent layer help the rules? Measured, not assumed (issue #14).

Run: python benchmarks/eval_intent_model.py

Trains a character n-gram logistic regression on the intent and query kind of the sets we worked on
(tests/data/eval setB, setC, setE) and compares, on the sets kept back (setA, setD) and on the shared
dev sets when they are beside the project: the rules alone, the model alone, and the rules overruled
by the model when it is confident. The parser ships rules only while the combination does not win
clearly on the kept-back sets.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from nlu import BriefParser  # noqa: E402

SETS = ROOT / "tests" / "data" / "eval"
SHARED = ROOT.parent / "shared" / "eval"
TRAIN = ("setB", "setC", "setE")
THRESHOLDS = (0.6, 0.8, 0.9)


def load(gold: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines() if line.strip()]


def label(expect: dict) -> str:  # type: ignore[type-arg]
    return f"{expect['intent']}:{expect.get('query') or ''}"


def main() -> None:
    texts, labels = [], []
    for name in TRAIN:
        for item in load(SETS / name / "gold.jsonl"):
            texts.append(item["text"])
            labels.append(label(item["expect"]))
    model = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True),
        LogisticRegression(C=10, max_iter=2000),
    )
    model.fit(texts, labels)
    tests = {"setA": (SETS / "setA" / "gold.jsonl", SETS / "setA" / "customers.txt"),
             "setD": (SETS / "setD" / "gold.jsonl", SETS / "setD" / "customers.txt")}  # fmt: skip
    if (SHARED / "nlu_dev2.jsonl").exists():
        tests["nlu_dev2"] = (SHARED / "nlu_dev2.jsonl", SHARED / "customers_dev2.txt")
    print(f"trained on {len(texts)} messages of {', '.join(TRAIN)}; intent+query accuracy:")
    for name, (gold, customers) in tests.items():
        items = load(gold)
        parser = BriefParser([n.strip() for n in customers.read_text(encoding="utf-8").splitlines() if n.strip()])
        right = {"rules": 0, "model": 0, **{f"rules, model above {t}": 0 for t in THRESHOLDS}}
        for item in items:
            want = label(item["expect"])
            parsed = parser.parse(item["text"], datetime.fromisoformat(item["now"]))
            rules = f"{parsed.intent}:{parsed.query or ''}"
            probs = model.predict_proba([item["text"]])[0]
            best = int(probs.argmax())
            guess, p = model.classes_[best], probs[best]
            right["rules"] += rules == want
            right["model"] += guess == want
            for t in THRESHOLDS:
                right[f"rules, model above {t}"] += (guess if p > t else rules) == want
        cells = ", ".join(f"{k} {v / len(items):.3f}" for k, v in right.items())
        print(f"  {name} ({len(items)}): {cells}")


if __name__ == "__main__":
    main()
