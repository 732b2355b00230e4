"""A worker process lowers its scheduling priority: every thread's, not only the one that asks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import os, threading
from bot.server import lower_priority
ready, done = threading.Event(), threading.Event()
seen = {}
def run():
    seen["early"] = threading.get_native_id()
    ready.set()
    done.wait()
early = threading.Thread(target=run)
early.start()
ready.wait()
before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
lower_priority(5)
late = threading.Thread(target=lambda: seen.__setitem__("late", os.getpriority(os.PRIO_PROCESS, 0)))
late.start(); late.join()
print(before, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
      os.getpriority(os.PRIO_PROCESS, seen["early"]), seen["late"])
done.set()
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="per-thread priorities are Linux's")
def test_every_thread_of_the_process_is_lowered() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    before, main, early, late = (int(x) for x in out.stdout.split())
    assert (main, early, late) == (min(19, before + 5),) * 3
