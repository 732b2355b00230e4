"""Word edges and how common a word is, from a compact word table, without loading jieba.

The parser needs two things of a dictionary: where words end (so that a short name is not read
inside a longer word: 长城 in 爬长城的时候) and whether a form is an everyday word (光明, 一下).
jieba's full dictionary takes over a second to load; ``nlu/data/words.txt.gz`` holds its words of
two to four Chinese characters that occur at least five times, in frequency bands (made by
``python -m nlu.tokenizer``, from jieba 0.42.1's dict.txt, MIT licence). Loading it takes a tenth
of that. Edges come from backward maximum matching over the table and the customer list's forms.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterable
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "words.txt.gz"
# Frequency bands: a word's frequency is read as the lower edge of its band.
BANDS = (5, 50, 300, 5000, 20000)
_MAX_WORD = 4

_lock = threading.Lock()
_words: dict[str, int] | None = None


def words() -> dict[str, int]:
    """The process-wide word table (thread-safe, loaded once)."""
    global _words
    if _words is None:
        with _lock:
            if _words is None:
                table: dict[str, int] = {}
                lines = gzip.decompress(TABLE.read_bytes()).decode("utf-8").split("\n")
                for band, line in zip(BANDS, lines, strict=False):
                    table.update(dict.fromkeys(line.split(" "), band))
                table.pop("", None)
                _words = table
    return _words


def base() -> dict[str, int]:
    """Load the table now (start-up warms it so that the first message does not wait)."""
    return words()


def word_frequency(word: str) -> int:
    """How common a word is (the lower edge of its band; 0 when it is rare or unknown)."""
    return words().get(word, 0)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


class Tokenizer:
    """Words of one customer list on top of the shared table; lists never leak into each other."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self._table = words()
        self._extra: set[str] = set()
        self._sizes: dict[str, tuple[int, ...]] = {}  # last character → the lengths of words ending in it
        for word in extra:
            self.add(word)

    def __getstate__(self) -> dict[str, object]:
        """Saved without the shared word table (millions of entries), which every process loads once."""
        return {k: v for k, v in self.__dict__.items() if k != "_table"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._table = words()

    def add(self, word: str) -> None:
        if len(word) >= 2 and word not in self._extra:
            self._extra.add(word)
            sizes = self._sizes.get(word[-1], ())
            if len(word) not in sizes:  # most words add a length already known for their last character
                self._sizes[word[-1]] = tuple(sorted((*sizes, len(word)), reverse=True))

    def extend(self, other: Tokenizer) -> None:
        """Take in the words of another list's tokenizer (an index built in two parts)."""
        self._extra |= other._extra
        for last, sizes in other._sizes.items():
            self._sizes[last] = tuple(sorted({*self._sizes.get(last, ()), *sizes}, reverse=True))

    def remove(self, word: str) -> None:
        """A customer's word no more (the lengths by last character stay: they only bound what is looked up)."""
        self._extra.discard(word)

    def _known(self, piece: str) -> bool:
        return piece in self._extra or piece in self._table

    def cut(self, text: str) -> list[str]:
        """Backward maximum matching over Chinese runs; anything else one character at a time."""
        tokens: list[str] = []
        end = len(text)
        while end > 0:
            size = 1
            if _is_cjk(text[end - 1]):
                longer = [n for n in self._sizes.get(text[end - 1], ()) if _MAX_WORD < n <= end]
                for n in longer + list(range(min(_MAX_WORD, end), 1, -1)):
                    if self._known(text[end - n : end]):
                        size = n
                        break
            tokens.append(text[end - size : end])
            end -= size
        tokens.reverse()
        return tokens

    def edges(self, text: str) -> set[int]:
        """Every position where a word starts or ends."""
        out = {0}
        pos = 0
        for token in self.cut(text):
            pos += len(token)
            out.add(pos)
        return out


def build_table(dict_txt: Path, out: Path = TABLE) -> int:
    """Write the word table from jieba's dict.txt; returns how many words it holds."""
    bands: list[list[str]] = [[] for _ in BANDS]
    for line in dict_txt.read_text(encoding="utf-8").splitlines():
        word, freq, *_ = line.split()
        if not (2 <= len(word) <= _MAX_WORD and all(_is_cjk(ch) for ch in word)) or int(freq) < BANDS[0]:
            continue
        band = max(i for i, edge in enumerate(BANDS) if int(freq) >= edge)
        bands[band].append(word)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(gzip.compress("\n".join(" ".join(sorted(b)) for b in bands).encode("utf-8"), 9, mtime=0))
    return sum(map(len, bands))


if __name__ == "__main__":
    import jieba

    print(build_table(Path(jieba.__file__).parent / "dict.txt"), "words written to", TABLE)
