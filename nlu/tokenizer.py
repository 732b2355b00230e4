"""jieba, loaded once per process, with each customer list's names as its own user words.

The base dictionary (1–3 s to load) is read once; a customer list gets a light copy of its
frequency table with the names added, so lists never leak into each other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

_lock = threading.Lock()
_base: Any = None


def base() -> Any:
    """The process-wide jieba tokenizer with its dictionary loaded (thread-safe, once)."""
    global _base
    if _base is None:
        with _lock:
            if _base is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _base = jieba.dt
    return _base


def word_frequency(word: str) -> int:
    """How common a word is in jieba's general dictionary (0 when unknown)."""
    return int(base().FREQ.get(word, 0) or 0)


class Tokenizer:
    """A jieba tokenizer that knows one customer list's names."""

    def __init__(self, words: Iterable[str] = ()) -> None:
        import jieba

        shared = base()
        self._jieba = jieba.Tokenizer()
        self._jieba.FREQ = dict(shared.FREQ)
        self._jieba.total = shared.total
        self._jieba.initialized = True
        for word in words:
            self.add(word)

    def add(self, word: str, freq: int = 3000) -> None:
        current = self._jieba.FREQ.get(word) or 0
        if current < freq:
            self._jieba.add_word(word, freq)

    def cut(self, text: str) -> list[str]:
        return list(self._jieba.cut(text, HMM=False))
