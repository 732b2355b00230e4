"""The brief parser built for a customer list: shared by the server (in a thread) and ``genjin parse``, and kept light
to import (``genjin parse`` answers its first line in seconds)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from usecases.heavy import collector_paused

if TYPE_CHECKING:
    from nlu import BriefParser


def build_parser(
    names: Sequence[str | tuple[str, Sequence[str]]], folder: Path | None, *, freeze: bool = False
) -> tuple[BriefParser, Callable[[], None]]:
    """The parser, with the pinyin tables loaded too (typos are told by sound; imported later, at the first typo, with
    the collector walking the whole index, they took 1.0 s instead of 0.1); a large index is read back from ``folder``
    when this list (or the start of it) was built before. Made with the collector paused: millions of small objects, all
    kept, no cycles to find. With ``freeze`` (a command that does nothing else) they are frozen out of the collector
    before it runs again; a server, whose requests make garbage meanwhile that a freeze would keep for ever, freezes
    once its warm-up is done (``bot/server.py``). The keeping of a new index on disk is returned, for the caller to do
    when it suits it (``genjin parse``: after its answers)."""
    import gc

    from nlu.customers import warm_sounds
    from nlu.index_cache import load_or_build_later
    from nlu.parser import BriefParser

    with collector_paused():
        warm_sounds()
        index, keep = load_or_build_later(names, folder)
        parser = BriefParser(index)
        if freeze:  # inside the pause: the first collection after it would walk the whole index once more
            gc.freeze()
    return parser, keep
