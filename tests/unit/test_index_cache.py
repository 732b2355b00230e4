"""The customer index kept on disk: read back for the same list, grown in place for a longer one, built
for anything else, never read from a folder someone else could write to."""

from __future__ import annotations

import os
import pickle
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from nlu import BriefParser, index_cache
from nlu.customers import CustomerIndex
from nlu.index_cache import cache_dir, load_or_build, load_or_build_later
from tests.namegen import names

NOW = datetime.fromisoformat("2026-11-26T18:30:00+08:00")


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_cache, "MINIMUM", 50)  # the rule, on lists a test can afford


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    built: list[int] = []
    real = CustomerIndex.__init__

    def counting(self: CustomerIndex, customers: list[str]) -> None:
        built.append(len(customers))
        real(self, customers)

    monkeypatch.setattr(CustomerIndex, "__init__", counting)
    return built


def _found(index: object, text: str) -> list[str]:
    parsed = BriefParser(index).parse(text, NOW)  # type: ignore[arg-type]
    return [u.customer for u in parsed.updates]


def test_the_same_list_is_read_back_and_a_longer_one_grows_the_kept_index(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canonical = [g.canonical for g in names(80)]
    built = _count_builds(monkeypatch)
    first = load_or_build(canonical[:60], folder)
    assert built == [60] and oct(folder.stat().st_mode & 0o777) == "0o700"
    again = load_or_build(canonical[:60], folder)
    assert built == [60] and again.names == first.names  # read back, not built
    grown = load_or_build(canonical, folder)  # 20 customers added since: loaded and patched, no build
    assert built == [60] and grown.names == canonical
    brand = grown.parsed[75].brand
    assert _found(grown, f"{brand}确认了需求") == [canonical[75]]
    reordered = load_or_build([canonical[1], canonical[0], *canonical[2:]], folder)  # not a prefix: built
    assert built == [60, 80] and reordered.names[0] == canonical[1]


def test_small_lists_off_and_foreign_folders_build_no_file(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canonical = [g.canonical for g in names(60)]
    load_or_build(canonical[:10], folder)  # below the minimum
    assert not folder.exists()
    assert cache_dir("off") is None and cache_dir("/x/y") == Path("/x/y")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert cache_dir(None) == cache_dir("auto") == Path("/somewhere/genjin")
    folder.mkdir()
    folder.chmod(0o777)  # anyone may write here: a pickle from it could be anybody's code
    load_or_build(canonical, folder)
    assert list(folder.iterdir()) == []


def test_parse_answers_before_it_keeps_a_new_index(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``load_or_build_later`` leaves the writing to its caller; ``genjin parse`` writes once every answer is out
    (1.5 s for 100,000 legal names that the first answer need not wait for), and the next run reads it back."""
    import io

    from bot.parse_command import run_parse

    canonical = [g.canonical for g in names(60)]
    index, keep = load_or_build_later(canonical, folder)
    assert index.names == canonical and not list(folder.glob("*.pickle"))
    keep()
    assert len(list(folder.glob("*.pickle"))) == 1
    assert load_or_build_later(canonical, folder)[1]() is None  # read back: nothing new to keep

    listing = folder.parent / "customers.txt"
    listing.write_text("\n".join(canonical[::-1]) + "\n", encoding="utf-8")  # another list: built by parse
    monkeypatch.setenv("GENJIN_INDEX_CACHE", str(folder))
    kept_when: list[int] = []

    class Out(io.StringIO):
        def write(self, text: str) -> int:
            kept_when.append(len(list(folder.glob("*.pickle"))))
            return super().write(text)

    out = Out()
    brand = index.parsed[3].brand
    lines = [
        f'{{"id": "{n}", "text": "{brand}确认了需求", "now": "2026-11-26T18:30:00+08:00"}}'.encode() for n in (1, 2)
    ]
    assert run_parse(listing, None, lines, out) == 0
    assert kept_when == [1, 1] and len(list(folder.glob("*.pickle"))) == 2  # written after both answers
    assert canonical[3] in out.getvalue()


def test_a_broken_or_foreign_file_is_ignored_and_replaced(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canonical = [g.canonical for g in names(60)]
    load_or_build(canonical, folder)
    (kept,) = folder.glob("customer-index-*.pickle")
    kept.write_bytes(b"not a pickle")
    built = _count_builds(monkeypatch)
    assert load_or_build(canonical, folder).names == canonical and built == [60]
    kept.write_bytes(pickle.dumps(("something", "else")))
    assert load_or_build(canonical, folder).names == canonical and built == [60, 60]
    assert load_or_build(canonical, folder).names == canonical and built == [60, 60]  # the rebuilt one is read
    assert not [p for p in folder.iterdir() if p.name.startswith(".tmp-")]


def test_a_changed_parser_never_reads_an_old_index(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    canonical = [g.canonical for g in names(60)]
    load_or_build(canonical, folder)
    built = _count_builds(monkeypatch)
    monkeypatch.setattr(index_cache, "fingerprint", lambda: "another version of the parser")
    load_or_build(canonical, folder)
    assert built == [60] and len(list(folder.glob("*.pickle"))) == 2
    assert os.stat(folder).st_uid == os.getuid()


def test_links_are_not_followed_and_leftovers_are_swept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link to a folder (or a file) in the cache could lead to someone else's pickle; a half-written file of a
    process stopped mid-write is removed once it is old."""
    canonical = [g.canonical for g in names(60)]
    real = tmp_path / "real"
    load_or_build(canonical, real)
    (kept,) = real.glob("customer-index-*.pickle")
    linked = tmp_path / "linked"
    linked.symlink_to(real, target_is_directory=True)
    built = _count_builds(monkeypatch)
    load_or_build(canonical, linked)  # the folder is a link: built, nothing read or written through it
    assert built == [60] and sorted(p.name for p in real.iterdir()) == [kept.name]
    elsewhere = tmp_path / "elsewhere.pickle"
    kept.rename(elsewhere)
    kept.symlink_to(elsewhere)  # the expected file name, as a link
    load_or_build(canonical, real)
    assert built == [60, 60]
    stale, fresh = real / ".tmp-old", real / ".tmp-new"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(stale, (1, 1))
    load_or_build(canonical, real)
    assert not stale.exists() and fresh.exists()


def _shape(index: CustomerIndex) -> dict[str, object]:
    """Every part of an index, in order where order exists (dicts), sets as sets."""
    shape: dict[str, object] = {}
    for key, value in vars(index).items():
        if key == "tokenizer":
            shape["words"], shape["sizes"] = value._extra, list(value._sizes.items())
        elif isinstance(value, dict):
            shape[key] = list(value.items())
        else:
            shape[key] = value
    return shape


@pytest.mark.parametrize("cut", [0, 1, 37, 79, 80])
def test_an_index_built_in_two_parts_is_the_index_of_one_build(cut: int) -> None:
    generated = names(80)
    customers: list[tuple[str, tuple[str, ...]]] = [(g.canonical, ()) for g in generated]
    customers[5] = (customers[5][0], ("老五", "Wufive"))  # aliases, a Latin one too
    customers[60] = (customers[60][0], ("六十",))
    customers.insert(70, ("  ", ()))  # an empty name: skipped by both
    customers.insert(75, (customers[72][0], ()))  # a name twice in the later part: kept once
    whole = CustomerIndex(customers)
    first = CustomerIndex(customers[:cut])
    assert first.extend(CustomerIndex(customers[cut:]))
    assert _shape(first) == _shape(whole)
    brand = whole.parsed[60].brand
    assert _found(first, f"{brand}确认了需求") == _found(whole, f"{brand}确认了需求") == [customers[60][0]]


def test_a_name_in_both_parts_is_refused_and_nothing_changes() -> None:
    canonical = [g.canonical for g in names(30)]
    first = CustomerIndex(canonical[:20])
    before = _shape(first)
    assert not first.extend(CustomerIndex(canonical[15:]))
    assert _shape(first) == before


def test_a_long_list_is_built_in_two_processes_as_one_build(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(index_cache, "PARALLEL_MINIMUM", 50)
    monkeypatch.setattr(index_cache, "_cores", lambda: 2)
    canonical = [g.canonical for g in names(120)]
    customers: list[tuple[str, tuple[str, ...]]] = [(name, ()) for name in [*canonical, canonical[3]]]  # known twice
    extended: list[int] = []
    real = CustomerIndex.extend

    def counting(self: CustomerIndex, later: CustomerIndex) -> bool:
        extended.append(len(later.names))
        return real(self, later)

    monkeypatch.setattr(CustomerIndex, "extend", counting)
    assert _shape(index_cache.build(customers[:120])) == _shape(CustomerIndex(customers[:120]))
    assert extended == [48]  # the helper built the last two fifths
    # a duplicate across the parts, or a helper that fails: the rest is built here, the same index
    assert _shape(index_cache.build(customers)) == _shape(CustomerIndex(customers))
    monkeypatch.setattr(sys, "executable", "/bin/false")
    assert _shape(index_cache.build(customers[:120])) == _shape(CustomerIndex(customers[:120]))
    junk = tmp_path / "junk"  # a helper that answers with something that is no index, and says all went well
    junk.write_text("#!/bin/sh\ncat >/dev/null\necho not-a-pickle\n")
    junk.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(junk))
    assert _shape(index_cache.build(customers[:120])) == _shape(CustomerIndex(customers[:120]))
    stuck = tmp_path / "stuck"  # a helper that never answers: stopped once waited for, its part built here
    stuck.write_text('#!/bin/sh\necho $$ > "$0.pid"\nexec sleep 60\n')
    stuck.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(stuck))
    monkeypatch.setattr(index_cache, "HELPER_WAIT", 0.2)
    started = time.monotonic()
    assert _shape(index_cache.build(customers[:120])) == _shape(CustomerIndex(customers[:120]))
    assert time.monotonic() - started < 30  # not waited for to the end of its minute
    pid = int((tmp_path / "stuck.pid").read_text())
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pid, 0)
    assert extended == [48, 49]
