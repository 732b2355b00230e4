"""``genjin parse``: JSON Lines in and out, one answer per line, whatever the line holds."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nlu.tokenizer import base
from tests.conftest import ROOT

SHARED_EVAL = ROOT.parent / "shared" / "eval"


def _run(tmp_path: Path, stdin: bytes, *extra: str) -> list[dict]:  # type: ignore[type-arg]
    customers = tmp_path / "customers.txt"
    customers.write_text("浙江天成建材\n上海瑞达机电\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--customers", str(customers), *extra],
        input=stdin, capture_output=True, cwd=ROOT, timeout=120, check=True,
    )  # fmt: skip
    return [json.loads(line) for line in out.stdout.decode().splitlines()]


def test_one_answer_per_line_in_order_even_for_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "天成建材 合同签了 80万", "now": "2026-11-26T18:30:00+08:00"}),
        "this is not json",
        "",
        json.dumps({"id": "b"}),
        json.dumps([1, 2, 3]),
        json.dumps({"id": "c", "text": "瑞达 下周三演示", "now": "not a time"}),
        json.dumps({"id": "d", "text": "😀😀😀"}),
        json.dumps({"id": "e", "text": "x" * 20_000}),
        json.dumps({"id": "f", "text": "帮助"}),
    ]
    stdin = ("\n".join(lines) + "\n").encode() + b"\xff\xfe junk \x00\x01\n"
    answers = _run(tmp_path, stdin)
    assert len(answers) == len(lines) + 1
    first = answers[0]
    assert first["intent"] == "brief" and first["updates"][0]["customer"] == "浙江天成建材"
    assert first["updates"][0]["stage"] == "won" and first["updates"][0]["amount"] == 800000
    assert "error" in answers[1] and "error" in answers[2] and "error" in answers[4] and "error" in answers[-1]
    assert answers[3] == {"id": "b", "error": "missing text"}
    assert answers[5]["id"] == "c" and "error" in answers[5]
    assert answers[6]["intent"] == "chitchat" and answers[7]["id"] == "e" and answers[8]["intent"] == "command"


def test_default_now_from_the_option_and_offsets(tmp_path: Path) -> None:
    stdin = (
        json.dumps({"id": 1, "text": "瑞达 明天演示"}) + "\n"
        + json.dumps({"id": 2, "text": "瑞达 明天演示", "now": "2026-12-31T20:00:00"}) + "\n"
        + json.dumps({"id": 3, "text": "瑞达 明天演示", "now": "2026-12-31T20:00:00-08:00"}) + "\n"
    ).encode()  # fmt: skip
    answers = _run(tmp_path, stdin, "--now", "2026-06-01T09:00:00+08:00")
    assert [a["updates"][0]["next_action_date"] for a in answers] == ["2026-06-02", "2027-01-01", "2027-01-02"]


def test_starts_answering_quickly(tmp_path: Path) -> None:
    customers = tmp_path / "c.txt"
    customers.write_text("\n".join(f"城市{i}号科技" for i in range(2000)), encoding="utf-8")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "parse", "--customers", str(customers)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdin and proc.stdout
    proc.stdin.write(b'{"id": 1, "text": "hi"}\n')
    proc.stdin.flush()
    assert json.loads(proc.stdout.readline())["id"] == 1
    elapsed = time.monotonic() - started  # streamed before stdin closes
    proc.stdin.close()
    proc.wait(30)
    assert elapsed < 10  # generous hang guard; the figure itself is in benchmarks/bench_parse.py


def test_word_table_loads_once() -> None:
    assert base() is base() and len(base()) > 100_000


def test_missing_customer_file_is_one_clear_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "parse", "--customers", str(tmp_path / "none.txt")],
        input=b"", capture_output=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1 and "none.txt" in out.stderr.decode() and b"Traceback" not in out.stderr


@pytest.mark.skipif(not (SHARED_EVAL / "score_nlu.py").exists(), reason="shared/eval is not beside the project")
@pytest.mark.parametrize(("gold", "customers"), [("nlu_dev", "customers_dev"), ("nlu_dev2", "customers_dev2")])
def test_dev_set_score_stays_above_the_bar(gold: str, customers: str) -> None:
    """Both dev sets through `genjin parse` and the shared scorer, score >= 0.97 (issue #14's bar).

    A guard only: the rules are tested by class on our own examples (test_nlu_v2.py, test_names.py).
    """
    names = str(SHARED_EVAL / f"{customers}.txt")
    out = subprocess.run(
        [sys.executable, str(SHARED_EVAL / "score_nlu.py"), str(SHARED_EVAL / f"{gold}.jsonl"), names,
         "--min", "0.97", "--", sys.executable, "-m", "bot.cli", "parse", "--customers", names],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
