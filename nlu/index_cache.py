"""A built customer index kept on disk, keyed by the customer list and the parser's own code.

Building the index of 100,000 legal names takes about 4.5 s in one process (3.6–3.9 s in two, ``build``) and twice
that on a slow day; loading it back takes one to two seconds. So ``genjin parse`` and ``genjin serve`` build once per
customer list and code version and load after that. The cache is a pickle, so it is read only from a real folder (not a
link) that belongs to this user and that nobody else can write to, and only files of the same kind are opened (no links
followed); anything odd about the folder or a file means a plain build.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import hashlib
import json
import logging
import os
import pickle
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the index itself is imported when one is built or read: ``cache_dir`` alone stays cheap
    from nlu.customers import CustomerIndex

log = logging.getLogger("genjin.nlu")

FORMAT = 1  # bump when the index's shape changes in a way the code fingerprint would not show
MINIMUM = 5_000  # below this a build is quicker than reading a file
KEEP = 3  # cache files kept (a few customer lists, e.g. an org and its test copy)
PREFIX = "customer-index-"
PARALLEL_MINIMUM = 20_000  # from here a second process builds part of a new index (it costs it ~0.3 s to start)
HELPER_WAIT = 30.0  # seconds the helper is waited for once this process's part is built (or twice that part's time)

Customers = list[tuple[str, tuple[str, ...]]]


def cache_dir(setting: str | None) -> Path | None:
    """Where the index is kept: ``off`` means nowhere, ``auto`` (or nothing) the user's cache folder."""
    value = (setting or "auto").strip()
    if value.lower() in ("off", "none", "0", "false"):
        return None
    if value.lower() != "auto":
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "genjin"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """The parser's code and data: a changed parser never reads an index built by the old one."""
    # the Python and Unicode versions too: NFKC folding and pickles follow them
    digest = hashlib.sha256(f"{FORMAT}:{sys.version}:{unicodedata.unidata_version}".encode())
    root = Path(__file__).resolve().parent
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".gz") and p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def build(customers: Customers) -> CustomerIndex:
    """A new index of ``customers``. A long list on a machine of two cores or more is built in two processes: a
    helper builds the later part while this one builds the first, then this one takes the helper's part in
    (``CustomerIndex.extend``: the index one build gives). 100,000 legal names: about 4.5 -> 3.6-3.9 s (not half: the
    helper's start and pickle, the part's unpickling and taking in). Whatever goes wrong with the helper, the later
    part is built here after all."""
    from nlu.customers import CustomerIndex

    if len(customers) < PARALLEL_MINIMUM or _cores() < 2:
        return CustomerIndex(customers)
    cut = len(customers) * 3 // 5  # this process also reads the helper's part back and takes it in
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    try:  # -P: nothing from the current folder (an nlu/ or a json.py there) is imported by the helper
        helper = subprocess.Popen([sys.executable, "-P", "-m", "nlu.index_cache"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)  # fmt: skip
    except OSError as exc:
        log.warning("index helper did not start (%s): one process builds", exc)
        return CustomerIndex(customers)
    received: list[bytes] = []
    request = pickle.dumps(customers[cut:], protocol=pickle.HIGHEST_PROTOCOL)
    # a daemon thread, and the helper killed at exit: a stop asked for during a build must not wait for it
    talk = threading.Thread(target=lambda: received.append(helper.communicate(request)[0]), daemon=True)
    atexit.register(helper.kill)
    try:
        talk.start()
        started = time.monotonic()
        index = CustomerIndex(customers[:cut])
        talk.join(timeout=max(HELPER_WAIT, 2 * (time.monotonic() - started)))  # a stuck helper: its part built here
        stuck = helper.poll() is None
        if not stuck:
            talk.join(timeout=5)  # done just now: its output is being handed over
    finally:
        if helper.poll() is None:
            helper.kill()
        atexit.unregister(helper.kill)
    code = helper.wait()  # reaped here, always: a helper killed while its output was still being read was left a zombie
    output = received.pop() if received and code == 0 else b""
    try:
        part = pickle.loads(output) if output else None
    except Exception:  # a helper cut short: its part is built here
        part = None
    del output
    if not isinstance(part, CustomerIndex) or not index.extend(part):
        if stuck:
            log.warning("index helper took too long and was stopped: the rest built here")
        elif part is None:
            log.warning("index helper failed (exit %s): the rest built here", helper.returncode)
        for name, aliases in customers[cut:]:
            index.add(name, aliases)
    return index


def _cores() -> int:
    """The cores this process may run on (a container's CPU set), not the machine's."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _build_part() -> None:
    """The helper of ``build``: a list of customers in (a pickle on stdin), their index out (on stdout)."""
    from nlu.customers import CustomerIndex

    gc.disable()  # millions of small objects, all kept until the process ends
    customers = pickle.load(sys.stdin.buffer)
    pickle.dump(CustomerIndex(customers), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
    sys.stdout.buffer.flush()


def _list_key(customers: Customers) -> str:
    listing = json.dumps([[name, list(aliases)] for name, aliases in customers], ensure_ascii=False)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()[:16]


def _ours(info: os.stat_result, kind: int) -> bool:
    """Ours and writable by nobody else: a pickle from anywhere else could run someone else's code."""
    return stat.S_IFMT(info.st_mode) == kind and info.st_uid == os.getuid() and not info.st_mode & 0o022


def _private(folder: Path) -> bool:
    try:
        return _ours(folder.lstat(), stat.S_IFDIR)  # lstat: a link to a folder is not the folder
    except OSError:
        return False


def load_or_build(items: Iterable[str | tuple[str, Sequence[str]]], folder: Path | None) -> CustomerIndex:
    """The index of the customers (names, or names with aliases, in the order they were added).

    Read back when this very list was built before. A list that only grew since the newest index kept
    (customers are added at the end) loads that one and adds the new names to it, so a company that adds
    customers every day does not pay for a full build on each restart. Anything else is built, and kept.
    """
    index, keep = load_or_build_later(items, folder)
    keep()
    return index


def load_or_build_later(
    items: Iterable[str | tuple[str, Sequence[str]]], folder: Path | None
) -> tuple[CustomerIndex, Callable[[], None]]:
    """``load_or_build``, with the writing of a new or grown index left to the caller (the returned function, which
    does nothing when there is nothing to keep): writing 100,000 legal names takes 1.5 s, which the first answer
    need not wait for."""

    def nothing() -> None:
        return None

    customers = [(item, tuple(())) if isinstance(item, str) else (item[0], tuple(item[1])) for item in items]
    if folder is None or len(customers) < MINIMUM or not _usable(folder):
        return build(customers), nothing
    code = fingerprint()[:16]
    path = folder / f"{PREFIX}{code}-{_list_key(customers)}.pickle"
    candidates = [path] if path.exists() else []
    candidates += sorted(folder.glob(f"{PREFIX}{code}-*.pickle"), key=_mtime, reverse=True)[:1]
    for candidate in dict.fromkeys(candidates):
        loaded = _load(candidate)
        if loaded is None:
            continue
        known, index = loaded
        if customers[: len(known)] == known:
            for name, aliases in customers[len(known) :]:
                index.add(name, aliases)
            if len(customers) - len(known) >= MINIMUM // 5:  # worth keeping the grown index
                return index, partial(_keep, customers, index, folder, path)
            return index, nothing
        del loaded, known, index  # another list's index: not kept in memory beside the new build
    index = build(customers)
    return index, partial(_keep, customers, index, folder, path)


def _usable(folder: Path) -> bool:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("customer index cache %s unusable (%s): building", folder, exc)
        return False
    if not _private(folder):
        log.warning("customer index cache %s is not private to this user: not used", folder)
        return False
    _sweep(folder)
    return True


def _sweep(folder: Path, older_than: float = 3600.0) -> None:
    """Half-written files of a process stopped mid-write (its build thread is not waited for at exit)."""
    for leftover in folder.glob(".tmp-*"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.lstat().st_mtime > older_than:
                leftover.unlink()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _load(path: Path) -> tuple[list[tuple[str, tuple[str, ...]]], CustomerIndex] | None:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:  # missing, or a link
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            if not _ours(os.fstat(handle.fileno()), stat.S_IFREG):
                log.warning("customer index cache %s is not this user's own file: not read", path.name)
                return None
            known, index = pickle.load(handle)
    except Exception as exc:  # a truncated or foreign file: ignored (and replaced by the next build)
        log.warning("customer index cache %s unreadable (%s)", path.name, exc)
        return None
    from nlu.customers import CustomerIndex

    if not isinstance(index, CustomerIndex) or not isinstance(known, list):
        return None
    return known, index


def _keep(customers: Customers, index: CustomerIndex, folder: Path, path: Path) -> None:
    """Written to a temporary file and renamed, so a reader never sees half a file; the oldest pruned."""
    temporary: str | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tmp-", delete=False) as handle:
            temporary = handle.name
            pickle.dump((list(customers), index), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
        temporary = None
        kept = sorted(folder.glob(f"{PREFIX}*.pickle"), key=_mtime, reverse=True)
        for old in kept[KEEP:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("customer index not kept in %s: %s", folder, exc)
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


if __name__ == "__main__":
    _build_part()
